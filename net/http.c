#include "http.h"
#include "net.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lwip/altcp.h"
#include "lwip/altcp_tcp.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"
#include "crypto/heap.h"
#include "http_parse.h"
#include "tls.h"

/* C_DEFERRED: a handler deferred its answer (http_defer); what the client sends meanwhile is
 * buffered, not served, until http_complete or the deferral time-out answers.
 * C_DRAINING: the answer is out and our side closed; what the client still sends is dropped
 * until it closes or HTTP_LINGER_MS pass, so it gets to read the answer instead of a reset. */
enum conn_state { C_FREE = 0, C_READING, C_DEFERRED, C_SENDING, C_DRAINING };

struct route {
    const char *method;
    const char *path;
    unsigned flags;
    http_handler_fn fn;
    void *ctx;
};

/* What a connection needs only while a request is read or answered: taken on the first byte,
 * given back once the connection is idle again, so an idle connection costs a struct conn. */
struct conn_buf {
    bool used;
    bool secure; /* held by an HTTPS connection (at most HTTP_BUFS - HTTP_PLAIN_BUFS of them) */
    uint8_t in[HTTP_HEAD_MAX + HTTP_BODY_MAX];
    char out[HTTP_OUT_MAX];
};

struct conn {
    enum conn_state state;
    struct altcp_pcb *pcb;
    struct tls_conn *tls; /* NULL on the plain port, and over TLS until the first byte */
    struct conn_buf *buf; /* NULL while idle */
    bool secure;          /* accepted on the TLS port */
    bool established;     /* TLS handshake done (always true on the plain port) */
    bool has_peer;
    uint8_t peer_fp[HTTP_FINGERPRINT_LEN];
    uint32_t addr; /* the client's IPv4 address, for the per-address cap */
    uint32_t deadline;
    uint32_t since;    /* the last progress (accepted, handshake done, answer sent): for reaping */
    bool close_after;  /* close once the response is out */
    bool have_head;    /* h and head_len describe the request at the start of in[] */
    bool in_process;   /* process() is on the stack: it serves what follows itself */
    bool deferred;     /* the handler being called deferred its answer: dispatch sends none */
    bool want_buf;     /* TLS plaintext waits for a buffer: http_tick tries again */
    uint32_t defer_id; /* while C_DEFERRED: what http_complete names; 0 otherwise */
    struct http_head h;
    size_t head_len;
    size_t scan_from; /* where the search for the end of the head resumes */
    size_t in_len;
    size_t out_len, out_sent;
    /* A kept body (http_response.kept): sent from the handler's memory after the head in out[],
     * never copied whole; http_forget_body closes the connection if it is still being sent. */
    const uint8_t *kept;
    size_t kept_len, kept_sent;
};

#define IN(c)  ((c)->buf->in)
#define OUT(c) ((c)->buf->out)
#define IN_CAP sizeof(((struct conn_buf *)0)->in)

static struct conn conns[HTTP_CONN_MAX];
static struct conn_buf bufs[HTTP_BUFS];
/* The listening ports: their accept callbacks get one of these as arg. */
static const bool listener_plain = false, listener_tls = true;
static struct route routes[HTTP_ROUTES_MAX];
static size_t nroutes;
static struct http_stats stats;
/* The request whose handler is running, so that http_defer knows its connection. */
static struct conn *dispatching;
static const struct http_request *dispatching_req;
static uint32_t last_defer_id;
static uint32_t defer_timeout_ms = HTTP_DEFER_TIMEOUT_MS;

