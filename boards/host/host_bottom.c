/*
 * boards/host/host_bottom.c — POSIX side of the host board: terminal, sockets, files, signals,
 * clocks and re-exec. Nothing above boards/host sees these headers.
 */
#define _GNU_SOURCE
#include "host_bottom.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <slirp/libslirp.h>

#define CTRL_A 0x01

static char **saved_argv;
static const char *nv_path;
static const char *hsm_path;
static int hsm_fd = -1;
static int nv_fd = -1;
static bool tty_in;  /* stdin is a terminal: raw mode, Ctrl-A x quits */
static bool tty_out; /* stdout is a terminal: keep CR LF, otherwise plain lines */
static bool saw_ctrl_a;
static struct termios saved_tio;
static int reset_reason;
static int64_t wall_offset;
static int64_t audit_cut = -1; /* SIGNET_AUDIT_POWER_CUT: programs into the ring before the cut */

/* ---- user-mode network state ---- */
#define HOSTFWD_MAX   4
#define SLIRP_FDS_MAX 64
#define ETH_QUEUE     64 /* frames slirp handed us that the firmware has not read yet */

struct hb_timer {
    SlirpTimerCb cb;
    void *cb_opaque;
    int64_t expire_ms; /* -1: not armed */
    struct hb_timer *next;
};

static bool eth_wanted;
static const char *hostfwd[HOSTFWD_MAX];
static int nhostfwd;
static Slirp *slirp;
static struct hb_timer *timers;
static uint8_t eth_queue[ETH_QUEUE][HB_FRAME_MAX];
static uint16_t eth_queue_len[ETH_QUEUE];
static unsigned eth_head, eth_count;
/* Frames queued since the last HB_ETH_READY: signalled once, as a NIC's interrupt is (the
 * firmware reads the queue dry itself); waiting on frames already signalled would only spin. */
static bool eth_arrived;
static struct pollfd poll_fds[2 + SLIRP_FDS_MAX];
static int npoll;

static void restore_terminal(void)
{
    if (tty_in)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
}

static void raw_terminal(void)
{
    struct termios tio;

    if (tcgetattr(STDIN_FILENO, &saved_tio) != 0)
        return;
    tty_in = true;
    tio = saved_tio;
    cfmakeraw(&tio);
    tio.c_oflag |= OPOST | ONLCR;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &tio);
    atexit(restore_terminal);
}

static int env_int(const char *name, int64_t *out)
{
    const char *v = getenv(name);
    char *end;

    if (!v)
        return -1;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || *end)
        return -1;
    *out = n;
    return 0;
}

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [--nv FILE] [--hsm SOCKET] [--net] [--hostfwd "
            "HOSTIP:PORT-[GUESTIP]:GUESTPORT]...\n",
            prog);
    exit(2);
}

int main(int argc, char **argv)
{
    int64_t v;

    saved_argv = argv;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--nv") == 0 && i + 1 < argc)
            nv_path = argv[++i];
        else if (strcmp(argv[i], "--hsm") == 0 && i + 1 < argc)
            hsm_path = argv[++i];
        else if (strcmp(argv[i], "--net") == 0)
            eth_wanted = true;
        else if (strcmp(argv[i], "--hostfwd") == 0 && i + 1 < argc && nhostfwd < HOSTFWD_MAX)
            hostfwd[nhostfwd++] = argv[++i], eth_wanted = true;
        else
            usage(argv[0]);
    }
    if (env_int("SIGNET_RESET_REASON", &v) == 0)
        reset_reason = (int)v;
    if (env_int("SIGNET_WALL_OFFSET", &v) == 0)
        wall_offset = v;
    if (env_int("SIGNET_AUDIT_POWER_CUT", &v) == 0 && v >= 0)
        audit_cut = v;
    unsetenv("SIGNET_RESET_REASON");
    unsetenv("SIGNET_AUDIT_POWER_CUT"); /* the next boot's power stays on */
    signal(SIGPIPE, SIG_IGN);
    if (isatty(STDIN_FILENO))
        raw_terminal();
    tty_out = isatty(STDOUT_FILENO);
    fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
    host_top_main();
    hb_exit(0);
}

const char *hb_nv_path(void)
{
    return nv_path;
}

const char *hb_hsm_path(void)
{
    return hsm_path;
}

int hb_reset_reason(void)
{
    return reset_reason;
}

int64_t hb_wall_offset(void)
{
    return wall_offset;
}

uint64_t hb_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int64_t hb_realtime_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec;
}

