/*
 * boards/host — the hal for the firmware running as a Linux process.
 *
 * "Interrupts" are the moments hal_board_idle finds input: it reads what is waiting into the UART
 * rings and calls the notify hooks, exactly where an interrupt handler would on the appliance.
 * The process is single-threaded, so masking interrupts needs no lock.
 */
#include <errno.h>
#include <string.h>

#include "host_bottom.h"
#include "hal/board.h"
#include "hal/clock.h"
#include "hal/eth.h"
#include "hal/nv.h"
#include "hal/ringbuf.h"
#include "hal/secret.h"
#include "hal/uart.h"
#include "hal/wdt.h"
#include "signet_config.h"

struct host_uart {
    struct ringbuf rx;
    bool open;
    bool eof; /* peer closed: reads report -EPIPE once the ring is drained */
    hal_uart_notify_fn notify;
    void *notify_ctx;
    struct hal_uart_stats stats;
};

static uint8_t console_rx_buf[HOST_UART_CONSOLE_RX];
static uint8_t hsm_rx_buf[HOST_UART_HSM_RX];
static struct host_uart uarts[HAL_UART_COUNT];
static int64_t wall_offset;
static uint32_t wdt_timeout_ms;
static hal_eth_notify_fn eth_notify;
static void *eth_notify_ctx;
static bool eth_open;

/* ---- board ---- */

void hal_board_init(void)
{
    ringbuf_init(&uarts[HAL_UART_CONSOLE].rx, console_rx_buf, sizeof(console_rx_buf));
    ringbuf_init(&uarts[HAL_UART_HSM].rx, hsm_rx_buf, sizeof(hsm_rx_buf));
    wall_offset = hb_wall_offset();
}

const char *hal_board_name(void)
{
    return "host";
}

enum hal_reset_reason hal_board_reset_reason(void)
{
    int r = hb_reset_reason();
    return (r >= HAL_RESET_POWER_ON && r <= HAL_RESET_FAULT) ? (enum hal_reset_reason)r
                                                             : HAL_RESET_POWER_ON;
}

uint32_t hal_irq_save(void)
{
    return 0;
}

void hal_irq_restore(uint32_t state)
{
    (void)state;
}

_Noreturn void hal_board_reset(enum hal_reset_reason why)
{
    hb_reexec((int)why, wall_offset);
}

static void pull_console(void)
{
    struct host_uart *u = &uarts[HAL_UART_CONSOLE];
    uint8_t buf[512];
    uint32_t room = ringbuf_free(&u->rx);

    if (room == 0)
        return; /* leave it in the pipe: that is our flow control */
    int n = hb_console_read(buf, room < sizeof(buf) ? room : sizeof(buf));
    if (n == 0)
        hb_exit(0); /* input closed: the operator pulled the plug */
    if (n < 0)
        return;
    ringbuf_write(&u->rx, buf, (size_t)n);
    u->stats.rx_bytes += (uint32_t)n;
    if (u->notify)
        u->notify(u->notify_ctx);
}

static void pull_hsm(void)
{
    struct host_uart *u = &uarts[HAL_UART_HSM];
    uint8_t buf[4096];
    uint32_t room = ringbuf_free(&u->rx);

    if (room == 0)
        return;
    int n = hb_hsm_read(buf, room < sizeof(buf) ? room : sizeof(buf));
    if (n == -EAGAIN)
        return;
    if (n <= 0) {
        hb_hsm_close();
        u->open = false;
        u->eof = true;
    } else {
        ringbuf_write(&u->rx, buf, (size_t)n);
        u->stats.rx_bytes += (uint32_t)n;
    }
    if (u->notify)
        u->notify(u->notify_ctx);
}

void hal_board_idle(uint32_t max_ms)
{
    unsigned ready = hb_poll(max_ms);

    if (ready & HB_CONSOLE_READY)
        pull_console();
    if (ready & HB_HSM_READY)
        pull_hsm();
    if ((ready & HB_ETH_READY) && eth_notify)
        eth_notify(eth_notify_ctx);
}

/* ---- clock ---- */

uint64_t hal_clock_ms(void)
{
    return hb_monotonic_ms();
}

int hal_clock_wall_get(int64_t *secs)
{
    *secs = hb_realtime_s() + wall_offset;
    return 0;
}

int hal_clock_wall_set(int64_t secs)
{
    /* The host's clock is not ours to change: keep an offset, carried across resets. */
    wall_offset = secs - hb_realtime_s();
    return 0;
}

/* ---- uart ---- */