static const char busy_reply[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
                                 "Content-Length: 5\r\nConnection: close\r\n\r\nbusy\n";

static void process(struct conn *c);

static void buf_put(struct conn *c)
{
    if (c->buf)
        c->buf->used = false;
    c->buf = NULL;
}

static void conn_release(struct conn *c)
{
    c->kept = NULL; /* a forgotten body is never looked at again */
    c->kept_len = c->kept_sent = 0;
    if (c->pcb) {
        net_pcb_detach(c->pcb);
    }
    tls_conn_free(c->tls);
    buf_put(c);
    c->tls = NULL;
    c->pcb = NULL;
    c->state = C_FREE;
    c->defer_id = 0; /* a late http_complete finds nothing */
    stats.active--;
}

static void conn_close(struct conn *c)
{
    struct altcp_pcb *pcb = c->pcb;
    if (c->tls && c->established && pcb)
        tls_conn_close_notify(c->tls);
    conn_release(c);
    if (pcb && altcp_close(pcb) != ERR_OK)
        altcp_abort(pcb);
}

/* The last connection aborted: a receive callback that aborted its own must say ERR_ABRT. */
static struct altcp_pcb *aborted;

static void conn_abort(struct conn *c)
{
    struct altcp_pcb *pcb = c->pcb;
    conn_release(c);
    if (pcb) {
        aborted = pcb;
        altcp_abort(pcb);
    }
}

/*
 * Reaping. A connection that is only waiting for its client — idle, or still reading a request
 * head or body, or lingering after its answer — may be closed to admit another: the one whose
 * last progress is oldest goes first, lingering ones before all others. Connections whose answer
 * is being made or sent are never taken, nor keep (the one asking). The PICK_ flags narrow the
 * choice.
 */
#define PICK_ANY    0u
#define PICK_SECURE 1u /* an HTTPS connection */
#define PICK_ADDR   2u /* from the given address, on the given port */
#define PICK_TLS    4u /* holding a TLS session */
#define PICK_BUF    8u /* holding a buffer */

static struct conn *pick_victim(unsigned what, bool secure, uint32_t addr, const struct conn *keep)
{
    struct conn *best = NULL;
    uint32_t now = sys_now();

    for (size_t i = 0; i < HTTP_CONN_MAX; i++) {
        struct conn *v = &conns[i];
        if (v == keep || v->in_process || v == dispatching)
            continue;
        if (v->state != C_READING && v->state != C_DRAINING)
            continue;
        if (((what & PICK_SECURE) && !v->secure) ||
            ((what & PICK_ADDR) && (v->addr != addr || v->secure != secure)) ||
            ((what & PICK_TLS) && !v->tls) || ((what & PICK_BUF) && !v->buf))
            continue;
        if (v->state == C_DRAINING)
            return v;
        if (!best || (int32_t)(now - v->since) > (int32_t)(now - best->since))
            best = v;
    }
    return best;
}

static bool evict(unsigned what, bool secure, uint32_t addr, const struct conn *keep)
{
    struct conn *v = pick_victim(what, secure, addr, keep);

    if (!v)
        return false;
    stats.evicted++;
    conn_abort(v);
    return true;
}

/* A buffer for c, reaping a slower connection's if none is free. HTTPS connections hold at most
 * HTTP_BUFS - HTTP_PLAIN_BUFS: the rest stay for port 80 (/health). */
static bool conn_take_buf(struct conn *c)
{
    for (int round = 0; !c->buf && round < 2; round++) {
        size_t secure_held = 0;
        struct conn_buf *free_buf = NULL;
        for (size_t i = 0; i < HTTP_BUFS; i++) {
            if (bufs[i].used)
                secure_held += bufs[i].secure;
            else if (!free_buf)
                free_buf = &bufs[i];
        }
        bool quota = c->secure && secure_held >= HTTP_BUFS - HTTP_PLAIN_BUFS;
        if (free_buf && !quota) {
            free_buf->used = true;
            free_buf->secure = c->secure;
            c->buf = free_buf;
            break;
        }
        if (round == 0 && !evict(PICK_BUF | (quota ? PICK_SECURE : 0), c->secure, c->addr, c))
            break;
    }
    if (!c->buf)
        stats.no_buffer++;
    return c->buf != NULL;
}

/* Give the buffer back when nothing is in it and nothing is being answered. */
static void conn_idle_buf(struct conn *c)
{
    if (c->in_process)
        return;
    if ((c->state == C_READING && c->in_len == 0 && !c->have_head) || c->state == C_DRAINING)
        buf_put(c);
}

static void tls_pump(struct conn *c);
static bool conn_start_tls(struct conn *c);

static void conn_linger(struct conn *c)
{
    if (c->tls) {
        if (c->established)
            tls_conn_close_notify(c->tls);
        tls_conn_free(c->tls); /* nothing more is decrypted: give its buffers back now */
        c->tls = NULL;
    }
    if (altcp_shutdown(c->pcb, 0, 1) != ERR_OK) {
        conn_abort(c);
        return;
    }
    c->state = C_DRAINING;
    c->deadline = sys_now() + HTTP_LINGER_MS;
    conn_idle_buf(c); /* the answer is in the TCP send buffer: ours is free (unless in use) */
}

/* After a response is out: serve what the client sent meanwhile — first what is buffered
 * already (it arrived while we answered, or waited behind a deferred request), then, over TLS,
 * what the TLS layer still holds. process() loops by itself. */
static void receive_more(struct conn *c)
{
    if (c->in_process)
        return;
    process(c);
    if (c->tls)
        tls_pump(c);
}

/* Hand data[left] to TLS or TCP: how much was taken (0: the send buffer is full), -1 failed. */
static int send_some(struct conn *c, const uint8_t *data, size_t left)
{
    if (c->tls)
        return tls_conn_write(c->tls, data, left);
    size_t room = altcp_sndbuf(c->pcb);
    size_t n = left < room ? left : room;
    if (n > 0xffffu)
        n = 0xffffu;
    /* Copied into lwIP: a kept body may be forgotten while TCP still holds unacknowledged bytes. */
    if (n && altcp_write(c->pcb, data, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK)
        return 0;
    if (n)
        altcp_output(c->pcb);
    return (int)n;
}

/* Push as much of the pending response (head and body in out[], then a kept body) as the send
 * buffer takes; the rest goes on sent(). */
static void conn_flush(struct conn *c)
{
    for (;;) {
        const uint8_t *data;
        size_t left;
        if (c->out_sent < c->out_len) {
            data = (const uint8_t *)OUT(c) + c->out_sent;
            left = c->out_len - c->out_sent;
        } else if (c->kept_sent < c->kept_len) {
            data = c->kept + c->kept_sent;
            left = c->kept_len - c->kept_sent;
        } else {
            break;
        }
        int n = send_some(c, data, left);
        if (n < 0) {
            conn_abort(c);
            return;
        }
        if (n == 0)
            return; /* the send buffer is full: on_sent() calls again */
        if (c->out_sent < c->out_len)
            c->out_sent += (size_t)n;
        else
            c->kept_sent += (size_t)n;
    }
    c->kept = NULL;
    c->kept_len = c->kept_sent = 0;
    if (c->close_after) {
        conn_linger(c);
        return;
    }
    c->state = C_READING;
    c->out_len = c->out_sent = 0;
    c->deadline = sys_now() + HTTP_IDLE_TIMEOUT_MS;
    c->since = sys_now();
    receive_more(c);
    if (c->state != C_FREE)
        conn_idle_buf(c);
}

/* kept: body is the handler's, sent from where it is (any size); else copied into out[]. */
static void respond_body(struct conn *c, int status, const char *type, const char *body, size_t len,
                         bool kept)
{
    if (!c->buf && !conn_take_buf(c)) {
        conn_abort(c); /* no room to answer in: the client retries */
        return;
    }
    int n = snprintf(OUT(c), HTTP_OUT_MAX,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %u\r\n"
                     "Connection: %s\r\n\r\n",
                     status, http_reason_phrase(status), type, (unsigned)len,
                     c->close_after ? "close" : "keep-alive");
    if (n >= 0 && (size_t)n < HTTP_OUT_MAX && kept) {
        c->kept = (const uint8_t *)body;
        c->kept_len = len;
        c->kept_sent = 0;
        len = 0; /* nothing of it in out[] */
    } else if (n < 0 || (size_t)n + len > HTTP_OUT_MAX) {
        /* A handler's answer that does not fit is our bug, not the client's. */
        c->close_after = true;
        n = snprintf(OUT(c), HTTP_OUT_MAX,
                     "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n"
                     "Content-Length: 18\r\nConnection: close\r\n\r\nresponse too large\n");
        len = 0;
    } else if (len) {
        memcpy(OUT(c) + n, body, len);
    }
    c->out_len = (size_t)n + len;
    c->out_sent = 0;
    c->state = C_SENDING;
    c->deadline = sys_now() + HTTP_SEND_TIMEOUT_MS;
    conn_flush(c);
}

static void respond(struct conn *c, int status, const char *type, const char *body, size_t len)
{
    respond_body(c, status, type, body, len, false);
}

/* Errors close the connection: after a malformed request its framing is not to be trusted. */
static void respond_error(struct conn *c, int status, const char *reason)
{
    char line[128];
    int n = snprintf(line, sizeof(line), "%s\n", reason);

    stats.errors++;
    c->close_after = true;
    respond(c, status, "text/plain", line, n > 0 ? (size_t)n : 0);
}

static void dispatch(struct conn *c, const struct http_head *h, const uint8_t *body)
{
    struct http_request req = {.method = h->method,
                               .path = h->path,
                               .body = body,
                               .body_len = h->length,
                               .secure = c->tls != NULL,
                               .client_cert = c->has_peer};
    struct http_response resp = {404, "text/plain", "no such resource\n", 17, false};
    bool path_known = false;
    char *query = strchr(h->path, '?');

    if (query)
        *query = '\0';
    if (c->has_peer) {
        memcpy(req.client_fp, c->peer_fp, sizeof(req.client_fp));
        req.client_chain_n = tls_conn_peer_chain(c->tls, req.client_chain, HTTP_CLIENT_CHAIN_MAX);
    }
    stats.requests++;
    for (size_t i = 0; i < nroutes; i++) {
        if (strcmp(routes[i].path, h->path) != 0)
            continue;
        path_known = true;
        if (strcmp(routes[i].method, h->method) == 0) {
            if (!c->tls && !(routes[i].flags & HTTP_ROUTE_PLAIN)) {
                respond_error(c, 403, "HTTPS required");
                return;
            }
            /* Saved and restored: a handler's http_complete may serve another connection's
             * pipelined request, and with it another handler, before this one returns. */
            struct conn *outer = dispatching;
            const struct http_request *outer_req = dispatching_req;
            c->deferred = false;
            dispatching = c;
            dispatching_req = &req;
            routes[i].fn(routes[i].ctx, &req, &resp);
            dispatching = outer;
            dispatching_req = outer_req;
            if (c->deferred) {
                c->deferred = false; /* answered by http_complete (maybe already) or time-out */
                return;
            }
            respond_body(c, resp.status, resp.content_type, resp.body, resp.body_len, resp.kept);
            return;
        }
    }
    if (path_known)
        respond_error(c, 405, "method not allowed");
    else
        respond_error(c, 404, "no such resource");
}

/* Find the blank line ending the head (or a bare LF, refused at once), resuming where the last
 * search stopped. */
static size_t find_head_end(struct conn *c)
{
    return http_head_end((const char *)IN(c), c->in_len, &c->scan_from);
}

/* Serve every complete request in the buffer (keep-alive clients may pipeline). */
static void serve_buffered(struct conn *c)
{
    while (c->state == C_READING && c->in_len) {
        if (!c->have_head) {
            size_t head_len = find_head_end(c);
            const char *why;
            if (!head_len || head_len > HTTP_HEAD_MAX) {
                if (head_len > HTTP_HEAD_MAX || c->in_len >= HTTP_HEAD_MAX)
                    respond_error(c, 431, "request head too large");
                return;
            }
            /* Parsed once, in place: the NULs it writes stay inside this request's head. */
            int err = http_parse_head((char *)IN(c), head_len, &c->h, &why);
            if (err) {
                respond_error(c, err, why);
                return;
            }
            c->have_head = true;
            c->head_len = head_len;
            /* One deadline for the whole body: dribbling bytes does not extend it. */
            c->deadline = sys_now() + HTTP_BODY_TIMEOUT_MS;
        }
        if (c->in_len < c->head_len + c->h.length)
            return; /* the body is still on its way */
        c->close_after = c->h.close || (c->h.http10 && !c->h.keep_alive);
        dispatch(c, &c->h, IN(c) + c->head_len);
        if (c->state == C_FREE)
            return; /* aborted while answering */
        size_t used = c->head_len + c->h.length;
        memmove(IN(c), IN(c) + used, c->in_len - used);
        c->in_len -= used;
        c->have_head = false;
        c->scan_from = 0;
    }
}

static void process(struct conn *c)
{
    c->in_process = true;
    serve_buffered(c);
    c->in_process = false;
    if (c->state != C_FREE)
        conn_idle_buf(c);
}

static err_t on_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct conn *c = arg;

    if (!c) {
        if (p)
            pbuf_free(p);
        return ERR_OK;
    }
    if (!p || err != ERR_OK) {
        if (p)
            pbuf_free(p);
        conn_close(c); /* the client closed its side */
        return ERR_OK;
    }
    if (c->state == C_DRAINING) {
        altcp_recved(pcb, p->tot_len);
        pbuf_free(p);
        return ERR_OK;
    }
    aborted = NULL;
    if (c->secure) {
        if (!c->tls && !conn_start_tls(c)) {
            pbuf_free(p);
            conn_abort(c);
            return ERR_ABRT;
        }
        tls_conn_input(c->tls, p); /* acknowledged to TCP as the TLS layer consumes it */
        tls_pump(c);
        return aborted == pcb ? ERR_ABRT : ERR_OK;
    }
    if (!c->buf && !conn_take_buf(c))
        return ERR_MEM; /* every buffer is answering: lwIP offers these bytes again shortly */
    size_t room = IN_CAP - c->in_len;
    if (p->tot_len > room) {
        /* While we answer (or wait to), lwIP keeps the bytes and the window closes: flow
         * control, not loss. */
        if (c->state == C_SENDING || c->state == C_DEFERRED)
            return ERR_MEM;
        altcp_recved(pcb, p->tot_len);
        pbuf_free(p);
        respond_error(c, 413, "request too large");
        return ERR_OK;
    }
    altcp_recved(pcb, p->tot_len);
    pbuf_copy_partial(p, IN(c) + c->in_len, p->tot_len, 0);
    c->in_len += p->tot_len;
    pbuf_free(p);
    process(c);
    return aborted == pcb ? ERR_ABRT : ERR_OK;
}

/* Handshake, then decrypt into in[] as far as it has room, serving requests as they complete.
 * What does not fit stays with the TLS layer, unacknowledged: the TCP window closes. */
static void tls_pump(struct conn *c)
{
    if (!c->established) {
        int r = tls_conn_handshake(c->tls);
        if (r < 0) {
            stats.errors++;
            conn_abort(c); /* mbedTLS has sent its alert */
            return;
        }
        if (r == 0)
            return;
        c->established = true;
        c->since = sys_now();
        c->has_peer = tls_conn_peer_fingerprint(c->tls, c->peer_fp);
    }
    c->want_buf = false;
    /* A request served on the way may have ended the session (an error answer lingers). */
    while (c->tls && (c->state == C_READING || c->state == C_SENDING || c->state == C_DEFERRED) &&
           tls_conn_pending(c->tls)) {
        if (!c->buf && !conn_take_buf(c)) {
            c->want_buf = true; /* the plaintext waits in the TLS layer; http_tick retries */
            return;
        }
        if (c->in_len >= IN_CAP)
            return;
        int n = tls_conn_read(c->tls, IN(c) + c->in_len, IN_CAP - c->in_len);
        if (n < 0) {
            conn_close(c); /* close_notify or a broken record */
            return;
        }
        if (n == 0)
            break;
        c->in_len += (size_t)n;
        if (c->state == C_READING)
            process(c);
    }
    if (c->state != C_FREE)
        conn_idle_buf(c);
}

/* Its handshake waited off the net task (for the token, or for a runner) and can go on now. */
static void tls_woken(void *arg)
{
    struct conn *c = arg;

    if (c->state != C_FREE && c->tls && !c->established)
        tls_pump(c);
}

/* A TLS session for c, made on its first byte (an idle connection costs none): the slowest
 * session holders are reaped while the pool or the crypto heap has no room for one more
 * handshake. */
static bool conn_start_tls(struct conn *c)
{
    for (size_t i = 0; i <= HTTP_TLS_SESSIONS; i++) {
        struct crypto_heap_stats hs;
        crypto_heap_stats(&hs);
        if (hs.in_use + HTTP_TLS_HEAP_NEED <= CRYPTO_HEAP_MAX) {
            c->tls = tls_conn_new(c->pcb);
            if (c->tls) {
                tls_conn_set_wake(c->tls, tls_woken, c);
                return true;
            }
        }
        if (!evict(PICK_TLS, true, 0, c))
            break;
    }
    stats.tls_refused++;
    return false;
}

/* Output that waited for send room: a handshake flight, or an answer. */
static err_t resume_output(struct conn *c, struct altcp_pcb *pcb)
{
    aborted = NULL;
    if (c->tls && !c->established)
        tls_pump(c);
    else if (c->state == C_SENDING)
        conn_flush(c);
    return aborted == pcb ? ERR_ABRT : ERR_OK;
}

static err_t on_sent(void *arg, struct altcp_pcb *pcb, u16_t len)
{
    (void)len;
    return arg ? resume_output(arg, pcb) : ERR_OK;
}

/* Every second: a write that failed for want of lwIP's shared segments or heap (ERR_MEM) has no
 * acknowledgement of its own to wait for, so without this it would stall until its deadline. */
static err_t on_poll(void *arg, struct altcp_pcb *pcb)
{
    return arg ? resume_output(arg, pcb) : ERR_OK;
}

static void on_err(void *arg, err_t err)
{
    struct conn *c = arg;
    (void)err;
    if (c) {
        c->pcb = NULL; /* lwIP already freed it */
        conn_release(c);
    }
}

static err_t discard_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)arg;
    (void)err;
    if (p) {
        altcp_recved(pcb, p->tot_len);
        pbuf_free(p);
    }
    return ERR_OK;
}

