/*
 * firmware/app/service.c — what the appliance answers over the network.
 *
 * HTTPS on port 443 (net/tls, key in the token); plain HTTP on port 80 only for GET /health, for
 * load balancers that do not speak TLS (docs/requirements.md R13), and GET /v1/crl
 * (service_crl.c). Every other route answers 403 there.
 *
 * GET /health: 200 "ok" when the service can sign (token link up, operator logged in, HTTPS
 * identity ready, enrolled, not stopped by revocation, the audit ring not full), otherwise 503
 * with the reason. A 200 may add a "warning:" line (the audit ring nearly full).
 * GET /v1/status: JSON — role, enrollment state, token link, uptime, counters.
 * GET /v1/whoami: JSON — the caller's TLS client-certificate fingerprint as this appliance sees
 * it: the principal an operator grants with `acl grant`.
 */
#include "core.h"

#include <stdio.h>
#include <string.h>

#include "crypto/heap.h"
#include "crypto/p11/p11_client.h"
#include "lib/jsonw.h"
#include "hal/clock.h"
#include "net/http.h"
#include "net/tls.h"

static void health(void *ctx, const struct http_request *req, struct http_response *resp)
{
    static char reason[160];
    const char *why = app_not_ready_reason(ctx);

    (void)req;
    resp->content_type = "text/plain";
    if (!why) {
        /* Still serving; the operator's attention wanted (a load balancer checks the status). */
        const char *warn = app_audit_warning(ctx);
        resp->status = 200;
        if (warn)
            snprintf(reason, sizeof(reason), "ok\nwarning: %s\n", warn);
        else
            snprintf(reason, sizeof(reason), "ok\n");
        resp->body = reason;
        resp->body_len = strlen(reason);
        return;
    }
    resp->status = 503;
    size_t n = strlen(why);
    if (n > sizeof(reason) - 12)
        n = sizeof(reason) - 12; /* cut, never overrun: the reason is one line */
    memcpy(reason, "not ready: ", 11);
    memcpy(reason + 11, why, n);
    reason[11 + n] = '\n';
    resp->body = reason;
    resp->body_len = 12 + n;
}

