/*
 * firmware/app/service_metrics.c — GET /metrics: the counters /v1/status has, and a few gauges,
 * in the Prometheus text exposition format (version 0.0.4), for a scraper (docs/network.md
 * "Metrics"). Who may read it is the core's decision (app_metrics_may_read).
 *
 * Every value is read when the request comes, from the same places /v1/status reads; nothing is
 * kept for the metrics alone. Counters end in _total and only grow until a reboot (a scraper sees
 * a restart as the counters' reset, as Prometheus expects).
 */
#include "core.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "crypto/heap.h"
#include "crypto/p11/p11_client.h"
#include "hal/clock.h"
#include "net/http.h"
#include "net/tls.h"

#define METRICS_MAX 8192

struct text {
    char *buf;
    size_t len, cap;
    bool full;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
    va_list ap;

    if (t->full)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= t->cap - t->len)
        t->full = true;
    else
        t->len += (size_t)n;
}

/* A metric family's header: its help and type. */
static void family(struct text *t, const char *name, const char *type, const char *help)
{
    put(t, "# HELP signet_%s %s\n# TYPE signet_%s %s\n", name, help, name, type);
}

/* A family of one sample without labels. */
static void one(struct text *t, const char *name, const char *type, const char *help,
                unsigned long long v)
{
    family(t, name, type, help);
    put(t, "signet_%s %llu\n", name, v);
}

static void counter(struct text *t, const char *name, const char *help, unsigned long long v)
{
    one(t, name, "counter", help, v);
}

static void gauge(struct text *t, const char *name, const char *help, unsigned long long v)
{
    one(t, name, "gauge", help, v);
}

static void issuance(struct text *t, const struct issue_stats *is)
{
    family(t, "issued_total", "counter", "Certificates and licenses issued, by kind.");
    put(t, "signet_issued_total{kind=\"subenrollment\"} %lu\n", (unsigned long)is->subenrolled);
    put(t, "signet_issued_total{kind=\"certification\"} %lu\n", (unsigned long)is->certified);
    put(t, "signet_issued_total{kind=\"publishing_license\"} %lu\n", (unsigned long)is->published);
    put(t, "signet_issued_total{kind=\"use_license\"} %lu\n", (unsigned long)is->licensed);
    family(t, "refused_total", "counter",
           "Requests to the signing service refused, by the HTTP status of the refusal.");
    for (unsigned i = 0; i < ISSUE_REFUSAL_KINDS; i++) {
        if (issue_refusal_status[i])
            put(t, "signet_refused_total{status=\"%d\"} %lu\n", issue_refusal_status[i],
                (unsigned long)is->refused_by[i]);
        else
            put(t, "signet_refused_total{status=\"other\"} %lu\n",
                (unsigned long)is->refused_by[i]);
    }
}

static void token_link(struct text *t, const struct app *app)
{
    struct p11_link_stats ls;

    p11_client_stats(&ls);
    gauge(t, "token_link_up", "1 when the HSM link is up.", ls.up);
    gauge(t, "token_logged_in", "1 when the appliance is logged in to the token.",
          app->token.logged_in);
    counter(t, "token_connects_total", "Times the HSM link was (re)connected.", ls.connects);
    counter(t, "token_calls_total", "PKCS#11 calls made over the HSM link.", ls.calls);
    counter(t, "token_lost_calls_total", "Calls lost to a link failure or time-out.", ls.failures);
    counter(t, "token_failed_at_once_total", "Calls refused at once while the link was down.",
            ls.failed_at_once);
    counter(t, "token_relogins_total", "Logins again after the link came back.",
            app->token.relogins);
}

