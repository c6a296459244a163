#include "http_client.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lwip/altcp.h"
#include "lwip/altcp_tcp.h"
#include "lwip/sys.h"
#include "http_parse.h"
#include "signet_config.h"
#include "tls.h"

/* One exchange. busy from a successful http_client_post until its done() has returned. */
struct client {
    bool busy;
    bool established; /* TLS handshake done (always true without TLS) */
    struct altcp_pcb *pcb;
    struct tls_conn *tls; /* https only */
    http_client_done_fn done;
    void *ctx;
    uint32_t deadline;
    size_t out_len, out_sent;
    char out[HTTP_CLIENT_REQUEST_MAX];
    size_t in_len;
    char in[HTTP_CLIENT_RESPONSE_MAX + 1]; /* NUL-terminated for the head scan */
};

static struct client clients[HTTP_CLIENT_MAX];
static uint32_t timeout_ms = HTTP_CLIENT_TIMEOUT_MS;

/* No more callbacks for this connection: it is being closed or aborted. */
static void detach(struct altcp_pcb *pcb)
{
    altcp_arg(pcb, NULL);
    altcp_recv(pcb, NULL);
    altcp_sent(pcb, NULL);
    altcp_err(pcb, NULL);
}

/* End the exchange: close, then report exactly once. ERR_ABRT if the connection had to be
 * aborted (what a callback of that connection must then return). */
static err_t finish(struct client *c, int status, const char *body, size_t len, const char *why)
{
    struct altcp_pcb *pcb = c->pcb;
    err_t ret = ERR_OK;

    c->pcb = NULL;
    if (c->tls) {
        if (pcb && c->established)
            tls_conn_close_notify(c->tls);
        tls_conn_free(c->tls);
        c->tls = NULL;
    }
    if (pcb) {
        detach(pcb);
        if (altcp_close(pcb) != ERR_OK) {
            altcp_abort(pcb);
            ret = ERR_ABRT;
        }
    }
    /* busy until done() returns: the body lives in our buffer. */
    c->done(c->ctx, status, body, len, why);
    c->busy = false;
    return ret;
}

/* true when the exchange is over (finished, *ret set for the callback to return). */
static bool check_answer(struct client *c, bool eof, err_t *ret)
{
    int status = 0;
    const char *body = NULL, *why = "";
    size_t len = 0;
    int r = http_parse_answer(c->in, c->in_len, eof, &status, &body, &len, &why);

    if (r < 0)
        *ret = finish(c, 0, NULL, 0, why);
    else if (r > 0)
        *ret = finish(c, status, body, len, "");
    return r != 0;
}

