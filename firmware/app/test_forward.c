/*
 * firmware/app/test_forward.c — test builds only (SIGNET_TEST_HOOKS): a route that forwards its
 * body to another server and answers when that server does, so tests can drive the HTTP
 * client (http, https with the appliance's client certificate) and deferred answers
 * (http_defer/http_complete) the way a licensing server's /v1/certify proxy will.
 *
 * POST /v1/test/forward: the body goes to the URL set with `test forward-url URL` (its path, or
 * "/"); the answer is the upstream's status and body, or 502 and the client's reason (503 when
 * HTTP_CLIENT_MAX forwards are in flight). `test net-timeouts CLIENT_MS DEFER_MS` shortens the
 * client's and the deferral's time-outs (0 restores a default).
 */
#include "core.h"

#if SIGNET_HAS_NET && SIGNET_TEST_HOOKS
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "net/http.h"
#include "net/http_client.h"
#include "net/relp.h"

#define FORWARD_URL_MAX 128

/* One per connection that can be waiting: a deferred connection reads nothing else. */
struct forward {
    bool used;
    uint32_t id;
};

static char forward_url[FORWARD_URL_MAX + 1];
static struct forward forwards[HTTP_CONN_MAX];

static void answer_text(uint32_t id, int status, const char *why)
{
    char line[160];
    int n = snprintf(line, sizeof(line), "%s\n", why);
    struct http_response r = {status, "text/plain", line,
                              n < 0 ? 0 : ((size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1),
                              false};
    (void)http_complete(id, &r);
}

static void forward_done(void *ctx, int status, const char *body, size_t len, const char *why)
{
    struct forward *f = ctx;

    if (status) {
        struct http_response r = {status, "application/octet-stream", body, len, false};
        (void)http_complete(f->id, &r); /* -ENOENT: the caller left or was told 504: fine */
    } else {
        answer_text(f->id, 502, why);
    }
    f->used = false;
}

static void forward(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct forward *f = NULL;
    const char *why;

    (void)ctx;
    resp->content_type = "text/plain";
    resp->status = 503;
    if (!forward_url[0]) {
        resp->body = "no forward URL (test forward-url)\n";
        resp->body_len = strlen(resp->body);
        return;
    }
    for (size_t i = 0; i < HTTP_CONN_MAX && !f; i++)
        if (!forwards[i].used)
            f = &forwards[i];
    uint32_t id = f ? http_defer(req) : 0;
    if (!id) {
        resp->status = 500;
        resp->body = "cannot defer the answer\n";
        resp->body_len = strlen(resp->body);
        return;
    }
    f->id = id;
    int ret = http_client_post(forward_url, "/", "application/octet-stream",
                               (const char *)req->body, req->body_len, forward_done, f, &why);
    if (ret) {
        /* Deferred already: answer through the same path, at once. */
        answer_text(id, ret == -EBUSY ? 503 : 502, why);
        return;
    }
    f->used = true;
}

int app_test_forward_start(struct app *app)
{
    return http_route_add("POST", "/v1/test/forward", HTTP_ROUTE_PLAIN, forward, app);
}

static int cmd_forward_url(struct console *con, int argc, char **argv)
{
    size_t n = strlen(argv[0]);

    (void)argc;
    if (n > FORWARD_URL_MAX) {
        console_error(con, "URL over %d characters", FORWARD_URL_MAX);
        return -1;
    }
    memcpy(forward_url, argv[0], n + 1);
    console_printf(con, "test: /v1/test/forward goes to %s\n", forward_url);
    return 0;
}

static bool parse_ms(const char *s, uint32_t *ms)
{
    unsigned long v = 0;
    const char *p = s;

    while (*p >= '0' && *p <= '9' && v <= 600000)
        v = v * 10 + (unsigned long)(*p++ - '0');
    if (p == s || *p || v > 600000)
        return false;
    *ms = (uint32_t)v;
    return true;
}

static int cmd_net_timeouts(struct console *con, int argc, char **argv)
{
    uint32_t client_ms, defer_ms;

    (void)argc;
    if (!parse_ms(argv[0], &client_ms) || !parse_ms(argv[1], &defer_ms)) {
        console_error(con, "time-outs are 0..600000 ms (0: the default)");
        return -1;
    }
    http_client_test_timeout(client_ms);
    http_test_defer_timeout(defer_ms);
    console_printf(con, "test: client time-out %lu ms, deferral time-out %lu ms (0: default)\n",
                   (unsigned long)client_ms, (unsigned long)defer_ms);
    return 0;
}

static int cmd_relp_timeout(struct console *con, int argc, char **argv)
{
    uint32_t ms;

    (void)argc;
    if (!parse_ms(argv[0], &ms)) {
        console_error(con, "the time-out is 0..600000 ms (0: the default)");
        return -1;
    }
    relp_test_ack_timeout(ms);
    console_printf(con, "test: RELP answer time-out %lu ms (0: default)\n", (unsigned long)ms);
    return 0;
}

const struct console_cmd app_test_cmds[] = {
    {"test forward-url", "URL", "(test build) where POST /v1/test/forward forwards to",
     cmd_forward_url, 1, 1, 0},
    {"test net-timeouts", "CLIENT_MS DEFER_MS",
     "(test build) HTTP client and deferral time-outs (0: default)", cmd_net_timeouts, 2, 2, 0},
    {"test relp-timeout", "MS", "(test build) how long the syslog collector may take to answer",
     cmd_relp_timeout, 1, 1, 0},
};
const unsigned app_test_cmd_count = sizeof(app_test_cmds) / sizeof(app_test_cmds[0]);
#endif
