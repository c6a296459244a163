/*
 * firmware/app/service_crl.c — GET /v1/crl: the cluster's CRL, for whoever checks what it issued
 * (docs/protocol.md "GET /v1/crl").
 *
 * Served on 443 and on plain HTTP port 80: a CRL is signed, so the transport adds nothing, and
 * relying parties (openssl, GnuTLS, a CDP fetcher) commonly fetch CRLs over plain HTTP
 * (RFC 5280 §4.2.1.13). The body is firmware/revoke's buffer itself, sent as a kept body (it can
 * be ~600 KB, far more than a connection's output buffer): revoke calls http_forget_body before
 * it overwrites that buffer, so no client gets a mix of two CRLs.
 */
#include "core.h"

#include <stdio.h>

#include "net/http.h"

static void crl_get(void *ctx, const struct http_request *req, struct http_response *resp)
{
    static char reason[64];
    struct app *app = ctx;
    const uint8_t *der = NULL;
    size_t len = 0;
    const char *why = "no CRL yet";

    (void)req;
    if (revoke_crl(&app->revoke, &der, &len, &why) != 0) {
        int n = snprintf(reason, sizeof(reason), "%s\n", why);
        resp->status = 503;
        resp->content_type = "text/plain";
        resp->body = reason;
        resp->body_len = n > 0 && (size_t)n < sizeof(reason) ? (size_t)n : 0;
        return;
    }
    resp->status = 200;
    resp->content_type = "application/pkix-crl";
    resp->body = (const char *)der;
    resp->body_len = len;
    resp->kept = true;
}

int service_crl_start(struct app *app)
{
    revoke_on_replace(&app->revoke, http_forget_body);
    return http_route_add("GET", "/v1/crl", HTTP_ROUTE_PLAIN, crl_get, app);
}
