/*
 * net/http_client — HTTP/1.1 POSTs, up to HTTP_CLIENT_MAX at once, for online enrollment,
 * renewal, sub-enrollment and the certification requests a licensing server forwards.
 *
 * The URL is http[s]://HOST[:PORT][/PATH], HOST an IPv4 address or a host name (net/resolve looks
 * it up; the lookup counts against the request's deadline, and its failure is the request's).
 * Over https (TLS 1.3 or 1.2, mbedTLS client) the appliance presents its own HTTPS identity
 * (net/tls: the certificate whose fingerprint `tls fingerprint` shows, key in the token) as the
 * client certificate — the principal a root's ACL grants. The server's certificate is not
 * verified: what comes back is a signed, chain-verified document, so the transport needs no
 * trust, only the caller's identity. The request goes out with Connection: close; the answer
 * must carry Content-Length (no chunked bodies) and fit HTTP_CLIENT_RESPONSE_MAX bytes, and
 * arrive within HTTP_CLIENT_TIMEOUT_MS of the call; each request has its own deadline.
 * Exactly one call of done() reports the outcome, from the net task: status and body, or status
 * 0 and a one-line reason (garbage, a TLS alert, an oversized or cut-short answer, no answer in
 * time). The body is valid only during done(). Runs in the net task like the server; done() is
 * never called from within http_client_post().
 */
#ifndef HTTP_CLIENT_H
#define HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "signet_config.h"

typedef void (*http_client_done_fn)(void *ctx, int status, const char *body, size_t len,
                                    const char *why);

#define HTTP_CLIENT_MAX 4

/*
 * Start a POST (body copied); 0, or with *why set: -EBUSY (HTTP_CLIENT_MAX in flight), -EINVAL
 * (bad URL, request too large), -ENOMEM, -EIO (https before the HTTPS identity is set up, or
 * no route).
 */
int http_client_post(const char *url, const char *path_default, const char *content_type,
                     const char *body, size_t len, http_client_done_fn done, void *ctx,
                     const char **why);

/*
 * A GET whose answer may be large (a CRL): the body is received into buf[cap] (the caller's; it
 * must stay valid until done), and done's body points there. Longer than cap: status 0 "the
 * answer is larger than N bytes". Otherwise as http_client_post.
 */
int http_client_get(const char *url, const char *path_default, uint8_t *buf, size_t cap,
                    http_client_done_fn done, void *ctx, const char **why);

/* Time-outs; call every tick. */
void http_client_tick(uint32_t now_ms);

#if SIGNET_TEST_HOOKS
/* Test builds: the per-request time-out for requests started from now on (0: the default). */
void http_client_test_timeout(uint32_t ms);
#endif

#endif
