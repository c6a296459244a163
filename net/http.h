/*
 * net/http — a small HTTP/1.1 server on lwIP's altcp API (so TLS can slide underneath).
 *
 * Requests are parsed with hard limits: the request head (request line + headers) is at most
 * HTTP_HEAD_MAX bytes (431 beyond), a body needs Content-Length and is at most HTTP_BODY_MAX
 * (413 beyond); chunked bodies are refused (501). A connection must deliver its head within
 * HTTP_HEAD_TIMEOUT_MS and its body within HTTP_BODY_TIMEOUT_MS, and idles at most
 * HTTP_IDLE_TIMEOUT_MS between keep-alive requests; slower clients are dropped. At most
 * HTTP_CONN_MAX connections are held (HTTPS at most HTTP_CONN_MAX - HTTP_PLAIN_RESERVE, one
 * address at most HTTP_CONN_PER_ADDR per port); a request buffer (HTTP_BUFS) and, over TLS, a
 * session are taken on the first byte and given back when the connection is idle. When a cap or
 * the buffers are reached, the connection only waiting for its client whose last progress is
 * oldest is closed to make room; only when every one is answering does a new one get "503 busy"
 * (a TLS one is closed). Every error is a
 * status plus a one-line reason; after one the connection is closed, since its framing is no
 * longer trusted. Over TLS the handshake must finish within the head time-out too. Handlers
 * run in the net task and must not block for long.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "signet_config.h"

#define HTTP_FINGERPRINT_LEN 32
/* The most certificates a TLS client may present (its leaf and up to 3 intermediates); a
 * Certificate message with more is refused in the handshake (net/tls). */
#define HTTP_CLIENT_CHAIN_MAX 4

/* A certificate's DER, pointing into memory the server owns. */
struct http_cert {
    const uint8_t *der;
    size_t len;
};

struct http_request {
    const char *method; /* "GET" or "POST" */
    const char *path;
    const uint8_t *body;
    size_t body_len;
    bool secure;      /* arrived over TLS */
    bool client_cert; /* the TLS client presented a certificate (and proved its key) */
    uint8_t client_fp[HTTP_FINGERPRINT_LEN]; /* its SHA-256 fingerprint: the caller's identity */
    /* The chain the TLS client presented, as it sent it (leaf first; client_chain_n 0: none),
     * unverified: whoever uses it decides what it proves. Valid during the handler call only
     * (a deferred answer must copy what it needs). */
    struct http_cert client_chain[HTTP_CLIENT_CHAIN_MAX];
    size_t client_chain_n;
};

struct http_response {
    int status;
    const char *content_type;
    const char *body; /* valid until the handler's next call; copied (at most HTTP_OUT_MAX) */
    size_t body_len;
    /* The body is the handler's and stays as it is until it calls http_forget_body(body): it is
     * sent from there, in pieces, whatever its size (a CRL of thousands of entries). */
    bool kept;
};

/* A kept body is about to change or go: connections still sending it are closed (the client
 * sees a cut answer, never a mix of two). */
void http_forget_body(const void *body);

typedef void (*http_handler_fn)(void *ctx, const struct http_request *req,
                                struct http_response *resp);

struct http_stats {
    uint32_t accepted, refused_busy, requests, errors, timeouts, active;
    uint32_t tls_refused; /* TLS connections closed because no session could start */
    uint32_t evicted;     /* idle or slow connections closed to admit or serve another */
    uint32_t no_buffer;   /* times bytes waited because every buffer was answering */
};

/* Listen on port, over TLS (net/tls) or plain TCP. Routes are added before or after. */
int http_server_start(uint16_t port, bool tls);

/* HTTP_ROUTE_PLAIN: also served without TLS; every other route answers 403 there. */
#define HTTP_ROUTE_PLAIN 1u
int http_route_add(const char *method, const char *path, unsigned flags, http_handler_fn fn,
                   void *ctx);
/*
 * Answers that must wait (a request forwarded to another server): the handler calls
 * http_defer(req), returns without filling resp, and later, from the net task, answers with
 * http_complete(id, resp) — which copies the body, so it need not outlive the call. A deferred
 * request not completed within HTTP_DEFER_TIMEOUT_MS is answered "504 upstream timed out" by the
 * server; a connection does not read its next request while one is deferred. http_complete on a
 * connection that is gone (or an id already answered) returns -ENOENT and does nothing.
 * http_defer returns 0 (never a valid id) when the request cannot be deferred: answer at once.
 */
uint32_t http_defer(const struct http_request *req);
int http_complete(uint32_t id, const struct http_response *resp);
/* Longer than the HTTP client's own time-out, so a forwarded request normally ends with the
 * upstream's answer or the client's reason rather than this. */
#ifndef HTTP_DEFER_TIMEOUT_MS
#define HTTP_DEFER_TIMEOUT_MS (HTTP_CLIENT_TIMEOUT_MS + 5000)
#endif
#if SIGNET_TEST_HOOKS
/* Test builds: the deferral time-out for requests deferred from now on (0: the default). */
void http_test_defer_timeout(uint32_t ms);
#endif

/* Expire slow and idle connections; call every tick. */
void http_tick(uint32_t now_ms);
void http_stats(struct http_stats *out);

#endif