/* Push as much of the request as the send buffer (or TLS layer) takes; the rest on sent(). */
static err_t flush(struct client *c)
{
    while (c->out_sent < c->out_len) {
        size_t left = c->out_len - c->out_sent;
        int n;
        if (c->tls) {
            n = tls_conn_write(c->tls, (const uint8_t *)c->out + c->out_sent, left);
            if (n < 0)
                return finish(c, 0, NULL, 0, tls_conn_why(c->tls));
        } else {
            size_t room = altcp_sndbuf(c->pcb);
            n = (int)(left < room ? left : room);
            if (n &&
                altcp_write(c->pcb, c->out + c->out_sent, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK)
                n = 0;
            if (n)
                altcp_output(c->pcb);
        }
        if (n == 0)
            return ERR_OK; /* full: on_sent() calls again */
        c->out_sent += (size_t)n;
    }
    return ERR_OK;
}

/* TLS: advance the handshake, send the request, decrypt what has arrived into in[]. */
static err_t tls_pump(struct client *c, bool eof)
{
    err_t ret = ERR_OK;

    if (!c->established) {
        int r = tls_conn_handshake(c->tls);
        if (r < 0)
            return finish(c, 0, NULL, 0, tls_conn_why(c->tls));
        if (r == 0)
            return eof ? finish(c, 0, NULL, 0, "the server closed during the TLS handshake")
                       : ERR_OK;
        c->established = true;
    }
    ret = flush(c);
    if (!c->pcb || !c->busy)
        return ret;
    for (;;) {
        size_t room = HTTP_CLIENT_RESPONSE_MAX - c->in_len;
        if (room == 0)
            return finish(c, 0, NULL, 0, "the server's answer is too large");
        int n = tls_conn_read(c->tls, (uint8_t *)c->in + c->in_len, room);
        if (n < 0) {
            /* The session is over: the answer is whole, or its end says why it is not. */
            int status = 0;
            const char *body = NULL, *why = "";
            size_t len = 0;
            if (http_parse_answer(c->in, c->in_len, true, &status, &body, &len, &why) > 0)
                return finish(c, status, body, len, "");
            return finish(c, 0, NULL, 0, c->in_len ? why : tls_conn_why(c->tls));
        }
        if (n == 0)
            break;
        c->in_len += (size_t)n;
        c->in[c->in_len] = '\0';
        if (check_answer(c, false, &ret))
            return ret;
    }
    if (eof && check_answer(c, true, &ret))
        return ret;
    return ERR_OK;
}

static err_t on_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct client *c = arg;
    err_t ret = ERR_OK;

    if (!c || !c->busy || pcb != c->pcb) {
        if (p)
            pbuf_free(p);
        return ERR_OK;
    }
    if (!p || err != ERR_OK) {
        if (p)
            pbuf_free(p);
        if (c->tls)
            return tls_pump(c, true);
        (void)check_answer(c, true, &ret);
        return ret;
    }
    if (c->tls) {
        tls_conn_input(c->tls, p); /* acknowledged to TCP as the TLS layer consumes it */
        return tls_pump(c, false);
    }
    altcp_recved(pcb, p->tot_len);
    if (p->tot_len > HTTP_CLIENT_RESPONSE_MAX - c->in_len) {
        pbuf_free(p);
        return finish(c, 0, NULL, 0, "the server's answer is too large");
    }
    pbuf_copy_partial(p, c->in + c->in_len, p->tot_len, 0);
    c->in_len += p->tot_len;
    c->in[c->in_len] = '\0';
    pbuf_free(p);
    (void)check_answer(c, false, &ret);
    return ret;
}

static err_t on_sent(void *arg, struct altcp_pcb *pcb, u16_t len)
{
    struct client *c = arg;
    (void)len;
    if (!c || !c->busy || pcb != c->pcb)
        return ERR_OK;
    if (c->tls)
        return tls_pump(c, false); /* a handshake flight or the request waited for room */
    return flush(c);
}

static void on_err(void *arg, err_t err)
{
    struct client *c = arg;
    if (!c || !c->busy)
        return;
    c->pcb = NULL; /* lwIP has freed it */
    (void)finish(c, 0, NULL, 0,
                 err == ERR_RST ? "connection refused or reset" : "connection failed");
}

static err_t on_connected(void *arg, struct altcp_pcb *pcb, err_t err)
{
    struct client *c = arg;
    (void)pcb;
    if (!c || !c->busy || err != ERR_OK)
        return ERR_OK; /* a failed connect arrives through on_err */
    if (c->tls)
        return tls_pump(c, false); /* ClientHello */
    return flush(c);
}

struct url {
    bool tls;
    ip_addr_t ip;
    uint16_t port;
    const char *authority; /* A.B.C.D[:PORT], for the Host header */
    size_t authority_len;
    const char *path; /* NULL: none given */
};

/* "http[s]://A.B.C.D[:PORT][/PATH]"; the path is printable ASCII without spaces. */
static int parse_url(const char *s, struct url *u, const char **why)
{
    char host[16];
    size_t n = 0;
    int dots = 0;
    const char *p;

    *why = "the URL must be http[s]://A.B.C.D[:PORT][/PATH] (an IPv4 address: no name lookup)";
    if (strncmp(s, "http://", 7) == 0) {
        u->tls = false;
        p = s + 7;
    } else if (strncmp(s, "https://", 8) == 0) {
        u->tls = true;
        p = s + 8;
    } else {
        return -EINVAL;
    }
    u->authority = p;
    for (; (*p >= '0' && *p <= '9') || *p == '.'; p++) {
        if (n == sizeof(host) - 1)
            return -EINVAL;
        dots += *p == '.';
        host[n++] = *p;
    }
    host[n] = '\0';
    if (dots != 3 || !ip4addr_aton(host, ip_2_ip4(&u->ip)))
        return -EINVAL;
    IP_SET_TYPE(&u->ip, IPADDR_TYPE_V4);
    u->port = u->tls ? 443 : 80;
    if (*p == ':') {
        unsigned long v = 0;
        const char *d = ++p;
        for (; *p >= '0' && *p <= '9' && v <= 65535; p++)
            v = v * 10 + (unsigned long)(*p - '0');
        if (p == d || v == 0 || v > 65535)
            return -EINVAL;
        u->port = (uint16_t)v;
    }
    u->authority_len = (size_t)(p - u->authority);
    if (*p && *p != '/')
        return -EINVAL;
    u->path = *p ? p : NULL;
    for (; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f)
            return -EINVAL; /* would break the request line */
    return 0;
}

