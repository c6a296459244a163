/*
 * net/http_client — one HTTP/1.1 POST at a time, for online enrollment and renewal.
 *
 * The URL is http://A.B.C.D[:PORT][/PATH]: an IPv4 literal (the appliance resolves no names),
 * plain HTTP — what comes back is a signed, chain-verified document, so the transport needs no
 * trust. The request goes out with Connection: close; the answer must carry Content-Length and
 * fit HTTP_CLIENT_RESPONSE_MAX bytes, and arrive within HTTP_CLIENT_TIMEOUT_MS of the call.
 * Exactly one call of done() reports the outcome, from the net task: status and body, or status
 * 0 and a one-line reason. Runs in the net task like the server.
 */
#ifndef HTTP_CLIENT_H
#define HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

typedef void (*http_client_done_fn)(void *ctx, int status, const char *body, size_t len,
                                    const char *why);

/* Start a POST; 0, or -EBUSY (one in flight), -EINVAL (bad URL; *why says how), -ENOMEM. */
int http_client_post(const char *url, const char *path_default, const char *content_type,
                     const char *body, size_t len, http_client_done_fn done, void *ctx,
                     const char **why);

/* Time-outs; call every tick. */
void http_client_tick(uint32_t now_ms);

#endif