static void transport(struct text *t, const struct app *app)
{
    struct http_stats hs;
    struct tls_stats ts;
    struct crypto_heap_stats cs;

    http_stats(&hs);
    tls_stats(&ts);
    crypto_heap_stats(&cs);
    counter(t, "http_requests_total", "HTTP requests answered.", hs.requests);
    counter(t, "http_errors_total", "Malformed or refused HTTP requests.", hs.errors);
    counter(t, "http_timeouts_total", "Connections closed for a request that did not come whole.",
            hs.timeouts);
    counter(t, "http_accepted_total", "Connections accepted.", hs.accepted);
    counter(t, "http_refused_busy_total", "Connections refused: every slot was busy.",
            hs.refused_busy);
    counter(t, "http_evicted_total", "Idle or slow connections closed to serve another.",
            hs.evicted);
    gauge(t, "http_active_connections", "Connections open now.", hs.active);
    counter(t, "tls_handshakes_total", "TLS handshakes completed (server side).", ts.handshakes);
    counter(t, "tls_handshake_failures_total", "TLS handshakes that failed.",
            ts.handshake_failures);
    counter(t, "tls_client_certificates_total", "Handshakes with a client certificate.",
            ts.client_certs);
    counter(t, "tls_client_handshakes_total", "Handshakes as a client (to a root or authority).",
            ts.client_handshakes);
    counter(t, "tls_client_failures_total", "Failed handshakes as a client.", ts.client_failures);
    counter(t, "tls_token_signatures_total", "Handshake signatures made by the token.",
            app->tls_token_signs);
    gauge(t, "tls_heap_bytes", "TLS heap in use, in bytes.", cs.in_use);
    gauge(t, "tls_heap_peak_bytes", "The most TLS heap ever in use, in bytes.", cs.peak);
}

static void clock_and_log(struct text *t, struct app *app)
{
    struct app_time_state ts;
    x509_time now;

    app_time_state(&ts);
    gauge(t, "serving", "1 when the appliance can sign (GET /health says ok).",
          app_not_ready_reason(app) == NULL);
    gauge(t, "uptime_seconds", "Seconds since boot.", (hal_clock_ms() - app->boot_ms) / 1000);
    if (app->enroll.loaded && enroll_slc_current(&app->enroll) && app_now(app, &now, NULL)) {
        long days = enroll_days_left(&app->enroll, &now);
        gauge(t, "slc_days_left", "Days until the SLC expires.",
              days > 0 ? (unsigned long)days : 0);
    }
    gauge(t, "ntp_synced", "1 when network time is on and the servers agreed at the last round.",
          ts.synced);
    gauge(t, "ntp_step_waiting", "1 when a step of over a day waits for `time ntp confirm`.",
          ts.pending);
    family(t, "ntp_offset_seconds", "gauge", "The clock's offset found at the last sync.");
    put(t, "signet_ntp_offset_seconds %.3f\n", (double)ts.offset_ms / 1000.0);
    gauge(t, "ntp_last_sync_timestamp_seconds", "Unix time of the last sync (0: none).",
          ts.last_sync > 0 ? (unsigned long long)ts.last_sync : 0);
    struct audit_use au;
    audit_use(&app->audit, &au);
    counter(t, "audit_entries_total", "Audit entries written since the ring began.", au.last_seq);
    counter(t, "audit_lost_total", "Audit entries that could not be stored since boot.", au.lost);
    gauge(t, "audit_ring_used_bytes", "Bytes of the NV ring that hold entries.", au.bytes);
    gauge(t, "audit_ring_capacity_bytes", "Bytes of the NV ring.", au.capacity);
    gauge(t, "audit_ring_free_segments", "Segments the ring can still open (erase blocks).",
          au.free_segments);
    gauge(t, "audit_ring_full", "1 when the ring holds nothing it may reuse: requests are refused.",
          au.full);
    gauge(t, "audit_unexported_entries", "Entries not exported yet (audit export).",
          au.last_seq - au.exported_seq);
    gauge(t, "audit_unsealed_entries", "Entries after the newest seal.",
          au.last_seq - au.sealed_seq);
}

static void metrics(void *ctx, const struct http_request *req, struct http_response *resp)
{
    static char doc[METRICS_MAX];
    static char why_line[128];
    struct app *app = ctx;
    struct text t = {doc, 0, sizeof(doc), false};
    const char *why;

    if (!app_metrics_may_read(req->secure, req->client_cert ? req->client_fp : NULL, &why)) {
        snprintf(why_line, sizeof(why_line), "%s\n", why);
        resp->status = 403;
        resp->content_type = "text/plain";
        resp->body = why_line;
        resp->body_len = strlen(why_line);
        return;
    }
    issuance(&t, &app->issue.stats);
    token_link(&t, app);
    transport(&t, app);
    clock_and_log(&t, app);
    if (t.full) {
        resp->status = 500;
        resp->content_type = "text/plain";
        resp->body = "the metrics do not fit their buffer\n";
        resp->body_len = strlen(resp->body);
        return;
    }
    resp->status = 200;
    resp->content_type = "text/plain; version=0.0.4";
    resp->body = doc;
    resp->body_len = t.len;
}

int service_metrics_start(struct app *app)
{
    return http_route_add("GET", "/metrics", HTTP_ROUTE_PLAIN, metrics, app);
}
