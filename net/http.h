/*
 * net/http — a small HTTP/1.1 server on lwIP's altcp API (so TLS can slide underneath).
 *
 * Requests are parsed with hard limits: the request head (request line + headers) is at most
 * HTTP_HEAD_MAX bytes (431 beyond), a body needs Content-Length and is at most HTTP_BODY_MAX
 * (413 beyond); chunked bodies are refused (501). A connection must deliver its head within
 * HTTP_HEAD_TIMEOUT_MS and its body within HTTP_BODY_TIMEOUT_MS, and idles at most
 * HTTP_IDLE_TIMEOUT_MS between keep-alive requests; slower clients are dropped. At most
 * HTTP_CONN_MAX connections are served; one more gets "503 busy" and is closed. Every error is a
 * status plus a one-line reason; after one the connection is closed, since its framing is no
 * longer trusted. Handlers run in the net task and must not block for long.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "signet_config.h"

struct http_request {
    const char *method; /* "GET" or "POST" */
    const char *path;
    const uint8_t *body;
    size_t body_len;
};

struct http_response {
    int status;
    const char *content_type;
    const char *body; /* valid until the handler's next call */
    size_t body_len;
};

typedef void (*http_handler_fn)(void *ctx, const struct http_request *req,
                                struct http_response *resp);

struct http_stats {
    uint32_t accepted, refused_busy, requests, errors, timeouts, active;
};

/* Listen on port (plain TCP for now). Routes are added before or after. */
int http_server_start(uint16_t port);
int http_route_add(const char *method, const char *path, http_handler_fn fn, void *ctx);
/* Expire slow and idle connections; call every tick. */
void http_tick(uint32_t now_ms);
void http_stats(struct http_stats *out);

#endif