/* ---- libslirp callbacks ---- */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static ssize_t slirp_send_packet(const void *buf, size_t len, void *opaque)
{
    (void)opaque;
    /* A frame we cannot queue is dropped, as a busy NIC would: TCP retransmits. */
    if (len <= HB_FRAME_MAX && eth_count < ETH_QUEUE) {
        unsigned slot = (eth_head + eth_count) % ETH_QUEUE;
        memcpy(eth_queue[slot], buf, len);
        eth_queue_len[slot] = (uint16_t)len;
        eth_count++;
        eth_arrived = true;
    }
    return (ssize_t)len;
}

static void slirp_guest_error(const char *msg, void *opaque)
{
    (void)msg;
    (void)opaque;
}

static int64_t slirp_clock_ns(void *opaque)
{
    (void)opaque;
    return now_ns();
}

static void *slirp_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
    struct hb_timer *t = calloc(1, sizeof(*t));
    (void)opaque;
    if (!t)
        return NULL;
    t->cb = cb;
    t->cb_opaque = cb_opaque;
    t->expire_ms = -1;
    t->next = timers;
    timers = t;
    return t;
}

static void slirp_timer_free(void *timer, void *opaque)
{
    (void)opaque;
    for (struct hb_timer **pp = &timers; *pp; pp = &(*pp)->next) {
        if (*pp == timer) {
            *pp = (*pp)->next;
            free(timer);
            return;
        }
    }
}

static void slirp_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
    (void)opaque;
    ((struct hb_timer *)timer)->expire_ms = expire_ms;
}

static void slirp_fd_noop(int fd, void *opaque)
{
    (void)fd;
    (void)opaque;
}

static void slirp_notify(void *opaque)
{
    (void)opaque;
}

static int slirp_add_poll(int fd, int events, void *opaque)
{
    (void)opaque;
    if (npoll >= (int)(sizeof(poll_fds) / sizeof(poll_fds[0])))
        return -1;
    short ev = 0;
    if (events & SLIRP_POLL_IN)
        ev |= POLLIN;
    if (events & SLIRP_POLL_OUT)
        ev |= POLLOUT;
    if (events & SLIRP_POLL_PRI)
        ev |= POLLPRI;
    poll_fds[npoll].fd = fd;
    poll_fds[npoll].events = ev;
    poll_fds[npoll].revents = 0;
    return npoll++;
}

static int slirp_get_revents(int idx, void *opaque)
{
    (void)opaque;
    if (idx < 0 || idx >= npoll)
        return 0;
    short r = poll_fds[idx].revents;
    return ((r & POLLIN) ? SLIRP_POLL_IN : 0) | ((r & POLLOUT) ? SLIRP_POLL_OUT : 0) |
           ((r & POLLPRI) ? SLIRP_POLL_PRI : 0) | ((r & POLLERR) ? SLIRP_POLL_ERR : 0) |
           ((r & POLLHUP) ? SLIRP_POLL_HUP : 0);
}

static const SlirpCb slirp_callbacks = {
    .send_packet = slirp_send_packet,
    .guest_error = slirp_guest_error,
    .clock_get_ns = slirp_clock_ns,
    .timer_new = slirp_timer_new,
    .timer_free = slirp_timer_free,
    .timer_mod = slirp_timer_mod,
    .register_poll_fd = slirp_fd_noop,
    .unregister_poll_fd = slirp_fd_noop,
    .notify = slirp_notify,
};

/* "127.0.0.1:8443-:443", "127.0.0.1:8443-443" or, as QEMU also takes it,
 * "127.0.0.1:8443-10.0.2.20:443": host address and port, guest address (default 10.0.2.15) and
 * port. */
static int add_hostfwd(const char *spec)
{
    char host[64], guest[16] = "10.0.2.15";
    unsigned hport, gport;
    struct in_addr haddr, gaddr;

    const char *dash = strchr(spec, '-');
    if (dash && strchr(dash, '.')) { /* a guest address after the dash */
        if (sscanf(spec, "%63[0-9.]:%u-%15[0-9.]:%u", host, &hport, guest, &gport) != 4)
            return -EINVAL;
    } else if (sscanf(spec, "%63[0-9.]:%u-:%u", host, &hport, &gport) != 3 &&
               sscanf(spec, "%63[0-9.]:%u-%u", host, &hport, &gport) != 3) {
        return -EINVAL;
    }
    if (inet_pton(AF_INET, host, &haddr) != 1 || inet_pton(AF_INET, guest, &gaddr) != 1 ||
        hport > 65535 || gport > 65535)
        return -EINVAL;
    return slirp_add_hostfwd(slirp, 0, haddr, (int)hport, gaddr, (int)gport) == 0 ? 0 : -EADDRINUSE;
}