/* A free slot for a new connection from addr on this port, reaping one when a cap is reached:
 * HTTP_CONN_PER_ADDR per address and port (the address's own slowest connection makes room),
 * HTTP_CONN_MAX - HTTP_PLAIN_RESERVE for HTTPS (an HTTPS one does), HTTP_CONN_MAX in all. */
static struct conn *admit(bool secure, uint32_t addr)
{
    size_t from_addr = 0, secure_n = 0;
    struct conn *slot = NULL;
    bool room = true;

    for (size_t i = 0; i < HTTP_CONN_MAX; i++) {
        struct conn *c = &conns[i];
        if (c->state == C_FREE) {
            if (!slot)
                slot = c;
            continue;
        }
        from_addr += c->addr == addr && c->secure == secure;
        secure_n += c->secure;
    }
    if (from_addr >= HTTP_CONN_PER_ADDR)
        room = evict(PICK_ADDR, secure, addr, NULL);
    else if (secure && secure_n >= HTTP_CONN_MAX - HTTP_PLAIN_RESERVE)
        room = evict(PICK_SECURE, secure, addr, NULL);
    else if (!slot)
        room = evict(PICK_ANY, secure, addr, NULL);
    if (!room)
        return NULL;
    for (size_t i = 0; !slot && i < HTTP_CONN_MAX; i++)
        if (conns[i].state == C_FREE)
            slot = &conns[i];
    return slot;
}

