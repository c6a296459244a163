/*
 * firmware/app/crl_fetch.c — the CRLs from above, fetched over the network (docs/network.md
 * "CRLs from above").
 *
 * A licensing server holds its root's CRL (firmware/revoke enforces it, and stops serving once
 * its nextUpdate has passed): it fetches `<root-url>/v1/crl` over HTTPS at login (none is held
 * then), after sub-enrollment, every crl-hours/2 after a good fetch, before the held one expires,
 * and on `crl fetch`. A failed fetch is tried again after 5 s, twice as long after each further
 * failure up to 60 s; the CRL held meanwhile stays in force. `enroll online` / `renew online`
 * fetch `<url>/v1/crl` of whoever answered once it succeeded: a root the authority's, a licensing
 * server its root's.
 *
 * What comes back is only bytes: revoke_accept_crl verifies it against its issuer and refuses an
 * older one; nothing here decides anything about trust. One fetch at a time, into one buffer of
 * X509_CRL_DER_MAX bytes (the largest CRL revoke reads); the buffer is free again once
 * revoke_accept_crl returns (revoke keeps what it parsed, not the DER).
 */
#include "core.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/civil_time.h"
#include "hal/clock.h"
#include "net/http_client.h"

#define FETCH_RETRY_FIRST_MS 5000u
#define FETCH_RETRY_MAX_MS   60000u
#define FETCH_PATH           "/v1/crl"

static struct {
    bool busy;
    enum revoke_source src;
    app_crl_done_fn done; /* told the outcome; NULL: the periodic fetch */
    void *done_ctx;
    const char *cmd; /* for the audit log */
    char url[DOC_URL_MAX + sizeof(FETCH_PATH)];
    /* The periodic fetch of the root's CRL (licensing servers). */
    uint64_t retry_at_ms; /* 0: no failure pending */
    uint32_t retry_wait_ms;
    int64_t last_ok; /* Unix seconds of the last good fetch; 0 none since login */
    bool failing;    /* the last periodic fetch failed (audited once, not every retry) */
    char why[96];
} f;

static uint8_t fetched[X509_CRL_DER_MAX];

static int64_t secs_of(const x509_time *t)
{
    struct civil_time c = {t->year,          (uint8_t)t->mon, (uint8_t)t->day,
                           (uint8_t)t->hour, (uint8_t)t->min, (uint8_t)t->sec};
    return civil_to_epoch(&c);
}

static const char *from_name(enum revoke_source src)
{
    return src == REVOKE_FROM_ROOT ? "root" : "authority";
}

/* "<base>/v1/crl": base as the operator gave it (http[s]://HOST[:PORT][/PATH]); a trailing
 * slash is dropped so the path does not double it. */
static int crl_url(const char *base, char *out, size_t cap, const char **why)
{
    size_t n = strlen(base);

    *why = "the URL is longer than 256 characters";
    if (n > DOC_URL_MAX)
        return -EINVAL;
    while (n && base[n - 1] == '/')
        n--;
    if (n + sizeof(FETCH_PATH) > cap)
        return -EINVAL;
    memcpy(out, base, n);
    memcpy(out + n, FETCH_PATH, sizeof(FETCH_PATH));
    return 0;
}

/* A periodic fetch failed: try again later, audited when it starts failing. */
static void periodic_failed(struct app *app, const char *why)
{
    uint64_t now = hal_clock_ms();

    f.retry_wait_ms = f.retry_wait_ms ? f.retry_wait_ms * 2 : FETCH_RETRY_FIRST_MS;
    if (f.retry_wait_ms > FETCH_RETRY_MAX_MS)
        f.retry_wait_ms = FETCH_RETRY_MAX_MS;
    f.retry_at_ms = now + f.retry_wait_ms;
    if (!f.failing)
        app_audit(app, "crl fetch: the root's CRL: %s (trying again)", why);
    f.failing = true;
}

