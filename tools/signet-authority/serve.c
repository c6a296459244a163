#define _POSIX_C_SOURCE 200809L /* pselect, sigaction, clock_gettime */
#include "serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/ipv4.h"
#include "net/http_parse.h"

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
    stop_signal = sig;
}

/* One connection's state: what came in, what goes out, what the log line says. */
struct conn {
    int fd;
    char peer[IPV4_TEXT_MAX + 7];
    struct timespec deadline; /* CLOCK_MONOTONIC: the whole request must be in by then */
    char in[HTTP_HEAD_MAX + DOC_XML_MAX];
    size_t len;
    char what[HTTP_PATH_MAX + 16]; /* "METHOD /path" */
    char note[AUTHORITY_WHY_MAX];
    const char *type;
    char out[AUTHORITY_RESPONSE_MAX + 1];
    size_t out_len;
    const uint8_t *body; /* when set, sent instead of out */
};

/* The CRL served, and what it reflects. */
struct crl_cache {
    uint8_t der[X509_CRL_DER_MAX];
    size_t len;
    uint64_t generation; /* of the issuance log it was made from */
    time_t made;         /* wall clock, to re-sign at half its lifetime */
    struct authority_crl_info info;
};
static struct crl_cache crl;

static long long ms_since_epoch(const struct timespec *t)
{
    return (long long)t->tv_sec * 1000 + t->tv_nsec / 1000000;
}

static int ms_left(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long left = ms_since_epoch(deadline) - ms_since_epoch(&now);
    return left <= 0 ? 0 : (int)left;
}

static struct timespec after_ms(int ms)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

/* Wait (until the request's deadline) for bytes and append them to c->in: the count, 0 at end
 * of stream, -ETIMEDOUT, or -EIO. Never beyond c->in's capacity. */
static int read_more(struct conn *c)
{
    struct pollfd pfd = {c->fd, POLLIN, 0};

    if (c->len >= sizeof(c->in))
        return -EIO;
    int ready = poll(&pfd, 1, ms_left(&c->deadline));
    if (ready == 0)
        return -ETIMEDOUT;
    if (ready < 0)
        return -EIO;
    ssize_t n = recv(c->fd, c->in + c->len, sizeof(c->in) - c->len, 0);
    if (n < 0)
        return -EIO;
    c->len += (size_t)n;
    return (int)n;
}

static int send_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t n = send(fd, p, len, 0);
        if (n <= 0)
            return -EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The answer, then a lingering close: a client still sending a refused body reads the refusal
 * instead of a reset (RFC 9112 §9.6). */
static void respond(struct conn *c, int status)
{
    char head[192];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     status, http_reason_phrase(status), c->type, c->out_len);
    if (n > 0 && (size_t)n < sizeof(head) && send_all(c->fd, head, (size_t)n) == 0)
        send_all(c->fd, c->body ? (const char *)c->body : c->out, c->out_len);
    shutdown(c->fd, SHUT_WR);
    struct timespec linger = after_ms(SERVE_LINGER_MS);
    char sink[4096];
    struct pollfd pfd = {c->fd, POLLIN, 0};
    while (poll(&pfd, 1, ms_left(&linger)) > 0 && recv(c->fd, sink, sizeof(sink), 0) > 0)
        ;
}

/* A one-line text answer, which is also what the log line says. */
static int text(struct conn *c, int status, const char *line)
{
    int n = snprintf(c->out, sizeof(c->out), "%s\n", line);
    c->out_len = n < 0 ? 0 : (size_t)n < sizeof(c->out) ? (size_t)n : sizeof(c->out) - 1;
    c->type = "text/plain; charset=utf-8";
    snprintf(c->note, sizeof(c->note), "%s", line);
    return status;
}

static int status_of(int err)
{
    switch (err) {
    case -EINVAL:
        return 400;
    case -EPERM:
        return 403;
    case -E2BIG:
        return 413;
    default:
        return 503;
    }
}

