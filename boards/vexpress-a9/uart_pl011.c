/*
 * boards/vexpress-a9/uart_pl011.c — PL011 UART0 (console) and UART1 (HSM link), interrupt-driven.
 *
 * RX: the handler drains the FIFO into a ring and calls the notify hook. TX: writes go to a ring
 * and the handler refills the FIFO while the TX interrupt is enabled; it is enabled only while the
 * ring holds data, because an idle PL011 keeps its TX interrupt asserted.
 */
#include <errno.h>
#include <stdbool.h>

#include "hal/board.h"
#include "hal/ringbuf.h"
#include "hal/uart.h"
#include "signet_config.h"
#include "vexpress.h"

#define UART_DR   0x00u
#define UART_FR   0x18u
#define UART_IBRD 0x24u
#define UART_FBRD 0x28u
#define UART_LCRH 0x2cu
#define UART_CR   0x30u
#define UART_IFLS 0x34u
#define UART_IMSC 0x38u
#define UART_ICR  0x44u

#define FR_RXFE    (1u << 4)
#define FR_TXFF    (1u << 5)
#define DR_OE      (1u << 11)
#define LCRH_FEN   (1u << 4)
#define LCRH_WLEN8 (3u << 5)
#define CR_UARTEN  (1u << 0)
#define CR_TXE     (1u << 8)
#define CR_RXE     (1u << 9)
#define CR_RTSEN   (1u << 14) /* hardware flow control: RTS drops while the RX FIFO is full */
#define INT_RX     (1u << 4)
#define INT_TX     (1u << 5)
#define INT_RT     (1u << 6)
#define INT_ALL    0x7ffu

/* UARTCLK is 24 MHz on the motherboard: 115200 baud = 13 + 1/64. */
#define UART_IBRD_115200 13u
#define UART_FBRD_115200 1u

struct pl011 {
    uint32_t base;
    uint32_t irq;
    struct ringbuf rx, tx;
    bool open;
    uint32_t imsc;
    hal_uart_notify_fn notify;
    void *notify_ctx;
    struct hal_uart_stats stats;
};

static uint8_t con_rx[VE_UART_CONSOLE_RX], con_tx[VE_UART_CONSOLE_TX];
static uint8_t hsm_rx[VE_UART_HSM_RX], hsm_tx[VE_UART_HSM_TX];

static struct pl011 ports[HAL_UART_COUNT] = {
    [HAL_UART_CONSOLE] = {.base = VE_UART0, .irq = VE_IRQ_UART0},
    [HAL_UART_HSM] = {.base = VE_UART1, .irq = VE_IRQ_UART1},
};

/* Interrupts must be masked: enable or disable the RX interrupts. */
static void rx_irq(struct pl011 *p, bool on)
{
    uint32_t want = on ? (p->imsc | INT_RX | INT_RT) : (p->imsc & ~(INT_RX | INT_RT));
    if (want != p->imsc) {
        p->imsc = want;
        mmio_write(p->base + UART_IMSC, want);
    }
}

/* Move queued bytes into the FIFO; interrupts must be masked. */
static void tx_pump(struct pl011 *p)
{
    uint8_t c;

    while (!(mmio_read(p->base + UART_FR) & FR_TXFF) && ringbuf_get(&p->tx, &c) == 0) {
        mmio_write(p->base + UART_DR, c);
        p->stats.tx_bytes++;
    }
    uint32_t want = ringbuf_used(&p->tx) ? (p->imsc | INT_TX) : (p->imsc & ~INT_TX);
    if (want != p->imsc) {
        p->imsc = want;
        mmio_write(p->base + UART_IMSC, want);
    }
}

/* FIFO to ring; interrupts masked. True if bytes moved. */
static bool rx_drain(struct pl011 *p)
{
    bool got = false;

    while (!(mmio_read(p->base + UART_FR) & FR_RXFE)) {
        /* Ring full: leave the rest in the FIFO and stop listening until the firmware has read
         * some (hal_uart_read drains again). The full FIFO holds the sender back — QEMU's serial
         * backend waits, real hardware drops RTS — instead of bytes being lost. */
        if (ringbuf_free(&p->rx) == 0) {
            rx_irq(p, false);
            break;
        }
        uint32_t dr = mmio_read(p->base + UART_DR);
        if (dr & DR_OE)
            p->stats.rx_overruns++;
        (void)ringbuf_put(&p->rx, (uint8_t)dr);
        p->stats.rx_bytes++;
        got = true;
    }
    return got;
}

