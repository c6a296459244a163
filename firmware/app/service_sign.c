/*
 * firmware/app/service_sign.c — the signing endpoints (docs/protocol.md; docs/requirements.md R8,
 * R9, R12), HTTPS only:
 *
 *   POST /v1/subenroll  a root signs a licensing server's SLC; the caller's TLS client
 *                       certificate must be granted in the ACL (deny by default)
 *   POST /v1/certify    a root issues a user's rights account certificate; a licensing server
 *                       forwards the request to its root and relays the answer
 *   POST /v1/publish    publishing license + the author's use license
 *   POST /v1/license    a use license for the caller's RAC
 *
 * XML in, XML out (firmware/issue does the work). Every refusal is a status with a one-line
 * reason — 400 malformed, 403 not granted, 413 too large, 503 not ready — is audited, and
 * changes nothing. Every success is audited too, with what was issued and for whom; that costs
 * little, as firmware/audit counts an entry that repeats the previous one instead of writing it
 * again (a client issuing in a loop is one record a minute), and /v1/status counts them all.
 */
#include "app.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "net/http.h"
#include "net/http_client.h"

typedef int (*issue_fn)(struct issue *is, const char *xml, size_t len, const x509_time *now,
                        char *out, size_t cap, size_t *olen, char who[ISSUE_WHO_MAX],
                        const char **why, struct issue_job **pending);

/* One answer at a time: handlers and service_sign_poll run to completion in the net task. */
static char answer[DOC_LICENSE_XML_MAX + 1];
static char reason[200];

static int status_of(int err)
{
    switch (err) {
    case -EINVAL:
        return 400;
    case -EPERM:
    case -EACCES:
        return 403;
    case -E2BIG:
        return 413;
    default:
        return 503;
    }
}

/* A status with `reason` (already written, one line) as its text/plain body. */
static void reason_answer(struct http_response *resp, int status)
{
    resp->status = status;
    resp->content_type = "text/plain";
    resp->body = reason;
    resp->body_len = strlen(reason);
}

static void refuse(struct app *app, struct http_response *resp, const char *what, int status,
                   const char *who, const char *why)
{
    snprintf(reason, sizeof(reason), "%s\n", why);
    reason_answer(resp, status);
    app->issue.stats.refused++;
    app_audit(app, "%s: refused (%d)%s%s: %s", what, status, who && who[0] ? " for " : "",
              who ? who : "", why);
}

/* What issuing gave: the document, or the refusal. */
static void issued(struct app *app, struct http_response *resp, const char *what, int ret,
                   const char *who, size_t n, const char *why, bool audit_success)
{
    if (ret) {
        refuse(app, resp, what, status_of(ret), who, why);
        return;
    }
    if (audit_success)
        app_audit(app, "%s: issued for %s", what, who);
    resp->status = 200;
    resp->content_type = "application/xml";
    resp->body = answer;
    resp->body_len = n;
}

/*
 * The common path: ready, well-formed, issued. While the token signs, the answer is deferred and
 * the net task reads the next request; service_sign_poll answers when the signature is in.
 */
static void serve(struct app *app, const struct http_request *req, struct http_response *resp,
                  const char *what, issue_fn fn, bool audit_success)
{
    char who[ISSUE_WHO_MAX] = "";
    const char *why = app_not_ready_reason(app);
    struct issue_job *job = NULL;
    x509_time now;
    size_t n = 0;

    if (why) {
        refuse(app, resp, what, 503, NULL, why);
        return;
    }
    if (!app_now(app, &now, NULL)) {
        refuse(app, resp, what, 503, NULL, "clock unreadable");
        return;
    }
    if (!req->body_len) {
        refuse(app, resp, what, 400, NULL, "empty body: expected an XML document");
        return;
    }
    int ret = fn(&app->issue, (const char *)req->body, req->body_len, &now, answer, sizeof(answer),
                 &n, who, &why, &job);
    if (ret == -EINPROGRESS) {
        job->tag = http_defer(req);
        job->what = what;
        job->audit = audit_success;
        memcpy(job->who, who, sizeof(job->who));
        /* The token may already have answered (or failed at once): look soon, in any case. */
        app_kick_signing(app);
        if (job->tag)
            return;
        token_sign_settle(&app->token); /* cannot defer: wait for it here */
        ret = issue_job_answer(&app->issue, job, answer, sizeof(answer), &n, &why);
    }
    issued(app, resp, what, ret, who, n, why, audit_success);
}

