/*
 * firmware/app/service_sign.c — the signing endpoints (docs/protocol.md; docs/requirements.md R8,
 * R9, R12), HTTPS only:
 *
 *   POST /v1/subenroll  a root signs a licensing server's SLC; the caller's TLS client
 *                       certificate must be granted in the ACL (deny by default)
 *   POST /v1/certify    a root issues the caller's rights account certificate; a licensing server
 *                       authenticates the caller, forwards the request to its root with the
 *                       caller's certificate chain, and relays the answer
 *   POST /v1/publish    publishing license + the author's use license
 *   POST /v1/license    a use license for the caller's RAC
 *
 * The last three are for users, who prove who they are with a TLS client certificate from an
 * identity source (docs/requirements.md R16–R18, docs/identity.md). This file only says who is
 * asking (struct issue_caller: the TLS client certificate and chain, and a forwarded UserChain);
 * firmware/issue decides (issue_granted for sub-enrollment, issue_who for users), and the answer
 * maps to a status: -EACCES 401 (no certificate), -EPERM 403. firmware/issue then issues for that
 * name only.
 *
 * XML in, XML out (firmware/issue does the work). Every refusal is a status with a one-line
 * reason — 400 malformed, 401 not authenticated, 403 not granted, 413 too large, 503 not ready —
 * is audited (with the presented certificate's subject and fingerprint, trusted or not), and
 * changes nothing. Every success is audited too, with what was issued and for whom; that costs
 * little, as firmware/audit counts an entry that repeats the previous one instead of writing it
 * again (a client issuing in a loop is one record a minute), and /v1/status counts them all.
 */
#include "core.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "crypto/x509_user.h"
#include "net/http.h"
#include "net/http_client.h"

/* What firmware/issue does for one endpoint; via: the ACL principal asking (sub-enrollment) or
 * forwarding (certification), NULL otherwise. */
typedef int (*issue_fn)(struct issue *is, const char *caller, const uint8_t *via, const char *xml,
                        size_t len, const x509_time *now, char *out, size_t cap, size_t *olen,
                        char who[ISSUE_WHO_MAX], const char **why);

/*
 * A request whose issuing runs in the token task (token_task.h): the handler checks who asks and
 * whether we serve, defers the answer and submits this; the token task issues, parking while the
 * token works, and the net task answers once it is done (service_sign_poll). Everything the job
 * reads is copied in: the connection, and its buffer, may go while it waits. As many as the
 * connections that can hold an HTTPS buffer (each deferred request keeps its own).
 */
#define SIGN_JOBS (HTTP_BUFS - HTTP_PLAIN_BUFS)

struct sign_job {
    struct token_job tj;
    struct app *app;
    bool used;   /* submitted, not yet answered */
    uint32_t id; /* http_defer's: what the answer completes */
    const char *what;
    issue_fn fn;
    x509_time now;
    bool has_via;
    uint8_t via[HTTP_FINGERPRINT_LEN];
    char caller[ISSUE_WHO_MAX];          /* "": none (sub-enrollment) */
    char audit_who[ISSUE_AUDIT_WHO_MAX]; /* "": the name issuing found */
    /* What the net task checked (issue_*_check), all the token part needs; NOT_CHECKED: the
     * request, issued by fn from its body. */
    enum { NOT_CHECKED, CHECKED_LICENSE, CHECKED_CERT } checked;
    union {
        struct issue_license_req lic;
        struct issue_cert_req cert;
    } r;
    size_t body_len;
    char body[HTTP_BODY_MAX];
    /* Filled in by the token task. */
    int ret;
    size_t n;
    char who[ISSUE_WHO_MAX];
    char why[200];
    char answer[DOC_LICENSE_XML_MAX + 1];
};

static struct sign_job sign_jobs[SIGN_JOBS];
/* A name is copied into the job whole: a truncated one would be another user. */
_Static_assert(sizeof(((struct sign_job *)0)->caller) >=
                   sizeof(((struct identity_user *)0)->cert.name),
               "a user's name does not fit a job");

/* A presented TLS chain goes on as a UserChain, which issue_who reads. */
_Static_assert(HTTP_CLIENT_CHAIN_MAX == DOC_USER_CHAIN_MAX &&
                   DOC_USER_CHAIN_MAX == X509_USER_CHAIN_MAX,
               "chain bounds differ");