int hal_uart_open(enum hal_uart_id id)
{
    struct host_uart *u = &uarts[id];
    int ret = 0;

    if (id == HAL_UART_HSM && !u->open) {
        const char *path = hb_hsm_path();
        if (!path)
            return -ENODEV;
        ret = hb_hsm_connect(path);
    }
    if (ret == 0) {
        u->open = true;
        u->eof = false;
    }
    return ret;
}

void hal_uart_close(enum hal_uart_id id)
{
    struct host_uart *u = &uarts[id];

    if (id == HAL_UART_HSM)
        hb_hsm_close();
    u->open = false;
    u->rx.head = u->rx.tail = 0;
}

bool hal_uart_is_open(enum hal_uart_id id)
{
    return uarts[id].open;
}

void hal_uart_set_notify(enum hal_uart_id id, hal_uart_notify_fn fn, void *ctx)
{
    uarts[id].notify = fn;
    uarts[id].notify_ctx = ctx;
}

int hal_uart_read(enum hal_uart_id id, void *buf, size_t cap)
{
    struct host_uart *u = &uarts[id];
    size_t n = ringbuf_read(&u->rx, buf, cap);

    if (n == 0 && u->eof)
        return -EPIPE;
    return (int)n;
}

int hal_uart_write(enum hal_uart_id id, const void *buf, size_t len)
{
    int ret = hal_uart_write_all(id, buf, len);
    return ret ? ret : (int)len;
}

int hal_uart_write_all(enum hal_uart_id id, const void *buf, size_t len)
{
    int ret = id == HAL_UART_CONSOLE ? hb_console_write(buf, len) : hb_hsm_write(buf, len);
    if (ret == 0)
        uarts[id].stats.tx_bytes += (uint32_t)len;
    return ret;
}

void hal_uart_stats(enum hal_uart_id id, struct hal_uart_stats *out)
{
    *out = uarts[id].stats;
}

/* ---- nv: a file with NOR rules, so the store is exercised as it is on flash ---- */

/* The file: the store's blocks, then the audit ring's. */
static const uint32_t region_first[] = {[HAL_NV_STORE] = 0, [HAL_NV_AUDIT] = HOST_NV_BLOCKS};
static const uint32_t region_blocks[] = {
    [HAL_NV_STORE] = HOST_NV_BLOCKS, [HAL_NV_AUDIT] = HOST_AUDIT_BLOCKS};
static bool nv_ready;

int hal_nv_open(enum hal_nv_region r, struct hal_nv_geometry *geo)
{
    const char *path = hb_nv_path();
    int ret;

    if (!path)
        return -ENODEV;
    if (!nv_ready) {
        ret = hb_nv_open(path, (size_t)HOST_NV_BLOCK_SIZE * (HOST_NV_BLOCKS + HOST_AUDIT_BLOCKS));
        if (ret)
            return ret;
        nv_ready = true;
    }
    geo->block_size = HOST_NV_BLOCK_SIZE;
    geo->block_count = region_blocks[r];
    geo->write_align = HOST_NV_WRITE_ALIGN;
    return 0;
}

/* The file offset of off in region r, when [off, off + len) lies inside it. */
static bool nv_range_ok(enum hal_nv_region r, uint32_t off, size_t len, uint64_t *at)
{
    size_t size = (size_t)HOST_NV_BLOCK_SIZE * region_blocks[r];

    *at = (uint64_t)region_first[r] * HOST_NV_BLOCK_SIZE + off;
    return nv_ready && len <= size && off <= size - len;
}

int hal_nv_read(enum hal_nv_region r, uint32_t off, void *buf, size_t len)
{
    uint64_t at;

    if (!nv_range_ok(r, off, len, &at))
        return -EINVAL;
    return hb_nv_pread(buf, len, at);
}

int hal_nv_program(enum hal_nv_region r, uint32_t off, const void *buf, size_t len)
{
    uint8_t cur[256];
    const uint8_t *src = buf;
    uint64_t at;

    if (!nv_range_ok(r, off, len, &at) || off % HOST_NV_WRITE_ALIGN || len % HOST_NV_WRITE_ALIGN)
        return -EINVAL;
    if (r == HAL_NV_AUDIT && hb_audit_power_cut_due()) {
        len = len / 2 / HOST_NV_WRITE_ALIGN * HOST_NV_WRITE_ALIGN;
        (void)hal_nv_program(r, off, buf, len); /* what was written when the power went */
        hb_exit(99);
    }
    for (size_t done = 0; done < len;) {
        size_t n = len - done < sizeof(cur) ? len - done : sizeof(cur);
        int ret = hb_nv_pread(cur, n, at + done);
        if (ret)
            return ret;
        for (size_t i = 0; i < n; i++)
            cur[i] &= src[done + i]; /* programming only clears bits */
        ret = hb_nv_pwrite(cur, n, at + done);
        if (ret)
            return ret;
        done += n;
    }
    return 0;
}