static void pl011_isr(void *ctx)
{
    struct pl011 *p = ctx;

    /* Clear before draining: a byte that lands after the last FIFO check raises it again. */
    mmio_write(p->base + UART_ICR, INT_RX | INT_RT);
    bool got = rx_drain(p);
    tx_pump(p);
    if (got && p->notify)
        p->notify(p->notify_ctx);
}

int hal_uart_open(enum hal_uart_id id)
{
    struct pl011 *p = &ports[id];

    if (p->open)
        return 0;
    if (id == HAL_UART_CONSOLE) {
        ringbuf_init(&p->rx, con_rx, sizeof(con_rx));
        ringbuf_init(&p->tx, con_tx, sizeof(con_tx));
    } else {
        ringbuf_init(&p->rx, hsm_rx, sizeof(hsm_rx));
        ringbuf_init(&p->tx, hsm_tx, sizeof(hsm_tx));
    }
    mmio_write(p->base + UART_CR, 0);
    mmio_write(p->base + UART_ICR, INT_ALL);
    mmio_write(p->base + UART_IBRD, UART_IBRD_115200);
    mmio_write(p->base + UART_FBRD, UART_FBRD_115200);
    mmio_write(p->base + UART_LCRH, LCRH_FEN | LCRH_WLEN8);
    mmio_write(p->base + UART_IFLS,
               0); /* RX interrupt at 1/8 full; the RX timeout covers the rest */
    p->imsc = INT_RX | INT_RT;
    mmio_write(p->base + UART_IMSC, p->imsc);
    mmio_write(p->base + UART_CR, CR_UARTEN | CR_TXE | CR_RXE | CR_RTSEN);
    gic_attach(p->irq, pl011_isr, p);
    p->open = true;
    return 0;
}

void hal_uart_close(enum hal_uart_id id)
{
    struct pl011 *p = &ports[id];
    uint32_t irq = hal_irq_save();

    p->imsc = 0;
    mmio_write(p->base + UART_IMSC, 0);
    p->rx.tail = p->rx.head;
    p->tx.tail = p->tx.head;
    p->open = false;
    hal_irq_restore(irq);
}

bool hal_uart_is_open(enum hal_uart_id id)
{
    return ports[id].open;
}

void hal_uart_set_notify(enum hal_uart_id id, hal_uart_notify_fn fn, void *ctx)
{
    uint32_t irq = hal_irq_save();
    ports[id].notify = fn;
    ports[id].notify_ctx = ctx;
    hal_irq_restore(irq);
}

int hal_uart_read(enum hal_uart_id id, void *buf, size_t cap)
{
    struct pl011 *p = &ports[id];

    if (!p->open)
        return -EPIPE;
    int n = (int)ringbuf_read(&p->rx, buf, cap);
    if (n > 0 && !(p->imsc & INT_RX)) {
        /* Room again. What waited in the FIFO raises no new interrupt (nothing new can arrive
         * while it is full): take it now, then listen again. */
        uint32_t irq = hal_irq_save();
        rx_irq(p, true);
        bool got = rx_drain(p);
        hal_irq_restore(irq);
        if (got && p->notify)
            p->notify(p->notify_ctx); /* the reader may not come back unless told */
    }
    return n;
}

int hal_uart_write(enum hal_uart_id id, const void *buf, size_t len)
{
    struct pl011 *p = &ports[id];

    if (!p->open)
        return -EPIPE;
    uint32_t irq = hal_irq_save();
    size_t n = ringbuf_write(&p->tx, buf, len);
    tx_pump(p);
    hal_irq_restore(irq);
    return (int)n;
}

int hal_uart_write_all(enum hal_uart_id id, const void *buf, size_t len)
{
    const uint8_t *src = buf;

    while (len) {
        int n = hal_uart_write(id, src, len);
        if (n < 0)
            return n;
        src += n;
        len -= (size_t)n;
        if (len) {
            /* Ring full: wait for the TX interrupt (or the tick) to make room. */
            uint32_t irq = hal_irq_save();
            if (ringbuf_free(&ports[id].tx) == 0)
                hal_board_idle(1);
            hal_irq_restore(irq);
        }
    }
    return 0;
}

void hal_uart_stats(enum hal_uart_id id, struct hal_uart_stats *out)
{
    *out = ports[id].stats;
}

/* Fault path: no rings, no interrupts, just the FIFO. */
void pl011_panic_write(const char *s)
{
    for (; *s; s++) {
        if (*s == '\n') {
            while (mmio_read(VE_UART0 + UART_FR) & FR_TXFF)
                ;
            mmio_write(VE_UART0 + UART_DR, '\r');
        }
        while (mmio_read(VE_UART0 + UART_FR) & FR_TXFF)
            ;
        mmio_write(VE_UART0 + UART_DR, (uint8_t)*s);
    }
}