static err_t on_accept(void *arg, struct altcp_pcb *pcb, err_t err)
{
    const bool *tls = arg;
    if (err != ERR_OK || !pcb)
        return ERR_VAL;
    /* No identity yet (nobody logged in): nothing to talk TLS with. */
    if (*tls && !tls_server_ready()) {
        stats.tls_refused++;
        altcp_abort(pcb);
        return ERR_ABRT;
    }
    const ip_addr_t *ip = altcp_get_ip(pcb, 0);
    uint32_t addr = ip ? ip4_addr_get_u32(ip_2_ip4(ip)) : 0;
    struct conn *c = admit(*tls, addr);
    if (c) {
        memset(c, 0, sizeof(*c));
        c->secure = *tls;
        c->addr = addr;
        c->established = !*tls;
        c->state = C_READING;
        c->pcb = pcb;
        c->since = sys_now();
        c->deadline = c->since + HTTP_HEAD_TIMEOUT_MS;
        stats.accepted++;
        stats.active++;
        /* If lwIP runs out of connections itself, a new one displaces the longest inactive of
         * these rather than being dropped. */
        altcp_setprio(pcb, TCP_PRIO_MIN);
        altcp_arg(pcb, c);
        altcp_recv(pcb, on_recv);
        altcp_sent(pcb, on_sent);
        altcp_poll(pcb, on_poll, 2);
        altcp_err(pcb, on_err);
        return ERR_OK;
    }
    /* Full: say so in one static reply and close, rather than leave the client hanging. A TLS
     * client could not read a plain reply: it is just closed. */
    stats.refused_busy++;
    if (*tls) {
        altcp_abort(pcb);
        return ERR_ABRT;
    }
    altcp_recv(pcb, discard_recv);
    if (altcp_write(pcb, busy_reply, sizeof(busy_reply) - 1, 0) == ERR_OK)
        altcp_output(pcb);
    if (altcp_close(pcb) != ERR_OK) {
        altcp_abort(pcb);
        return ERR_ABRT;
    }
    return ERR_OK;
}

