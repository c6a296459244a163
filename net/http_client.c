#include "http_client.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lwip/altcp.h"
#include "lwip/altcp_tcp.h"
#include "lib/ipv4.h"
#include "lwip/sys.h"
#include "http_parse.h"
#include "net.h"
#include "resolve.h"
#include "signet_config.h"
#include "tls.h"

/* One exchange. busy from a successful http_client_post until its done() has returned. */
struct client {
    bool busy;
    bool established; /* TLS handshake done (always true without TLS) */
    bool resolving;   /* waiting for the server's name to resolve */
    uint16_t port;
    struct altcp_pcb *pcb;
    struct tls_conn *tls; /* https only */
    http_client_done_fn done;
    void *ctx;
    uint32_t deadline;
    size_t out_len, out_sent;
    char out[HTTP_CLIENT_REQUEST_MAX];
    size_t in_len;
    char in[HTTP_CLIENT_RESPONSE_MAX + 1]; /* NUL-terminated for the head scan */
    /* A GET (http_client_get): the head is read into in[], the body into the caller's big[]. */
    bool get;
    bool in_body; /* the head is read: what comes is body */
    int status;
    uint8_t *big;
    size_t big_cap, body_want, body_len;
    char why[64];
};

static struct client clients[HTTP_CLIENT_MAX];
static uint32_t timeout_ms = HTTP_CLIENT_TIMEOUT_MS;

static void resolved(void *ctx, uint32_t addr, const char *why);

/* End the exchange: close, then report exactly once. ERR_ABRT if the connection had to be
 * aborted (what a callback of that connection must then return). */