static int enroll(struct conn *c, struct authority *a, const struct http_head *h, size_t head_len,
                  unsigned days)
{
    const char *why = "";
    struct authority_issued res;

    if (!h->has_length)
        return text(c, 411, "Content-Length required");
    if (h->length > DOC_XML_MAX)
        return text(c, 413, "the request document is larger than 16384 bytes");
    if (h->length == 0)
        return text(c, 400, "empty request");
    if (c->len - head_len < h->length && h->expect_continue && !h->http10)
        send_all(c->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    while (c->len - head_len < h->length) {
        int n = read_more(c);
        if (n == -ETIMEDOUT)
            return text(c, 408, "the request body did not arrive in time");
        if (n <= 0)
            return text(c, 400, "the request body ended early");
    }
    int ret = authority_issue(a, c->in + head_len, h->length, days, false, c->out, sizeof(c->out),
                              &c->out_len, &res, &why);
    if (ret != 0)
        return text(c, status_of(ret), why);
    c->type = "application/xml";
    snprintf(c->note, sizeof(c->note), "issued CN=%s serial %s notAfter %s%s", res.cn, res.serial,
             res.not_after, res.clamped ? " (clamped to the root)" : "");
    return 200;
}

/* GET /v1/crl: the CRL made last while it is current, else a new one. */
static int crl_get(struct conn *c, struct authority *a, unsigned hours)
{
    const char *why = "";
    uint64_t generation = 0;

    if (authority_log_generation(a, &generation, &why) != 0)
        return text(c, 503, why);
    time_t now = time(NULL);
    bool stale = !crl.len || generation != crl.generation ||
                 now - crl.made >= (time_t)hours * 3600 / 2 || now < crl.made;
    if (stale) {
        crl.len = 0;
        if (authority_crl(a, hours, crl.der, sizeof(crl.der), &crl.len, &crl.info, &why) != 0) {
            crl.len = 0;
            return text(c, 503, why);
        }
        crl.generation = crl.info.generation;
        crl.made = now;
    }
    c->body = crl.der;
    c->out_len = crl.len;
    c->type = "application/pkix-crl";
    snprintf(c->note, sizeof(c->note), "CRL number %llu, %zu revoked%s",
             (unsigned long long)crl.info.number, crl.info.entries, stale ? " (signed)" : "");
    return 200;
}

/* Read and serve one request: the status to answer, or 0 when the client left first. */
static int handle(struct conn *c, struct authority *a, unsigned days, unsigned hours)
{
    struct http_head h;
    const char *why = "";
    size_t head_len = 0;

    for (;;) {
        size_t scan = c->len < HTTP_HEAD_MAX ? c->len : HTTP_HEAD_MAX;
        for (size_t i = 3; i < scan && !head_len; i++)
            if (memcmp(c->in + i - 3, "\r\n\r\n", 4) == 0)
                head_len = i + 1;
        if (head_len)
            break;
        if (c->len >= HTTP_HEAD_MAX)
            return text(c, 431, "request head too large");
        int n = read_more(c);
        if (n == -ETIMEDOUT)
            return text(c, 408, "the request did not arrive in time");
        if (n <= 0)
            return 0;
    }
    int status = http_parse_head(c->in, head_len, &h, &why);
    if (status != 0)
        return text(c, status, why);
    snprintf(c->what, sizeof(c->what), "%s %s", h.method, h.path);
    if (strcmp(h.path, "/health") == 0)
        return strcmp(h.method, "GET") == 0 ? text(c, 200, "ok") : text(c, 405, "GET only");
    if (strcmp(h.path, "/v1/crl") == 0)
        return strcmp(h.method, "GET") == 0 ? crl_get(c, a, hours) : text(c, 405, "GET only");
    if (strcmp(h.path, "/v1/enroll") != 0)
        return text(c, 404, "no such resource; POST /v1/enroll, GET /v1/crl or GET /health");
    if (strcmp(h.method, "POST") != 0)
        return text(c, 405, "POST only");
    return enroll(c, a, &h, head_len, days);
}

/* One connection: its request, one log line, the answer. */
static void serve_one(struct conn *c, struct authority *a, unsigned days, unsigned hours)
{
    c->len = 0;
    c->body = NULL;
    c->note[0] = '\0';
    snprintf(c->what, sizeof(c->what), "-");
    c->deadline = after_ms(SERVE_REQUEST_TIMEOUT_MS);
    int status = handle(c, a, days, hours);
    if (!status) {
        fprintf(stderr, "signet-authority: %s closed before a whole request\n", c->peer);
        return;
    }
    fprintf(stderr, "signet-authority: %s \"%s\" %d %s\n", c->peer, c->what, status, c->note);
    respond(c, status);
}

static int listen_on(uint32_t addr, uint16_t port)
{
    struct sockaddr_in sa = {0};
    socklen_t sl = sizeof(sa);
    int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
    char text[IPV4_TEXT_MAX + 1];

    if (fd < 0)
        return -errno;
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(addr);
    sa.sin_port = htons(port);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 8) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    ipv4_format(addr, text);
    fprintf(stderr, "signet-authority: listening on http://%s:%u\n", text, ntohs(sa.sin_port));
    return fd;
}

int serve_run(struct authority *a, uint32_t addr, uint16_t port, unsigned days, unsigned crl_hours)
{
    static struct conn c; /* 60 KiB of buffers: one connection at a time */
    struct sigaction sa = {0};
    sigset_t stops, waiting;
    const struct timeval send_timeout = {SERVE_SEND_TIMEOUT_MS / 1000, 0};

    /* SIGTERM/SIGINT are held except while waiting for a connection, so a request in progress
     * completes; pselect() opens the window without a race. */
    sigemptyset(&stops);
    sigaddset(&stops, SIGTERM);
    sigaddset(&stops, SIGINT);
    sigprocmask(SIG_BLOCK, &stops, &waiting);
    sigdelset(&waiting, SIGTERM);
    sigdelset(&waiting, SIGINT);
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* a client gone mid-answer is an error return, not a death */
    int lfd = listen_on(addr, port);
    if (lfd < 0)
        return lfd;
    fflush(stderr);
    while (!stop_signal) {
        fd_set rd;
        FD_ZERO(&rd);
        FD_SET(lfd, &rd);
        if (pselect(lfd + 1, &rd, NULL, NULL, NULL, &waiting) <= 0)
            continue;
        struct sockaddr_in peer;
        socklen_t pl = sizeof(peer);
        c.fd = accept(lfd, (struct sockaddr *)&peer, &pl);
        if (c.fd < 0)
            continue;
        char ip[IPV4_TEXT_MAX + 1];
        ipv4_format(ntohl(peer.sin_addr.s_addr), ip);
        snprintf(c.peer, sizeof(c.peer), "%s:%u", ip, ntohs(peer.sin_port));
        setsockopt(c.fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof(send_timeout));
        serve_one(&c, a, days, crl_hours);
        close(c.fd);
    }
    close(lfd);
    fprintf(stderr, "signet-authority: stopped by %s\n",
            stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
    return 0;
}