static struct client *free_client(void)
{
    for (size_t i = 0; i < HTTP_CLIENT_MAX; i++)
        if (!clients[i].busy)
            return &clients[i];
    return NULL;
}

/* The request into c->out. */
static int compose(struct client *c, const struct url *u, const char *path,
                   const char *content_type, const char *body, size_t len, const char **why)
{
    int head = snprintf(c->out, sizeof(c->out),
                        "POST %s HTTP/1.1\r\nHost: %.*s\r\nContent-Type: %s\r\n"
                        "Content-Length: %u\r\nConnection: close\r\n\r\n",
                        path, (int)u->authority_len, u->authority, content_type, (unsigned)len);
    *why = "the request is too large";
    if (head < 0 || (size_t)head + len > sizeof(c->out))
        return -EINVAL;
    memcpy(c->out + head, body, len);
    c->out_len = (size_t)head + len;
    c->out_sent = c->in_len = 0;
    c->in[0] = '\0';
    return 0;
}

int http_client_post(const char *url, const char *path_default, const char *content_type,
                     const char *body, size_t len, http_client_done_fn done, void *ctx,
                     const char **why)
{
    struct client *c = free_client();
    struct url u;
    int ret;

    *why = "busy: the most requests at once (HTTP_CLIENT_MAX) are already in flight";
    if (!c)
        return -EBUSY;
    ret = parse_url(url, &u, why);
    if (ret)
        return ret;
    if (u.tls && !tls_server_ready()) {
        *why = "https needs the appliance's HTTPS identity: log in first";
        return -EIO;
    }
    ret = compose(c, &u, !u.path || strcmp(u.path, "/") == 0 ? path_default : u.path, content_type,
                  body, len, why);
    if (ret)
        return ret;
    *why = "out of network memory";
    c->pcb = altcp_tcp_new_ip_type(IPADDR_TYPE_V4);
    if (!c->pcb)
        return -ENOMEM;
    c->tls = NULL;
    c->established = !u.tls;
    if (u.tls) {
        c->tls = tls_client_conn_new(c->pcb);
        if (!c->tls) {
            altcp_abort(c->pcb);
            c->pcb = NULL;
            *why = "no memory for a TLS session";
            return -ENOMEM;
        }
    }
    c->busy = true;
    c->done = done;
    c->ctx = ctx;
    c->deadline = sys_now() + timeout_ms;
    altcp_arg(c->pcb, c);
    altcp_recv(c->pcb, on_recv);
    altcp_sent(c->pcb, on_sent);
    altcp_err(c->pcb, on_err);
    err_t err = altcp_connect(c->pcb, &u.ip, u.port, on_connected);
    if (err != ERR_OK) {
        detach(c->pcb);
        altcp_abort(c->pcb);
        c->pcb = NULL;
        tls_conn_free(c->tls);
        c->tls = NULL;
        c->busy = false;
        *why = err == ERR_RTE ? "cannot connect: no route" : "cannot connect: out of memory";
        return -EIO;
    }
    return 0;
}

void http_client_tick(uint32_t now_ms)
{
    for (size_t i = 0; i < HTTP_CLIENT_MAX; i++) {
        struct client *c = &clients[i];
        if (!c->busy || (int32_t)(now_ms - c->deadline) < 0)
            continue;
        struct altcp_pcb *pcb = c->pcb;
        c->pcb = NULL;
        tls_conn_free(c->tls); /* nothing more is said on it: no close_notify */
        c->tls = NULL;
        if (pcb) {
            detach(pcb);
            altcp_abort(pcb);
        }
        (void)finish(c, 0, NULL, 0, "no answer in time");
    }
}

#if SIGNET_TEST_HOOKS
void http_client_test_timeout(uint32_t ms)
{
    timeout_ms = ms ? ms : HTTP_CLIENT_TIMEOUT_MS;
}
#endif