static void fetch_done(void *ctx, int status, const char *body, size_t len, const char *why)
{
    struct app *app = ctx;
    app_crl_done_fn done = f.done;
    struct app_crl_outcome o = {.src = f.src, .from = from_name(f.src), .url = f.url, .ret = -EIO};
    x509_time now;
    int64_t secs = 0;

    f.busy = false;
    f.done = NULL;
    if (status == 200) {
        why = "the clock is not set (time set)";
        if (app_now(app, &now, &secs))
            o.ret = revoke_accept_crl(&app->revoke, f.src, (const uint8_t *)body, len, &now,
                                      &o.newer, &why);
    } else if (status) {
        /* The server's reason is one line of text: bounded, printable. */
        size_t n = 0;
        int k = snprintf(f.why, sizeof(f.why), "the %s answered %d: ", o.from, status);
        size_t at = k > 0 && (size_t)k < sizeof(f.why) ? (size_t)k : 0;
        for (; n < len && at < sizeof(f.why) - 1 && body[n] != '\n' && body[n] != '\r'; n++)
            f.why[at++] = (body[n] >= 0x20 && body[n] < 0x7f) ? body[n] : '?';
        f.why[at] = '\0';
        why = f.why;
    }
    o.why = why;
    if (f.src == REVOKE_FROM_ROOT) {
        if (o.ret == 0) {
            f.last_ok = secs;
            f.retry_at_ms = 0;
            f.retry_wait_ms = 0;
            if (f.failing)
                app_audit(app, "crl fetch: the root's CRL fetched again");
            f.failing = false;
        } else {
            periodic_failed(app, why);
        }
    }
    const struct revoke_held *h =
        f.src == REVOKE_FROM_ROOT ? &app->revoke.root : &app->revoke.authority;
    o.number = h->crl.number;
    o.entries = h->crl.count;
    o.excluded = h->crl.excluded_count;
    if (o.ret == 0 && o.newer)
        app_audit(app, "%s: the %s's CRL number %llu, %zu entries", f.cmd, o.from,
                  (unsigned long long)o.number, o.entries);
    else if (o.ret != 0 && done)
        app_audit(app, "%s: the %s's CRL: %s", f.cmd, o.from, why);
    if (!done)
        return;
    if (!app_now(app, &now, NULL) || !revoke_blocks_serving(&app->revoke, &now, &o.blocking))
        o.blocking = NULL;
    done(f.done_ctx, &o);
}

int app_crl_fetch(struct app *app, enum revoke_source src, const char *base, const char *cmd,
                  app_crl_done_fn done, void *ctx, const char **why)
{
    int ret;

    *why = "a CRL fetch is in flight";
    if (f.busy)
        return -EBUSY;
    *why = "the revocation state is not loaded (log in)";
    if (!app->revoke.loaded)
        return -EIO;
    ret = crl_url(base, f.url, sizeof(f.url), why);
    if (!ret)
        ret = http_client_get(f.url, FETCH_PATH, fetched, sizeof(fetched), fetch_done, app, why);
    if (ret)
        return ret;
    f.busy = true;
    f.src = src;
    f.done = done;
    f.done_ctx = ctx;
    f.cmd = cmd;
    return 0;
}

const char *app_crl_fetch_url(void)
{
    return f.url;
}

/* When the root's CRL is to be fetched next (Unix seconds): now when none is held; else
 * crl-hours/2 after the last good fetch, but no later than the held one's nextUpdate. */
static int64_t root_due(const struct revoke *r)
{
    if (!r->root.present)
        return 0;
    int64_t due = revoke_root_fetch_due(r);
    int64_t ours = f.last_ok + (int64_t)r->crl_hours * 3600 / 2;
    if (f.last_ok && ours > due)
        due = ours; /* the root sent the CRL held again: revoke did not note a new fetch */
    int64_t expires = secs_of(&r->root.crl.next_update);
    return expires < due ? expires : due;
}

void app_crl_fetch_tick(struct app *app)
{
    const struct revoke *r = &app->revoke;
    const struct enroll *e = &app->enroll;
    int64_t secs = 0;
    x509_time now;
    const char *why;

    if (!app->token.logged_in || !r->loaded) {
        f.last_ok = 0; /* logged out: the next login fetches at once */
        f.retry_at_ms = f.retry_wait_ms = 0;
        f.failing = false;
        return;
    }
    if (f.busy || e->cfg.role != ENROLL_ROLE_LICENSING || !e->slc.slc_len || !e->cfg.root_url[0])
        return;
    if (f.retry_at_ms && hal_clock_ms() < f.retry_at_ms)
        return;
    if (!app_now(app, &now, &secs) || secs < root_due(r))
        return;
    if (app_crl_fetch(app, REVOKE_FROM_ROOT, e->cfg.root_url, "crl fetch", NULL, NULL, &why) != 0)
        periodic_failed(app, why);
}
