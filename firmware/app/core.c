/*
 * firmware/app/core.c — what every adapter shares: time, audit, the one notice path, the token's
 * state in RAM and its refresh, readiness, the net task's poll, the fingerprint format (core.h).
 */
#include "core.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "crypto/p11/p11_client.h"
#include "firmware/app/token_work.h"
#include "hal/clock.h"
#if SIGNET_HAS_NET
#include "net/tls.h"
#endif

void app_set_notice(struct app *app, app_notice_fn fn, void *ctx)
{
    app->notice_fn = fn;
    app->notice_ctx = ctx;
}

void app_notice(struct app *app, enum app_note kind, const char *fmt, ...)
{
    char text[APP_NOTICE_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (app->notice_fn)
        app->notice_fn(app->notice_ctx, kind, text);
}

const char *app_reset_reason_name(enum hal_reset_reason r)
{
    switch (r) {
    case HAL_RESET_POWER_ON:
        return "power-on";
    case HAL_RESET_SOFTWARE:
        return "software";
    case HAL_RESET_WATCHDOG:
        return "watchdog";
    case HAL_RESET_FAULT:
        return "fault";
    }
    return "unknown";
}

bool app_now(struct app *app, x509_time *t, int64_t *secs)
{
    int64_t now = 0;

    (void)app;
    if (hal_clock_wall_get(&now) != 0)
        return false;
    *t = enroll_time_at(now);
    if (secs)
        *secs = now;
    return true;
}

void app_audit(struct app *app, const char *fmt, ...)
{
    char line[AUDIT_TEXT_MAX + 1];
    int64_t now = 0;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    (void)hal_clock_wall_get(&now);
    audit_log(&app->audit, now, "%s", line);
    app_audit_kick(app);
}

void app_check_expiry(struct app *app)
{
    x509_time now;
    int64_t secs;

    if (!app->enroll.loaded || !enroll_slc_current(&app->enroll) || !app_now(app, &now, &secs))
        return;
    long days = enroll_days_left(&app->enroll, &now);
    int32_t today = (int32_t)(secs / 86400);
    if (days >= ENROLL_RENEW_WARN_DAYS || today == app->expiry_warned_day)
        return;
    app->expiry_warned_day = today;
    if (days < 0)
        app_audit(app, "warning: the SLC has expired; renew it (renew export / renew online)");
    else
        app_audit(app, "warning: the SLC expires in %ld days; renew it", days);
}

int app_load_state(struct app *app, const char **why)
{
    int ret = enroll_load(&app->enroll, why);
    /* A damaged ACL denies everyone (acl_load says so), damaged identity sources trust no user;
     * neither stops the rest. */
    if (!ret) {
        const char *ignored;
        (void)acl_load(&app->acl, why);
        (void)identity_load(&app->identity, &ignored);
        /* Damaged revocation records refuse everything (revoke.c); a token that did not answer
         * keeps what RAM holds. */
        (void)revoke_load(&app->revoke, &ignored);
    }
    return ret;
}

void app_unload_state(struct app *app)
{
    enroll_unload(&app->enroll);
    app->acl.loaded = false;
    app->identity.loaded = false;
    app->identity.count = 0;
    revoke_unload(&app->revoke);
}

void app_refresh_state(struct app *app)
{
    app_audit_budget_tick(app);
    audit_flush(&app->audit);
    app_audit_kick(app);
    const char *why;

    /* Not while a paste, a question or a network request is half done: it would change what
     * they check. */
    if (app->token.logged_in && app->enroll.loaded && !app->con.held && !app->con.busy &&
        !app->paste.len && !app->con.read_fn && app_load_state(app, &why) != 0)
        app->enroll.loaded = false; /* read again on next use */
    app_check_expiry(app);
}

#if SIGNET_HAS_NET
const char *app_not_ready_reason(struct app *app)
{
    if (!app->token.logged_in)
        return "token not logged in";
    if (!app_link_up(app))
        return "token link down";
    if (!tls_server_ready())
        return "HTTPS identity not set up";
    /* docs/requirements.md R24: a request the ring cannot record must not be served. */
    if (audit_full(&app->audit))
        return "the audit ring is full: export it (audit export)";
    x509_time now;
    if (!app_now(app, &now, NULL))
        return "clock unreadable";
    /* docs/requirements.md R7: until an SLC is in force every service says so, and serves the
     * moment one is installed — nothing to reset. */
    const char *blocked;
    switch (enroll_state(&app->enroll, &now)) {
    case ENROLL_ENROLLED:
    case ENROLL_RENEWAL_PENDING:
        /* docs/requirements.md R20: an SLC revoked from above, or (licensing server) no good
         * CRL of the root, stops every service; firmware/revoke decides and says why. */
        if (revoke_blocks_serving(&app->revoke, &now, &blocked))
            return blocked;
        return NULL;
    case ENROLL_EXPIRED:
        return "SLC expired";
    default:
        return "not enrolled";
    }
}

void app_set_net_poll(struct app *app, app_poll_fn fn)
{
    app->net_poll = fn;
}

/* Posted once until run — by its own flag: a kick that found one queued adds nothing. */
void app_kick_net_poll(struct app *app)
{
    if (!app->net_poll_kicked) {
        app->net_poll_kicked = true;
        (void)k_post(&app->net_task, APP_SIG_NET_POLL, 0);
    }
}

void app_net_poll(struct app *app)
{
    if (app->net_poll)
        app->net_poll(app);
}
#endif

void app_format_fingerprint(const uint8_t fp[32], char out[APP_FP_TEXT_LEN + 1])
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < 32; i++) {
        out[3 * i] = hex[fp[i] >> 4];
        out[3 * i + 1] = hex[fp[i] & 15];
        out[3 * i + 2] = i == 31 ? '\0' : ':';
    }
}