int hal_nv_erase(enum hal_nv_region r, uint32_t block)
{
    uint8_t ff[4096];
    uint64_t at;

    if (block >= region_blocks[r] ||
        !nv_range_ok(r, block * HOST_NV_BLOCK_SIZE, HOST_NV_BLOCK_SIZE, &at))
        return -EINVAL;
    memset(ff, 0xff, sizeof(ff));
    for (uint32_t off = 0; off < HOST_NV_BLOCK_SIZE; off += sizeof(ff)) {
        int ret = hb_nv_pwrite(ff, sizeof(ff), at + off);
        if (ret)
            return ret;
    }
    return 0;
}

/* ---- secret: a file of its own beside the NV file (hal/secret.h) ---- */

/* The file is this tag, then the secret: a file of another kind is never taken for a PIN. */
static const uint8_t secret_magic[4] = {'S', 'G', 'S', '1'};

static void wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;
    while (n--)
        *v++ = 0;
}

int hal_secret_store(const void *buf, size_t len)
{
    uint8_t rec[sizeof(secret_magic) + HAL_SECRET_MAX];
    int ret = -EINVAL;

    if (len == 0 || len > HAL_SECRET_MAX)
        goto out;
    memcpy(rec, secret_magic, sizeof(secret_magic));
    memcpy(rec + sizeof(secret_magic), buf, len);
    ret = hb_secret_write(rec, sizeof(secret_magic) + len);
out:
    wipe(rec, sizeof(rec));
    return ret;
}

int hal_secret_load(void *buf, size_t cap, size_t *len)
{
    uint8_t rec[sizeof(secret_magic) + HAL_SECRET_MAX];
    size_t n = 0;
    int ret = hb_secret_read(rec, sizeof(rec), &n);

    *len = 0;
    if (ret)
        goto out;
    ret = -EBADMSG;
    if (n <= sizeof(secret_magic) || memcmp(rec, secret_magic, sizeof(secret_magic)) != 0)
        goto out;
    n -= sizeof(secret_magic);
    ret = -EFBIG;
    if (n > cap)
        goto out;
    memcpy(buf, rec + sizeof(secret_magic), n);
    *len = n;
    ret = 0;
out:
    wipe(rec, sizeof(rec));
    return ret;
}

int hal_secret_wipe(void)
{
    return hb_secret_remove();
}

/* ---- eth: libslirp, the user-mode network QEMU uses ---- */

int hal_eth_open(uint8_t mac[6])
{
    int ret = hb_eth_open(mac);
    eth_open = ret == 0;
    return ret;
}

bool hal_eth_link_up(void)
{
    return eth_open; /* a virtual cable: up from the moment the network exists */
}

void hal_eth_set_notify(hal_eth_notify_fn fn, void *ctx)
{
    eth_notify = fn;
    eth_notify_ctx = ctx;
}

int hal_eth_recv(void *frame, size_t cap)
{
    return hb_eth_recv(frame, cap);
}

int hal_eth_send(const void *frame, size_t len)
{
    if (len > HAL_ETH_FRAME_MAX)
        return -EMSGSIZE;
    return hb_eth_send(frame, len);
}

/* ---- watchdog ---- */

int hal_wdt_start(uint32_t timeout_ms)
{
    wdt_timeout_ms = timeout_ms;
    hb_watchdog_arm(timeout_ms);
    return 0;
}

void hal_wdt_kick(void)
{
    static uint64_t armed_at;
    uint64_t now;

    if (!wdt_timeout_ms)
        return;
    /* Re-arming is a system call, and the firmware kicks far more often than needed (every
     * token round trip): re-arm at most every eighth of the period. A hang still fires it. */
    now = hal_clock_ms();
    if (armed_at && now - armed_at < wdt_timeout_ms / 8)
        return;
    armed_at = now;
    hb_watchdog_arm(wdt_timeout_ms);
}

const char *hal_wdt_kind(void)
{
    return wdt_timeout_ms ? "interval timer (SIGALRM)" : "off";
}

/* ---- entry ---- */

void host_top_main(void)
{
    hal_board_init();
    signet_main();
}