int http_server_start(uint16_t port, bool tls)
{
    struct altcp_pcb *pcb = altcp_tcp_new_ip_type(IPADDR_TYPE_V4);
    struct altcp_pcb *lpcb;

    if (!pcb)
        return -ENOMEM;
    if (altcp_bind(pcb, IP4_ADDR_ANY, port) != ERR_OK) {
        altcp_close(pcb);
        return -EADDRINUSE;
    }
    lpcb = altcp_listen_with_backlog(pcb, 4);
    if (!lpcb) {
        altcp_close(pcb);
        return -ENOMEM;
    }
    altcp_arg(lpcb, (void *)(uintptr_t)(tls ? &listener_tls : &listener_plain));
    altcp_accept(lpcb, on_accept);
    return 0;
}

void http_forget_body(const void *body)
{
    if (!body)
        return;
    for (size_t i = 0; i < HTTP_CONN_MAX; i++) {
        struct conn *c = &conns[i];
        /* Cut, not finished from a copy: the client must see a short answer, never a mix. */
        if (c->state == C_SENDING && c->kept == body) {
            stats.errors++;
            conn_abort(c);
        }
    }
}

int http_route_add(const char *method, const char *path, unsigned flags, http_handler_fn fn,
                   void *ctx)
{
    if (nroutes == HTTP_ROUTES_MAX)
        return -ENOSPC;
    routes[nroutes++] = (struct route){method, path, flags, fn, ctx};
    return 0;
}