static void status(void *ctx, const struct http_request *req, struct http_response *resp)
{
    static char doc[1024];
    struct app *app = ctx;
    struct p11_link_stats ls;
    struct http_stats hs;
    struct tls_stats ts;
    struct crypto_heap_stats cs;
    struct jsonw w;
    const char *why = app_not_ready_reason(app);
    x509_time now;
    bool have_now = app_now(app, &now, NULL);

    (void)req;
    p11_client_stats(&ls);
    http_stats(&hs);
    tls_stats(&ts);
    crypto_heap_stats(&cs);
    jsonw_init(&w, doc, sizeof(doc));
    jsonw_object_begin(&w, NULL);
    jsonw_string(&w, "role", app->enroll.cfg.role == ENROLL_ROLE_LICENSING ? "licensing" : "root");
    jsonw_string(&w, "enrollment",
                 have_now ? enroll_state_name(enroll_state(&app->enroll, &now)) : "unknown");
    jsonw_bool(&w, "serving", why == NULL);
    jsonw_string(&w, "reason", why ? why : "");
    jsonw_uint(&w, "uptime_s", (hal_clock_ms() - app->boot_ms) / 1000);
    if (app->enroll.loaded && enroll_slc_current(&app->enroll) && have_now) {
        char until[21];
        enroll_time_text(&app->enroll.info.not_after, until);
        until[10] = '\0'; /* the date */
        jsonw_object_begin(&w, "slc");
        jsonw_string(&w, "subject", app->enroll.info.cn);
        jsonw_string(&w, "not_after", until);
        long days = enroll_days_left(&app->enroll, &now);
        jsonw_uint(&w, "days_left", days > 0 ? (uint64_t)days : 0);
        jsonw_bool(&w, "renew_soon", days < ENROLL_RENEW_WARN_DAYS);
        jsonw_object_end(&w);
    }
    const struct issue_stats *is = &app->issue.stats;
    jsonw_object_begin(&w, "issued");
    jsonw_uint(&w, "subenrolled", is->subenrolled);
    jsonw_uint(&w, "certified", is->certified);
    jsonw_uint(&w, "published", is->published);
    jsonw_uint(&w, "licensed", is->licensed);
    jsonw_uint(&w, "refused", is->refused);
    jsonw_object_end(&w);
    jsonw_object_begin(&w, "token");
    jsonw_string(&w, "link", ls.up ? "up" : "down");
    jsonw_bool(&w, "logged_in", app->token.logged_in);
    jsonw_uint(&w, "connects", ls.connects);
    jsonw_uint(&w, "calls", ls.calls);
    jsonw_uint(&w, "lost_calls", ls.failures);
    jsonw_uint(&w, "failed_at_once", ls.failed_at_once);
    jsonw_uint(&w, "relogins", app->token.relogins);
    jsonw_object_end(&w);
    jsonw_object_begin(&w, "http");
    jsonw_uint(&w, "requests", hs.requests);
    jsonw_uint(&w, "errors", hs.errors);
    jsonw_uint(&w, "timeouts", hs.timeouts);
    jsonw_uint(&w, "accepted", hs.accepted);
    jsonw_uint(&w, "refused_busy", hs.refused_busy);
    jsonw_uint(&w, "active", hs.active);
    jsonw_uint(&w, "evicted", hs.evicted);
    jsonw_uint(&w, "waited_for_buffer", hs.no_buffer);
    jsonw_object_end(&w);
    jsonw_object_begin(&w, "tls");
    jsonw_uint(&w, "handshakes", ts.handshakes);
    jsonw_uint(&w, "handshake_failures", ts.handshake_failures);
    jsonw_uint(&w, "client_certificates", ts.client_certs);
    jsonw_uint(&w, "client_handshakes", ts.client_handshakes);
    jsonw_uint(&w, "client_failures", ts.client_failures);
    jsonw_uint(&w, "token_signatures", app->tls_token_signs);
    jsonw_uint(&w, "waiting_for_token", ts.waiting_token);
    jsonw_uint(&w, "waiting_for_fiber", ts.waiting_runner);
    jsonw_uint(&w, "token_waits", ts.token_waits);
    jsonw_uint(&w, "fiber_waits", ts.runner_waits);
    jsonw_uint(&w, "heap_in_use", cs.in_use);
    jsonw_uint(&w, "heap_peak", cs.peak);
    jsonw_object_end(&w);
    jsonw_object_end(&w);
    int n = jsonw_finish(&w);
    if (n < 0) {
        resp->status = 500;
        resp->body = "status document too large\n";
        resp->body_len = strlen(resp->body);
        return;
    }
    doc[n++] = '\n';
    resp->status = 200;
    resp->content_type = "application/json";
    resp->body = doc;
    resp->body_len = (size_t)n;
}

static void whoami(void *ctx, const struct http_request *req, struct http_response *resp)
{
    static char doc[160];
    char fp[APP_FP_TEXT_LEN + 1] = "";
    struct jsonw w;

    (void)ctx;
    if (req->client_cert)
        app_format_fingerprint(req->client_fp, fp);
    jsonw_init(&w, doc, sizeof(doc));
    jsonw_object_begin(&w, NULL);
    jsonw_bool(&w, "client_certificate", req->client_cert);
    jsonw_string(&w, "fingerprint", fp);
    jsonw_object_end(&w);
    int n = jsonw_finish(&w);
    if (n < 0)
        n = 0; /* cannot happen: the shape is fixed and fits */
    doc[n++] = '\n';
    resp->status = 200;
    resp->content_type = "application/json";
    resp->body = doc;
    resp->body_len = (size_t)n;
}

int service_start(struct app *app)
{
    int ret = http_route_add("GET", "/health", HTTP_ROUTE_PLAIN, health, app);

    if (!ret)
        ret = http_route_add("GET", "/v1/status", 0, status, app);
    if (!ret)
        ret = http_route_add("GET", "/v1/whoami", 0, whoami, app);
    return ret;
}