void service_sign_poll(struct app *app)
{
    struct issue_job *job;

    while ((job = issue_poll(&app->issue)) != NULL) {
        struct http_response resp = {0};
        const char *why = NULL;
        size_t n = 0;
        int ret = issue_job_answer(&app->issue, job, answer, sizeof(answer), &n, &why);
        issued(app, &resp, job->what, ret, job->who, n, why, job->audit);
        (void)http_complete(job->tag, &resp); /* -ENOENT: the client left; nothing to do */
    }
}

static void subenroll(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct app *app = ctx;
    char fp[APP_FP_TEXT_LEN + 1];

    /* Deny by default, before reading a byte of the request (docs/requirements.md R9). */
    if (!req->client_cert) {
        refuse(app, resp, "subenroll", 403, NULL,
               "not granted: present a TLS client certificate granted on the root (acl grant)");
        return;
    }
    if (!acl_find(&app->acl, req->client_fp)) {
        app_format_fingerprint(req->client_fp, fp);
        refuse(app, resp, "subenroll", 403, fp, "not granted");
        return;
    }
    serve(app, req, resp, "subenroll", issue_subenroll, true);
}

static void publish(void *ctx, const struct http_request *req, struct http_response *resp)
{
    serve(ctx, req, resp, "publish", issue_publish, true);
}

static void license(void *ctx, const struct http_request *req, struct http_response *resp)
{
    serve(ctx, req, resp, "license", issue_license, true);
}

/* ---- certification: issued on a root, forwarded by a licensing server (R12) ---- */

static struct app *forward_app;

static void forwarded(void *ctx, int status, const char *body, size_t len, const char *why)
{
    uint32_t id = (uint32_t)(uintptr_t)ctx;
    struct http_response resp = {0};

    if (status) {
        if (status == 200)
            app_audit(forward_app, "certify: forwarded to the root, which issued the RAC");
        resp.status = status;
        resp.content_type = status == 200 ? "application/xml" : "text/plain";
        resp.body = body;
        resp.body_len = len;
    } else {
        snprintf(reason, sizeof(reason), "the root did not answer: %s\n", why);
        reason_answer(&resp, 503);
        forward_app->issue.stats.refused++;
        app_audit(forward_app, "certify: forwarding to the root failed: %s", why);
    }
    (void)http_complete(id, &resp);
}

static void certify(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct app *app = ctx;
    const char *why;

    if (app->enroll.cfg.role != ENROLL_ROLE_LICENSING) {
        serve(app, req, resp, "certify", issue_certify, true);
        return;
    }
    why = app_not_ready_reason(app);
    if (why) {
        refuse(app, resp, "certify", 503, NULL, why);
        return;
    }
    if (!app->enroll.cfg.root_url[0]) {
        refuse(app, resp, "certify", 503, NULL,
               "no root to forward to (config root-url, or enroll online)");
        return;
    }
    if (!req->body_len || req->body_len > DOC_LICENSE_XML_MAX) {
        refuse(app, resp, "certify", req->body_len ? 413 : 400, NULL,
               req->body_len ? "document too large" : "empty body: expected an XML document");
        return;
    }
    uint32_t id = http_defer(req);
    if (!id) {
        refuse(app, resp, "certify", 503, NULL, "busy: cannot forward now");
        return;
    }
    forward_app = app;
    if (http_client_post(app->enroll.cfg.root_url, "/v1/certify", "application/xml",
                         (const char *)req->body, req->body_len, forwarded, (void *)(uintptr_t)id,
                         &why) != 0) {
        struct http_response busy = {0};
        snprintf(reason, sizeof(reason), "cannot forward to the root: %s\n", why);
        reason_answer(&busy, 503);
        app->issue.stats.refused++;
        (void)http_complete(id, &busy);
    }
}

int service_sign_start(struct app *app)
{
    int ret = http_route_add("POST", "/v1/subenroll", 0, subenroll, app);

    if (!ret)
        ret = http_route_add("POST", "/v1/certify", 0, certify, app);
    if (!ret)
        ret = http_route_add("POST", "/v1/publish", 0, publish, app);
    if (!ret)
        ret = http_route_add("POST", "/v1/license", 0, license, app);
    return ret;
}