/* A fresh id: never 0, never one a deferred connection still holds (after 2^32 of them). */
static uint32_t new_defer_id(void)
{
    for (;;) {
        bool taken = false;
        if (++last_defer_id == 0)
            last_defer_id = 1;
        for (size_t i = 0; i < HTTP_CONN_MAX; i++)
            taken |= conns[i].state == C_DEFERRED && conns[i].defer_id == last_defer_id;
        if (!taken)
            return last_defer_id;
    }
}

uint32_t http_defer(const struct http_request *req)
{
    struct conn *c = dispatching;

    /* Only the running handler's own request, once. */
    if (!c || req != dispatching_req || c->state != C_READING || c->deferred)
        return 0;
    c->deferred = true;
    c->defer_id = new_defer_id();
    c->state = C_DEFERRED;
    c->deadline = sys_now() + defer_timeout_ms;
    return c->defer_id;
}

int http_complete(uint32_t id, const struct http_response *resp)
{
    if (id == 0)
        return -ENOENT;
    for (size_t i = 0; i < HTTP_CONN_MAX; i++) {
        struct conn *c = &conns[i];
        if (c->state != C_DEFERRED || c->defer_id != id)
            continue;
        c->defer_id = 0;
        c->state = C_READING; /* respond() takes it from here, then serves what waited */
        respond(c, resp->status, resp->content_type ? resp->content_type : "text/plain", resp->body,
                resp->body_len);
        return 0;
    }
    return -ENOENT;
}