/* One refusal at a time: handlers and service_sign_poll run to completion in the net task. */
static char reason[200];
/* The certification request, read for its UserChain (and, on a licensing server, forwarded). */
static struct doc_license certify_doc;

#define NO_CERTIFICATE                                                                             \
    "authenticate with your identity certificate (a TLS client certificate from your "             \
    "organisation's user CA)"

/* Who is asking: what they presented, and once authenticated, who they are. */
struct caller {
    /* "'SUBJ' FP" or ""; then ", user chain 'SUBJ' FP" for a forwarded one */
    char presented[2 * (X509_SUBJECT_TEXT_MAX + APP_FP_TEXT_LEN) + 24];
    struct identity_user user;
    char audit[ISSUE_AUDIT_WHO_MAX]; /* "NAME (identity 'SUBJ' FP[, via SERVER])" */
};

static int status_of(int err)
{
    switch (err) {
    case -EINVAL:
        return 400;
    case -EACCES:
        return 401;
    case -EPERM:
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
    issue_count_refusal(&app->issue.stats, status);
    app_audit_request(app, what, status, "%s: refused (%d)%s%s: %s", what, status,
                      who && who[0] ? " for " : "", who ? who : "", why);
}

/* What issuing gave: the document, or the refusal. */
static void issued(struct app *app, struct http_response *resp, const struct sign_job *j)
{
    const char *who = j->audit_who[0] ? j->audit_who : j->who;

    if (j->ret) {
        refuse(app, resp, j->what, status_of(j->ret), who, j->why);
        return;
    }
    app_audit_request(app, j->what, 0, "%s: issued for %s", j->what, who);
    resp->status = 200;
    resp->content_type = "application/xml";
    resp->body = j->answer;
    resp->body_len = j->n;
}

static const char *presented(const struct http_request *req, struct caller *c);

/* Ready to issue, with the time, and a body to read; else refused (for c's certificate). */
static bool ready(struct app *app, const struct http_request *req, struct http_response *resp,
                  const char *what, struct caller *c, x509_time *now)
{
    const char *why = app_not_ready_reason(app);
    int status = 503;

    if (!why && !app_now(app, now, NULL))
        why = "clock unreadable";
    if (!why && !req->body_len) {
        why = "empty body: expected an XML document";
        status = 400;
    }
    if (!why)
        return true;
    refuse(app, resp, what, status, c ? presented(req, c) : NULL, why);
    return false;
}

/* The presented leaf as the audit log names it, trusted or not: "'SUBJECT' AB:CD:..". Only
 * for refusals: reading the certificate costs, and a success is audited by identity instead. */
static const char *presented(const struct http_request *req, struct caller *c)
{
    char subject[X509_SUBJECT_TEXT_MAX + 1];
    char fp[APP_FP_TEXT_LEN + 1];
    uint8_t ignored[X509_FP_LEN];

    c->presented[0] = '\0';
    if (!req->client_cert || !req->client_chain_n)
        return c->presented;
    (void)x509_user_describe(req->client_chain[0].der, req->client_chain[0].len, subject,
                             sizeof(subject), ignored); /* "?" when it does not parse */
    app_format_fingerprint(req->client_fp, fp);
    snprintf(c->presented, sizeof(c->presented), "'%s' %s", subject, fp);
    return c->presented;
}

/* A refused UserChain is audited too: whom the licensing server said it was for. Appended to
 * what presented() wrote. */
static const char *forwarded_too(struct caller *c, const struct x509_cert *fwd, size_t fwd_n)
{
    char subject[X509_SUBJECT_TEXT_MAX + 1];
    char fp[APP_FP_TEXT_LEN + 1];
    uint8_t raw[X509_FP_LEN];
    size_t len = strlen(c->presented);

    if (!fwd_n)
        return c->presented;
    (void)x509_user_describe(fwd[0].der, fwd[0].len, subject, sizeof(subject), raw);
    app_format_fingerprint(raw, fp);
    snprintf(c->presented + len, sizeof(c->presented) - len, "%suser chain '%s' %s",
             len ? ", " : "", subject, fp);
    return c->presented;
}

/* Who the TLS layer says is asking: the client certificate's fingerprint and chain, if any. */
static void tls_caller(const struct http_request *req, struct x509_cert tls[HTTP_CLIENT_CHAIN_MAX],
                       struct issue_caller *ic)
{
    size_t n = req->client_cert ? req->client_chain_n : 0;

    for (size_t i = 0; i < n; i++)
        tls[i] = (struct x509_cert){req->client_chain[i].der, req->client_chain[i].len};
    *ic = (struct issue_caller){false, req->client_cert ? req->client_fp : NULL, tls, n};
}

/*
 * Who the request is for: issuing decides (issue_who), from the TLS chain and, when the body
 * carried one, the UserChain fwd[0..fwd_n). On refusal, answered and audited here: false.
 */
static bool authenticate(struct app *app, const struct http_request *req,
                         struct http_response *resp, const char *what, const x509_time *now,
                         const struct x509_cert *fwd, size_t fwd_n, struct caller *c)
{
    struct x509_cert tls[HTTP_CLIENT_CHAIN_MAX] = {{0}};
    struct issue_caller ic;
    char fp[APP_FP_TEXT_LEN + 1];
    const char *why = "not authenticated";

    tls_caller(req, tls, &ic);
    int ret = issue_who(&app->issue, &ic, fwd, fwd_n, now, &c->user, &why);
    if (ret == -EACCES) {
        refuse(app, resp, what, 401, presented(req, c), NO_CERTIFICATE);
        return false;
    }
    if (ret) {
        (void)presented(req, c);
        refuse(app, resp, what, 403, forwarded_too(c, fwd, fwd_n), why);
        return false;
    }
    app_format_fingerprint(c->user.cert.fp, fp);
    snprintf(c->audit, sizeof(c->audit), "%s (identity '%s' %s%s%s)", c->user.cert.name,
             c->user.cert.subject, fp, c->user.via[0] ? ", via " : "", c->user.via);
    return true;
}

/* The token task's part: issue, into the job. */
static void sign_job_run(struct token_job *tj)
{
    struct sign_job *j = (struct sign_job *)(void *)((char *)tj - offsetof(struct sign_job, tj));
    const char *why = NULL;

    j->n = 0;
    j->who[0] = '\0';
    if (j->checked == CHECKED_LICENSE) {
        snprintf(j->who, sizeof(j->who), "%s", j->r.lic.cn);
        j->ret = issue_license_sign(&j->app->issue, &j->r.lic, &j->now, j->answer,
                                    sizeof(j->answer), &j->n, &why);
    } else if (j->checked == CHECKED_CERT) {
        snprintf(j->who, sizeof(j->who), "%s", j->r.cert.cn);
        j->ret = issue_cert_sign(&j->app->issue, &j->r.cert, &j->now, j->answer, sizeof(j->answer),
                                 &j->n, &why);
    } else {
        j->ret =
            j->fn(&j->app->issue, j->caller[0] ? j->caller : NULL, j->has_via ? j->via : NULL,
                  j->body, j->body_len, &j->now, j->answer, sizeof(j->answer), &j->n, j->who, &why);
    }
    /* Copied: issuing's reasons may live in its scratch, which the next job reuses. */
    snprintf(j->why, sizeof(j->why), "%s", why ? why : "the token failed");
    app_kick_net_poll(j->app);
}

/* A job to issue in, or NULL when all are busy. */
static struct sign_job *free_sign_job(void)
{
    for (size_t i = 0; i < SIGN_JOBS; i++)
        if (!sign_jobs[i].used) {
            sign_jobs[i].checked = NOT_CHECKED;
            return &sign_jobs[i];
        }
    return NULL;
}

/*
 * Issue in j (NULL: none free) for caller (NULL for a licensing server's sub-enrollment; via: the
 * ACL principal asking or forwarding), audited for audit_who (NULL: the name issuing found). The
 * answer is deferred: the token task issues while the net task serves the next request.
 */
static void serve(struct app *app, const struct http_request *req, struct http_response *resp,
                  struct sign_job *j, const char *what, issue_fn fn, const x509_time *now,
                  const char *caller, const uint8_t *via, const char *audit_who)
{
    uint32_t id = j && req->body_len <= sizeof(j->body) ? http_defer(req) : 0;
    if (!id) {
        refuse(app, resp, what, 503, audit_who ? audit_who : caller, "busy: try again");
        return;
    }
    j->app = app;
    j->used = true;
    j->id = id;
    j->what = what;
    j->fn = fn;
    j->now = *now;
    j->has_via = via != NULL;
    if (via)
        memcpy(j->via, via, sizeof(j->via));
    snprintf(j->caller, sizeof(j->caller), "%s", caller ? caller : "");
    snprintf(j->audit_who, sizeof(j->audit_who), "%s", audit_who ? audit_who : "");
    j->body_len = j->checked ? 0 : req->body_len; /* a checked one needs only j->r */
    memcpy(j->body, req->body, j->body_len);
    j->tj = (struct token_job){.run = sign_job_run};
    (void)token_job_submit(app, &j->tj); /* cannot fail: a free job is never queued */
}

/* Answer the requests the token task has issued since (the net task's poll). */
static void service_sign_poll(struct app *app)
{
    for (size_t i = 0; i < SIGN_JOBS; i++) {
        struct sign_job *j = &sign_jobs[i];
        struct http_response resp = {0};
        if (!j->used || !j->tj.done)
            continue;
        issued(app, &resp, j);
        (void)http_complete(j->id, &resp); /* -ENOENT: the client left; nothing to do */
        j->used = false;
    }
}

static int publish_fn(struct issue *is, const char *caller, const uint8_t *via, const char *xml,
                      size_t len, const x509_time *now, char *out, size_t cap, size_t *olen,
                      char who[ISSUE_WHO_MAX], const char **why)
{
    (void)via;
    return issue_publish(is, caller, xml, len, now, out, cap, olen, who, why);
}

static int license_fn(struct issue *is, const char *caller, const uint8_t *via, const char *xml,
                      size_t len, const x509_time *now, char *out, size_t cap, size_t *olen,
                      char who[ISSUE_WHO_MAX], const char **why)
{
    (void)via;
    return issue_license(is, caller, xml, len, now, out, cap, olen, who, why);
}

static void subenroll(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct app *app = ctx;
    struct x509_cert tls[HTTP_CLIENT_CHAIN_MAX] = {{0}};
    struct issue_caller ic;
    char fp[APP_FP_TEXT_LEN + 1] = "";
    const char *why;
    x509_time now;

    /* Deny by default, before the body is parsed (docs/requirements.md R9): issuing decides. */
    tls_caller(req, tls, &ic);
    if (issue_granted(&app->issue, &ic, &why) != 0) {
        if (ic.fp)
            app_format_fingerprint(ic.fp, fp);
        refuse(app, resp, "subenroll", 403, ic.fp ? fp : NULL, why);
        return;
    }
    if (!ready(app, req, resp, "subenroll", NULL, &now))
        return;
    /* Checked here, while the token task signs another request: only the signature waits. */
    struct sign_job *j = free_sign_job();
    if (j) {
        char who[ISSUE_WHO_MAX] = "";
        int ret = issue_subenroll_check(&app->issue, req->client_fp, (const char *)req->body,
                                        req->body_len, &now, &j->r.cert, who, &why);
        if (ret) {
            refuse(app, resp, "subenroll", status_of(ret), who, why);
            return;
        }
        j->checked = CHECKED_CERT;
    }
    serve(app, req, resp, j, "subenroll", NULL, &now, NULL, req->client_fp, NULL);
}

/* Publishing and licensing: the caller proven by the TLS chain alone. */
static void publish(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct app *app = ctx;
    struct caller c;
    x509_time now;

    if (!ready(app, req, resp, "publish", &c, &now) ||
        !authenticate(app, req, resp, "publish", &now, NULL, 0, &c))
        return;
    serve(app, req, resp, free_sign_job(), "publish", publish_fn, &now, c.user.cert.name, NULL,
          c.audit);
}

/* A use license is checked here, while the token task works on another request: only the
 * re-wrap and the signature wait for the token (or, before the CKEK is loaded, all of it). */
static void license(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct app *app = ctx;
    char who[ISSUE_WHO_MAX] = "";
    const char *why = NULL;
    struct sign_job *j;
    struct caller c;
    x509_time now;

    if (!ready(app, req, resp, "license", &c, &now) ||
        !authenticate(app, req, resp, "license", &now, NULL, 0, &c))
        return;
    j = free_sign_job();
    if (j) {
        int ret = issue_license_check(&app->issue, c.user.cert.name, (const char *)req->body,
                                      req->body_len, &now, &j->r.lic, who, &why);
        if (ret && ret != -EINPROGRESS) {
            refuse(app, resp, "license", status_of(ret), c.audit, why);
            return;
        }
        j->checked = ret == 0 ? CHECKED_LICENSE : NOT_CHECKED;
    }
    serve(app, req, resp, j, "license", license_fn, &now, c.user.cert.name, NULL, c.audit);
}

/* ---- certification: issued on a root, forwarded by a licensing server (R12, R18) ---- */

/* A request being forwarded to the root: whom it is for, to audit the root's answer. */
struct forward {
    bool used;
    uint32_t id;
    char who[ISSUE_AUDIT_WHO_MAX];
};

static struct app *forward_app;
static struct forward forwards[HTTP_CONN_MAX]; /* a deferred connection reads nothing else */
static char forward_xml[DOC_LICENSE_XML_MAX + 1];

/* The root's answer, relayed; its first line, when it refused, for the audit log. */
static void forwarded(void *ctx, int status, const char *body, size_t len, const char *why)
{
    struct forward *f = ctx;
    struct http_response resp = {0};

    if (status) {
        if (status == 200) {
            app_audit_request(forward_app, "certify forwarded", 0,
                              "certify: forwarded for %s; the root issued the RAC", f->who);
        } else {
            size_t line = 0;
            while (line < len && line < 120 && body[line] >= ' ' && body[line] <= '~')
                line++;
            issue_count_refusal(&forward_app->issue.stats, status);
            app_audit_request(forward_app, "certify forwarded", status,
                              "certify: forwarded for %s; the root refused (%d): %.*s", f->who,
                              status, (int)line, body);
        }
        resp.status = status;
        resp.content_type = status == 200 ? "application/xml" : "text/plain";
        resp.body = body;
        resp.body_len = len;
    } else {
        snprintf(reason, sizeof(reason), "the root did not answer: %s\n", why);
        reason_answer(&resp, 503);
        issue_count_refusal(&forward_app->issue.stats, 503);
        app_audit_request(forward_app, "certify forwarded", 503,
                          "certify: forwarding to the root failed for %s: %s", f->who, why);
    }
    (void)http_complete(f->id, &resp);
    f->used = false;
}

static struct forward *free_forward(void)
{
    for (size_t i = 0; i < HTTP_CONN_MAX; i++)
        if (!forwards[i].used)
            return &forwards[i];
    return NULL;
}

/*
 * The same CertificateRequest, with the chain the user presented to us as its UserChain, into
 * forward_xml: the root verifies that chain against its own identity sources.
 */
static int forward_doc(const struct http_request *req, size_t *len, const char **why)
{
    *why = "the identity certificate chain is too large to forward";
    /* A UserChain issue_who took (from a server our ACL grants) goes on as it came. */
    for (size_t i = 0; !certify_doc.user_chain_count && i < req->client_chain_n; i++) {
        if (req->client_chain[i].len > sizeof(certify_doc.user_chain[i]))
            return -E2BIG;
        memcpy(certify_doc.user_chain[i], req->client_chain[i].der, req->client_chain[i].len);
        certify_doc.user_chain_len[i] = req->client_chain[i].len;
    }
    if (!certify_doc.user_chain_count)
        certify_doc.user_chain_count = req->client_chain_n;
    *why = "the request to the root does not fit";
    if (doc_license_write(&certify_doc, forward_xml, sizeof(forward_xml), len) != 0)
        return -E2BIG;
    return 0;
}
static void certify_forward(struct app *app, const struct http_request *req,
                            struct http_response *resp, const struct caller *c)
{
    char who[ISSUE_WHO_MAX];
    struct forward *f;
    const char *why;
    size_t len = 0;
    int ret;

    /* Refused here at once, rather than by the root after a round trip. */
    ret = issue_certify_names(c->user.cert.name, &certify_doc, who, &why);
    if (!ret)
        ret = forward_doc(req, &len, &why);
    if (ret) {
        refuse(app, resp, "certify", status_of(ret), c->audit, why);
        return;
    }
    f = free_forward();
    uint32_t id = f ? http_defer(req) : 0;
    if (!id) {
        refuse(app, resp, "certify", 503, c->audit, "busy: cannot forward now");
        return;
    }
    f->used = true;
    f->id = id;
    snprintf(f->who, sizeof(f->who), "%s", c->audit);
    forward_app = app;
    if (http_client_post(app->enroll.cfg.root_url, "/v1/certify", "application/xml", forward_xml,
                         len, forwarded, f, &why) != 0) {
        struct http_response busy = {0};
        snprintf(reason, sizeof(reason), "cannot forward to the root: %s\n", why);
        reason_answer(&busy, 503);
        issue_count_refusal(&app->issue.stats, 503);
        app_audit_request(app, "certify forwarded", 503,
                          "certify: forwarding to the root failed for %s: %s", c->audit, why);
        (void)http_complete(id, &busy);
        f->used = false;
    }
}

/* A root: checked here (the request is parsed already), signed in the token task. */
static void certify_here(struct app *app, const struct http_request *req,
                         struct http_response *resp, const x509_time *now, const struct caller *c)
{
    /* issue_who took the user from a UserChain only for a granted server: that one. */
    const uint8_t *via = c->user.via[0] ? req->client_fp : NULL;
    struct sign_job *j = free_sign_job();

    if (j) {
        char who[ISSUE_WHO_MAX] = "";
        const char *why = NULL;
        int ret = issue_certify_check(&app->issue, c->user.cert.name, via, &certify_doc, now,
                                      &j->r.cert, who, &why);
        if (ret) {
            refuse(app, resp, "certify", status_of(ret), c->audit, why);
            return;
        }
        j->checked = CHECKED_CERT;
    }
    serve(app, req, resp, j, "certify", NULL, now, c->user.cert.name, via, c->audit);
}

static void certify(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct app *app = ctx;
    struct x509_cert fwd[X509_USER_CHAIN_MAX];
    bool licensing = app->enroll.cfg.role == ENROLL_ROLE_LICENSING;
    const char *why;
    struct caller c;
    x509_time now;

    if (!ready(app, req, resp, "certify", &c, &now))
        return;
    /* Without a client certificate there is neither a user nor a granted licensing server: the
     * refusal comes before the document is read. */
    if (!req->client_cert && !authenticate(app, req, resp, "certify", &now, NULL, 0, &c))
        return;
    if (licensing && !app->enroll.cfg.root_url[0]) {
        refuse(app, resp, "certify", 503, presented(req, &c),
               "no root to forward to (config root-url, or enroll online)");
        return;
    }
    if (req->body_len > DOC_LICENSE_XML_MAX) {
        refuse(app, resp, "certify", 413, presented(req, &c), "document too large");
        return;
    }
    if (doc_license_parse((const char *)req->body, req->body_len, DOC_CERTIFY_REQUEST, &certify_doc,
                          &why) != 0) {
        refuse(app, resp, "certify", 400, presented(req, &c), why);
        return;
    }
    size_t fwd_n = certify_doc.user_chain_count;
    if (fwd_n > X509_USER_CHAIN_MAX)
        fwd_n = X509_USER_CHAIN_MAX; /* the parser's bound; kept here too */
    for (size_t i = 0; i < fwd_n; i++)
        fwd[i] = (struct x509_cert){certify_doc.user_chain[i], certify_doc.user_chain_len[i]};
    if (!authenticate(app, req, resp, "certify", &now, fwd, fwd_n, &c))
        return;
    if (licensing)
        certify_forward(app, req, resp, &c);
    else
        certify_here(app, req, resp, &now, &c);
}

int service_sign_start(struct app *app)
{
    int ret = http_route_add("POST", "/v1/subenroll", 0, subenroll, app);

    app_set_net_poll(app, service_sign_poll);
    if (!ret)
        ret = http_route_add("POST", "/v1/certify", 0, certify, app);
    if (!ret)
        ret = http_route_add("POST", "/v1/publish", 0, publish, app);
    if (!ret)
        ret = http_route_add("POST", "/v1/license", 0, license, app);
    return ret;
}