bool hb_eth_enabled(void)
{
    return eth_wanted;
}

int hb_eth_open(uint8_t mac[6])
{
    static const uint8_t qemu_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    SlirpConfig cfg = {
        .version = 1,
        .in_enabled = true,
        .vnetwork = {.s_addr = htonl(0x0a000200)},    /* 10.0.2.0 */
        .vnetmask = {.s_addr = htonl(0xffffff00)},    /* /24 */
        .vhost = {.s_addr = htonl(0x0a000202)},       /* 10.0.2.2 */
        .vdhcp_start = {.s_addr = htonl(0x0a00020f)}, /* 10.0.2.15 */
        .vnameserver = {.s_addr = htonl(0x0a000203)}, /* 10.0.2.3 */
        .vhostname = "signet",
    };

    if (!eth_wanted)
        return -ENODEV;
    if (!slirp) {
        slirp = slirp_new(&cfg, &slirp_callbacks, NULL);
        if (!slirp)
            return -ENOMEM;
        for (int i = 0; i < nhostfwd; i++) {
            int ret = add_hostfwd(hostfwd[i]);
            if (ret) {
                fprintf(stderr, "host board: cannot forward %s (%s)\n", hostfwd[i],
                        ret == -EINVAL ? "bad form, want HOSTIP:PORT-[GUESTIP]:GUESTPORT"
                                       : "port in use");
                return ret;
            }
        }
    }
    memcpy(mac, qemu_mac, 6);
    return 0;
}

int hb_eth_recv(void *frame, size_t cap)
{
    if (eth_count == 0)
        return -EAGAIN;
    unsigned slot = eth_head;
    size_t len = eth_queue_len[slot];
    eth_head = (eth_head + 1) % ETH_QUEUE;
    eth_count--;
    if (len > cap)
        return -EMSGSIZE;
    memcpy(frame, eth_queue[slot], len);
    return (int)len;
}

int hb_eth_send(const void *frame, size_t len)
{
    if (!slirp)
        return -ENODEV;
    slirp_input(slirp, frame, (int)len);
    return 0;
}

static void run_slirp_timers(void)
{
    int64_t now = now_ns() / 1000000;
    for (struct hb_timer *t = timers; t; t = t->next) {
        if (t->expire_ms >= 0 && t->expire_ms <= now) {
            t->expire_ms = -1;
            t->cb(t->cb_opaque);
        }
    }
}

unsigned hb_poll(uint32_t timeout_ms)
{
    unsigned ready = 0;
    uint32_t wait = timeout_ms;

    poll_fds[0] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
    poll_fds[1] = (struct pollfd){.fd = hsm_fd, .events = POLLIN};
    npoll = 2;
    if (slirp) {
        slirp_pollfds_fill(slirp, &wait, slirp_add_poll, NULL);
        int64_t now = now_ns() / 1000000;
        for (struct hb_timer *t = timers; t; t = t->next)
            if (t->expire_ms >= 0 && (uint64_t)(t->expire_ms > now ? t->expire_ms - now : 0) < wait)
                wait = (uint32_t)(t->expire_ms > now ? t->expire_ms - now : 0);
    }
    if (eth_arrived)
        wait = 0;
    int n = poll(poll_fds, (nfds_t)npoll, (int)wait);
    if (n > 0 && poll_fds[0].revents)
        ready |= HB_CONSOLE_READY;
    if (n > 0 && hsm_fd >= 0 && poll_fds[1].revents)
        ready |= HB_HSM_READY;
    if (slirp) {
        slirp_pollfds_poll(slirp, n < 0, slirp_get_revents, NULL);
        run_slirp_timers();
    }
    if (eth_arrived) {
        eth_arrived = false;
        ready |= HB_ETH_READY;
    }
    return ready;
}

/* On a terminal, Ctrl-A x powers off, as in QEMU's -serial mon:stdio; Ctrl-A Ctrl-A sends one. */
static size_t filter_escape(char *buf, size_t n)
{
    size_t out = 0;

    for (size_t i = 0; i < n; i++) {
        char c = buf[i];
        if (saw_ctrl_a) {
            saw_ctrl_a = false;
            if (c == 'x' || c == 'X') {
                static const char bye[] = "\nQEMU-style quit (Ctrl-A x)\n";
                hb_console_write(bye, sizeof(bye) - 1);
                hb_exit(0);
            }
            if (c != CTRL_A)
                continue;
        } else if (c == CTRL_A) {
            saw_ctrl_a = true;
            continue;
        }
        buf[out++] = c;
    }
    return out;
}

