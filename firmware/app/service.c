/*
 * firmware/app/service.c — what the appliance answers over the network.
 *
 * GET /health: 200 "ok" when the service can sign (token link up, operator logged in), otherwise
 * 503 with the reason, for load balancers (DESIGN.md R13). It is the one endpoint offered over
 * plain HTTP; everything else will need TLS.
 */
#include "app.h"

#include <string.h>

#include "crypto/p11/p11_client.h"
#include "net/http.h"

static void health(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct app *app = ctx;
    struct p11_link_stats ls;

    (void)req;
    p11_client_stats(&ls);
    resp->content_type = "text/plain";
    if (!app->token.logged_in) {
        resp->status = 503;
        resp->body = "not ready: token not logged in\n";
    } else if (!ls.up) {
        resp->status = 503;
        resp->body = "not ready: token link down\n";
    } else {
        resp->status = 200;
        resp->body = "ok\n";
    }
    resp->body_len = strlen(resp->body);
}

int service_start(struct app *app)
{
    int ret = http_route_add("GET", "/health", health, app);
    return ret ? ret : http_server_start(HTTP_PLAIN_PORT);
}