#if SIGNET_TEST_HOOKS
void http_test_defer_timeout(uint32_t ms)
{
    defer_timeout_ms = ms ? ms : HTTP_DEFER_TIMEOUT_MS;
}
#endif

void http_tick(uint32_t now_ms)
{
    static const char upstream_timeout[] = "upstream timed out\n";

    for (size_t i = 0; i < HTTP_CONN_MAX; i++) {
        struct conn *c = &conns[i];
        if (c->state == C_DEFERRED && (int32_t)(now_ms - c->deadline) >= 0) {
            /* The framing is intact: answer and keep the connection as the request asked. */
            c->defer_id = 0;
            c->state = C_READING;
            stats.timeouts++;
            respond(c, 504, "text/plain", upstream_timeout, sizeof(upstream_timeout) - 1);
            continue;
        }
        if (c->state == C_READING && c->want_buf) {
            tls_pump(c); /* its plaintext waited for a buffer */
            if (c->state == C_FREE)
                continue;
        }
        if (c->state != C_FREE && (int32_t)(now_ms - c->deadline) >= 0) {
            if (c->state != C_DRAINING)
                stats.timeouts++;
            conn_abort(c); /* slow, idle, or lingering too long: no more waiting on it */
        }
    }
}

void http_stats(struct http_stats *out)
{
    *out = stats;
}