int hb_console_read(void *buf, size_t cap)
{
    ssize_t n = read(STDIN_FILENO, buf, cap);

    if (n < 0)
        return (errno == EAGAIN || errno == EINTR) ? -EAGAIN : -errno;
    if (n > 0 && tty_in) {
        n = (ssize_t)filter_escape(buf, (size_t)n);
        if (n == 0)
            return -EAGAIN;
    }
    return (int)n;
}

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            poll(&pfd, 1, 1000);
            continue;
        }
        if (n <= 0)
            return -errno;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Piped output drops the CR of CR LF so tests and logs see plain lines. */
int hb_console_write(const void *buf, size_t len)
{
    const char *p = buf;
    size_t start = 0;

    if (tty_out)
        return write_all(STDOUT_FILENO, buf, len);
    for (size_t i = 0; i < len; i++) {
        if (p[i] != '\r')
            continue;
        if (i > start && write_all(STDOUT_FILENO, p + start, i - start))
            return -EIO;
        start = i + 1;
    }
    if (start < len)
        return write_all(STDOUT_FILENO, p + start, len - start);
    return 0;
}

int hb_hsm_connect(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd;

    size_t len = strnlen(path, sizeof(sa.sun_path));
    /* A peer that stops reading must not block us forever: a send gives up after this long. */
    struct timeval send_limit = {.tv_sec = 5};

    if (len >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    memcpy(sa.sun_path, path, len);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_limit, sizeof(send_limit));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    hsm_fd = fd;
    return 0;
}

int hb_hsm_read(void *buf, size_t cap)
{
    ssize_t n = recv(hsm_fd, buf, cap, MSG_DONTWAIT);

    if (n < 0)
        return (errno == EAGAIN || errno == EINTR) ? -EAGAIN : -errno;
    return (int)n;
}