static err_t finish(struct client *c, int status, const char *body, size_t len, const char *why)
{
    struct altcp_pcb *pcb = c->pcb;
    err_t ret = ERR_OK;

    if (c->resolving)
        resolve_cancel(resolved, c);
    c->resolving = false;
    c->pcb = NULL;
    if (c->tls) {
        if (pcb && c->established)
            tls_conn_close_notify(c->tls);
        tls_conn_free(c->tls);
        c->tls = NULL;
    }
    if (pcb) {
        net_pcb_detach(pcb);
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

/* A GET: look at what has arrived (the head in in[], the body in big[]). true when the exchange
 * is over (finished, *ret set). A head just completed moves the body bytes read with it. */
static bool get_progress(struct client *c, bool eof, err_t *ret)
{
    if (!c->in_body) {
        size_t head_len = 0, want = 0;
        const char *why = "";
        int r = http_parse_answer_head(c->in, c->in_len, eof, c->big_cap, &c->status, &head_len,
                                       &want, &why);
        if (r == -2) {
            snprintf(c->why, sizeof(c->why), "the answer is larger than %zu bytes", c->big_cap);
            why = c->why;
        }
        if (r < 0) {
            *ret = finish(c, 0, NULL, 0, why);
            return true;
        }
        if (r == 0)
            return false;
        size_t extra = c->in_len - head_len;
        c->in_body = true;
        c->body_want = want;
        c->body_len = extra < want ? extra : want; /* anything past Content-Length is not ours */
        memcpy(c->big, c->in + head_len, c->body_len);
    }
    if (c->body_len == c->body_want) {
        *ret = finish(c, c->status, (const char *)c->big, c->body_len, "");
        return true;
    }
    if (eof) {
        *ret = finish(c, 0, NULL, 0, "the server closed the connection before its whole answer");
        return true;
    }
    return false;
}

/* A GET: bytes received in the clear, into in[] while the head lasts, then into big[]. */
static bool get_feed(struct client *c, const uint8_t *data, size_t n, err_t *ret)
{
    while (n) {
        size_t k;
        if (!c->in_body) {
            size_t room = HTTP_CLIENT_RESPONSE_MAX - c->in_len;
            if (room == 0) {
                *ret = finish(c, 0, NULL, 0, "the server's answer head is too large");
                return true;
            }
            k = n < room ? n : room;
            memcpy(c->in + c->in_len, data, k);
            c->in_len += k;
            c->in[c->in_len] = '\0';
        } else {
            size_t room = c->body_want - c->body_len;
            k = n < room ? n : room;
            memcpy(c->big + c->body_len, data, k);
            c->body_len += k;
            if (k == 0)
                k = n; /* past Content-Length: dropped */
        }
        data += k;
        n -= k;
        if (get_progress(c, false, ret))
            return true;
    }
    return false;
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
    while (c->get) {
        uint8_t *to = c->in_body ? c->big + c->body_len : (uint8_t *)c->in + c->in_len;
        size_t room =
            c->in_body ? c->body_want - c->body_len : HTTP_CLIENT_RESPONSE_MAX - c->in_len;
        if (room == 0) {
            if (!c->in_body)
                return finish(c, 0, NULL, 0, "the server's answer head is too large");
            return get_progress(c, true, &ret) ? ret : ERR_OK;
        }
        int n = tls_conn_read(c->tls, to, room);
        if (n < 0) {
            if (!c->in_len)
                return finish(c, 0, NULL, 0, tls_conn_why(c->tls));
            (void)get_progress(c, true, &ret);
            return ret;
        }
        if (n == 0)
            return eof && get_progress(c, true, &ret) ? ret : ERR_OK;
        if (c->in_body) {
            c->body_len += (size_t)n;
        } else {
            c->in_len += (size_t)n;
            c->in[c->in_len] = '\0';
        }
        if (get_progress(c, false, &ret))
            return ret;
    }
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

/* Its handshake waited off the net task (for the token, or for a runner) and can go on now. */
static void tls_woken(void *arg)
{
    struct client *c = arg;

    if (c->busy && c->pcb && c->tls && !c->established)
        (void)tls_pump(c, false);
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
        if (c->get)
            (void)get_progress(c, true, &ret);
        else
            (void)check_answer(c, true, &ret);
        return ret;
    }
    if (c->tls) {
        tls_conn_input(c->tls, p); /* acknowledged to TCP as the TLS layer consumes it */
        return tls_pump(c, false);
    }
    altcp_recved(pcb, p->tot_len);
    if (c->get) {
        for (struct pbuf *q = p; q; q = q->next)
            if (get_feed(c, q->payload, q->len, &ret))
                break;
        pbuf_free(p);
        return ret;
    }
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
    bool named; /* host is a name to resolve, else ip holds the address */
    ip_addr_t ip;
    uint16_t port;
    char host[RESOLVE_NAME_MAX + 1];
    const char *authority; /* HOST[:PORT], for the Host header */
    size_t authority_len;
    const char *path; /* NULL: none given */
};

/* "http[s]://HOST[:PORT][/PATH]", HOST an IPv4 address or a host name; the path is printable
 * ASCII without spaces. */
static int parse_url(const char *s, struct url *u, const char **why)
{
    size_t n = 0;
    const char *p;

    *why = "the URL must be http[s]://HOST[:PORT][/PATH] (HOST an IPv4 address or a host name)";
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
    for (; *p && *p != ':' && *p != '/'; p++) {
        if (n == sizeof(u->host) - 1)
            return -EINVAL;
        u->host[n++] = *p;
    }
    u->host[n] = '\0';
    uint32_t a;
    u->named = ipv4_parse(u->host, &a) != 0;
    if (u->named && resolve_name_check(u->host, n) != 0)
        return -EINVAL;
    ip_addr_set_ip4_u32_val(u->ip, lwip_htonl(u->named ? 0 : a));
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

/* The request into c->out: a POST with body, or (content_type NULL) a GET. */
static int compose(struct client *c, const struct url *u, const char *path,
                   const char *content_type, const char *body, size_t len, const char **why)
{
    int head = content_type ? snprintf(c->out, sizeof(c->out),
                                       "POST %s HTTP/1.1\r\nHost: %.*s\r\nContent-Type: %s\r\n"
                                       "Content-Length: %u\r\nConnection: close\r\n\r\n",
                                       path, (int)u->authority_len, u->authority, content_type,
                                       (unsigned)len)
                            : snprintf(c->out, sizeof(c->out),
                                       "GET %s HTTP/1.1\r\nHost: %.*s\r\nConnection: close\r\n\r\n",
                                       path, (int)u->authority_len, u->authority);
    *why = "the request is too large";
    if (head < 0 || (size_t)head + len > sizeof(c->out))
        return -EINVAL;
    if (len)
        memcpy(c->out + head, body, len);
    c->out_len = (size_t)head + len;
    c->out_sent = c->in_len = 0;
    c->in[0] = '\0';
    return 0;
}

/* Release what start() took, reporting nothing: it is refusing the call. */
static void undo_start(struct client *c)
{
    net_pcb_detach(c->pcb);
    altcp_abort(c->pcb);
    c->pcb = NULL;
    tls_conn_free(c->tls);
    c->tls = NULL;
    c->busy = false;
}

static int connect_to(struct client *c, const ip_addr_t *ip, const char **why)
{
    err_t err = altcp_connect(c->pcb, ip, c->port, on_connected);

    *why = err == ERR_RTE ? "cannot connect: no route" : "cannot connect: out of memory";
    return err == ERR_OK ? 0 : -EIO;
}

/* The server's name resolved (why NULL) or did not: connect, or end the exchange. */
static void resolved(void *ctx, uint32_t addr, const char *why)
{
    struct client *c = ctx;
    ip_addr_t ip;

    if (!c->busy || !c->resolving)
        return;
    c->resolving = false;
    if (why) {
        (void)finish(c, 0, NULL, 0, why);
        return;
    }
    ip_addr_set_ip4_u32_val(ip, lwip_htonl(addr));
    if (connect_to(c, &ip, &why) != 0)
        (void)finish(c, 0, NULL, 0, why);
}

/* Start an exchange: content_type NULL a GET into big[cap], else a POST of body[len]. */
static int start(const char *url, const char *path_default, const char *content_type,
                 const char *body, size_t len, uint8_t *big, size_t cap, http_client_done_fn done,
                 void *ctx, const char **why)
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
        tls_conn_set_wake(c->tls, tls_woken, c);
    }
    c->get = content_type == NULL;
    c->in_body = false;
    c->big = big;
    c->big_cap = cap;
    c->body_want = c->body_len = 0;
    c->status = 0;
    c->busy = true;
    c->done = done;
    c->ctx = ctx;
    c->deadline = sys_now() + timeout_ms;
    altcp_arg(c->pcb, c);
    altcp_recv(c->pcb, on_recv);
    altcp_sent(c->pcb, on_sent);
    altcp_err(c->pcb, on_err);
    c->port = u.port;
    c->resolving = false;
    if (u.named) {
        uint32_t addr = 0;
        ret = resolve_start(u.host, &addr, resolved, c, why);
        if (ret == 0) {
            c->resolving = true;
            return 0;
        }
        if (ret < 0) {
            undo_start(c);
            return ret;
        }
        ip_addr_set_ip4_u32_val(u.ip, lwip_htonl(addr));
    }
    ret = connect_to(c, &u.ip, why);
    if (ret)
        undo_start(c);
    return ret;
}

int http_client_post(const char *url, const char *path_default, const char *content_type,
                     const char *body, size_t len, http_client_done_fn done, void *ctx,
                     const char **why)
{
    *why = "no content type";
    if (!content_type)
        return -EINVAL;
    return start(url, path_default, content_type, body, len, NULL, 0, done, ctx, why);
}

int http_client_get(const char *url, const char *path_default, uint8_t *buf, size_t cap,
                    http_client_done_fn done, void *ctx, const char **why)
{
    *why = "no buffer for the answer";
    if (!buf || !cap)
        return -EINVAL;
    return start(url, path_default, NULL, NULL, 0, buf, cap, done, ctx, why);
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
            net_pcb_detach(pcb);
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