int hb_hsm_write(const void *buf, size_t len)
{
    const char *p = buf;

    if (hsm_fd < 0)
        return -EPIPE;
    while (len) {
        ssize_t n = send(hsm_fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return -ETIMEDOUT; /* SO_SNDTIMEO expired: the peer stopped reading */
        if (n <= 0)
            return -EPIPE;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

void hb_hsm_close(void)
{
    if (hsm_fd >= 0)
        close(hsm_fd);
    hsm_fd = -1;
}

int hb_nv_open(const char *path, size_t size)
{
    char ff[4096];
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

    if (fd < 0)
        return -errno;
    /* What the file lacks (all of a new file; the audit ring's region for a file an older
     * version made, or one cut short) is freshly erased part. */
    off_t have = lseek(fd, 0, SEEK_END);
    if (have < 0) {
        close(fd);
        return -errno;
    }
    memset(ff, 0xff, sizeof(ff));
    for (size_t off = (size_t)have; off < size;) {
        size_t n = size - off < sizeof(ff) ? size - off : sizeof(ff);
        if (pwrite(fd, ff, n, (off_t)off) != (ssize_t)n) {
            close(fd);
            return -EIO;
        }
        off += n;
    }
    nv_fd = fd;
    return 0;
}

bool hb_audit_power_cut_due(void)
{
    return audit_cut >= 0 && audit_cut-- == 0;
}

int hb_nv_pread(void *buf, size_t len, uint64_t off)
{
    return pread(nv_fd, buf, len, (off_t)off) == (ssize_t)len ? 0 : -EIO;
}

/* fdatasync: a completed program survives the host crashing too, as it would on flash. */
int hb_nv_pwrite(const void *buf, size_t len, uint64_t off)
{
    if (pwrite(nv_fd, buf, len, (off_t)off) != (ssize_t)len)
        return -EIO;
    return fdatasync(nv_fd) == 0 ? 0 : -EIO;
}

/* ---- the sealed secret, beside the NV file ---- */

#define SECRET_SUFFIX ".autologin"

static int secret_path(char *out, size_t cap, const char *suffix)
{
    if (!nv_path)
        return -ENODEV;
    int n = snprintf(out, cap, "%s%s%s", nv_path, SECRET_SUFFIX, suffix);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* The directory entry of a rename or unlink survives a crash only once its directory is synced. */
static void sync_parent(const char *path)
{
    char dir[4096];
    size_t n = strlen(path);

    if (n >= sizeof(dir))
        return;
    memcpy(dir, path, n + 1);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        memcpy(dir, ".", 2);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

int hb_secret_write(const void *buf, size_t len)
{
    char path[4096], tmp[4096];
    int fd = -1;
    int ret = secret_path(path, sizeof(path), "");

    if (ret == 0)
        ret = secret_path(tmp, sizeof(tmp), ".tmp");
    if (ret)
        return ret;
    (void)unlink(tmp); /* left by a crash; unlink removes a planted symlink, not its target */
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    ret = write_all(fd, buf, len);
    if (ret == 0 && fsync(fd) != 0)
        ret = -EIO;
    if (close(fd) != 0 && ret == 0)
        ret = -EIO;
    if (ret == 0 && rename(tmp, path) != 0)
        ret = -errno;
    if (ret)
        (void)unlink(tmp);
    else
        sync_parent(path);
    return ret;
}

int hb_secret_read(void *buf, size_t cap, size_t *len)
{
    char path[4096];
    struct stat st;
    int ret = secret_path(path, sizeof(path), "");

    *len = 0;
    if (ret)
        return ret;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        ret = -EBADMSG;
    else if ((uint64_t)st.st_size > cap)
        ret = -EFBIG;
    size_t got = 0;
    while (ret == 0 && got < cap) {
        ssize_t n = read(fd, (uint8_t *)buf + got, cap - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            ret = -EIO;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (ret == 0)
        *len = got;
    return ret;
}

int hb_secret_remove(void)
{
    static const uint8_t zeros[256];
    char path[4096];
    struct stat st;
    int ret = secret_path(path, sizeof(path), "");

    if (ret)
        return ret;
    int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    /* Overwrite first: on most file systems the old blocks then no longer hold the PIN. */
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        for (off_t off = 0; off < st.st_size && ret == 0; off += (off_t)sizeof(zeros))
            ret = write_all(fd, zeros, sizeof(zeros));
    if (fsync(fd) != 0 && ret == 0)
        ret = -EIO;
    close(fd);
    if (unlink(path) != 0 && errno != ENOENT)
        return -errno;
    sync_parent(path);
    return ret;
}

static void watchdog_expired(int sig)
{
    static const char msg[] = "\nwatchdog: timeout, resetting\n";
    (void)sig;
    (void)!write(STDOUT_FILENO, msg, sizeof(msg) - 1);
    hb_reexec(2 /* HAL_RESET_WATCHDOG */, wall_offset);
}

void hb_watchdog_arm(uint32_t ms)
{
    struct itimerval it = {.it_value = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000}};
    static bool installed;

    if (!installed) {
        struct sigaction sa = {.sa_handler = watchdog_expired};
        sigaction(SIGALRM, &sa, NULL);
        installed = true;
    }
    setitimer(ITIMER_REAL, &it, NULL);
}

/* Writes "NAME=<decimal>" without stdio, so it is usable in a signal handler. */
static void env_entry(char *out, size_t cap, const char *name, int64_t v)
{
    char digits[24];
    size_t nd = 0, o = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

    do {
        digits[nd++] = (char)('0' + u % 10);
        u /= 10;
    } while (u && nd < sizeof(digits));
    while (*name && o + 1 < cap)
        out[o++] = *name++;
    if (v < 0 && o + 1 < cap)
        out[o++] = '-';
    while (nd && o + 1 < cap)
        out[o++] = digits[--nd];
    out[o] = '\0';
}

#define REEXEC_ENV_MAX 512

/* Async-signal-safe (execve, no stdio or malloc): the watchdog calls it from SIGALRM. */
_Noreturn void hb_reexec(int reason, int64_t offset)
{
    extern char **environ;
    static char env_reason[48], env_offset[64];
    static char *envp[REEXEC_ENV_MAX + 3];
    size_t n = 0;

    restore_terminal();
    env_entry(env_reason, sizeof(env_reason), "SIGNET_RESET_REASON=", reason);
    env_entry(env_offset, sizeof(env_offset), "SIGNET_WALL_OFFSET=", offset);
    for (char **e = environ; *e && n < REEXEC_ENV_MAX; e++)
        if (strncmp(*e, "SIGNET_RESET_REASON=", 20) != 0 &&
            strncmp(*e, "SIGNET_WALL_OFFSET=", 19) != 0)
            envp[n++] = *e;
    envp[n++] = env_reason;
    envp[n++] = env_offset;
    envp[n] = NULL;
    execve("/proc/self/exe", saved_argv, envp);
    _exit(70);
}

_Noreturn void hb_exit(int code)
{
    restore_terminal();
    exit(code);
}
