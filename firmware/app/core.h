/*
 * firmware/app/core.h — the appliance core: the one way in for the adapters (console commands
 * cmd_*.c, HTTP endpoints service*.c) and the tasks main.c wires.
 *
 * The core owns what every adapter shares: the clock as X.509 time, the audit log, the token's
 * state in RAM (load, unload, periodic refresh, the SLC expiry warning), readiness (why the
 * service cannot sign), the login lifecycle with the boot's auto-login, the net task's poll for
 * work the token task has done, the CRLs fetched from above (crl_fetch.c) and
 * the HTTPS identity (tls_setup.c, app.h). Adapters call it and never each other; the core
 * prints nothing: a CRL fetch tells its outcome to a callback (the console's is in cmd_crl.c).
 * What the core has to tell the operator goes through one notice path (app_notice), which the
 * console adapter prints.
 */
#ifndef APP_CORE_H
#define APP_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"

/* ---- boot, time and audit (core.c) ---- */

/* Why the board last reset, as the banner and `status` say it. */
const char *app_reset_reason_name(enum hal_reset_reason r);

/* Wall-clock now as X.509 time, and as seconds since 1970 when secs is non-NULL; false: the RTC
 * is unreadable. */
bool app_now(struct app *app, x509_time *t, int64_t *secs);
/* One audit entry, stamped with the wall clock (0 when unreadable). */
void app_audit(struct app *app, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- the audit ring's seals, request budget and check (core_audit.c) ---- */

/* The token job (app->audit_seal_job): the audit key found or made, the ring compared with the
 * token's anchor once a boot, and the chain head sealed when due. */
void app_audit_seal_job(struct token_job *job);
/* Submit it when there is something for it to do (logged in; a check or a seal due). */
void app_audit_kick(struct app *app);
/* A request's outcome (what: "certify", "publish", ...; status 0 issued, else the refusal's):
 * written as an entry while this minute has budget left (APP_AUDIT_REQUESTS_PER_MIN), counted
 * for the minute's summary entry otherwise. */
void app_audit_request(struct app *app, const char *what, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Every minute: the last minute's summary, if it counted anything. */
void app_audit_budget_tick(struct app *app);
/* What this minute counted so far, written now (before the log is shown or exported). */
void app_audit_budget_flush(struct app *app);

struct app_audit_anchor {
    bool present, damaged;
    uint32_t seq; /* the newest seal record the token saw written */
    uint8_t hash[AUDIT_HASH_LEN];
    int64_t when;
};
struct app_audit_report {
    struct audit_walk walk; /* first/last seq, records, seals, sealed_seq */
    bool have_key;          /* seals were checked against the audit key */
    struct app_audit_anchor anchor;
    bool anchor_held; /* the ring holds the entry the anchor names, as the anchor has it */
    char why[AUDIT_WHY_MAX + 80];
};
/* `audit verify` (token task): the whole ring walked, seals checked with the audit key, the end
 * compared with what RAM wrote and with the token's anchor. 0 when whole; -EBADMSG with why
 * naming the first broken entry; another negative errno when it could not be checked. */
int app_audit_verify(struct app *app, struct app_audit_report *rep);
/* `audit export` (token task): the audit key's certificate made (by the SLC key), the head
 * sealed, the range fixed: records head.first_seq (from; 0: the oldest kept) to head.last_seq,
 * a seal of the entry before it. 0, or a negative errno with why. The adapter then writes
 * the export (crypto/audit_chain.h) and marks it exported. */
struct app_audit_export {
    struct audit_export_head head;
    uint8_t cert[1024];
    size_t cert_len;
    char why[120];
};
int app_audit_export_prepare(struct app *app, uint32_t from, struct app_audit_export *x);
/* What needs the operator (ring full or nearly, entries lost), or NULL. */
const char *app_audit_warning(const struct app *app);
/* One line for `status`: entries, free segments, sealed and exported to. */
void app_audit_describe(const struct app *app, char *out, size_t cap);

/* ---- telling the operator (core.c) ---- */

/* enum app_note and app_notice_fn: app.h (struct app keeps the sink). */
void app_set_notice(struct app *app, app_notice_fn fn, void *ctx);
void app_notice(struct app *app, enum app_note kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- the token's state in RAM (core.c) ---- */

/* Read what the token holds for this appliance (enrollment, ACL, identity sources, revocation)
 * into RAM; needs login. 0, or a negative errno with *why set. */
int app_load_state(struct app *app, const char **why);
void app_unload_state(struct app *app);
/* Log (once a day) when the SLC has fewer than ENROLL_RENEW_WARN_DAYS left. */
void app_check_expiry(struct app *app);
/* Periodic (house task): read the enrollment state again from the token (shared by cluster
 * members) while logged in and nothing half done depends on it, then check the expiry. */
void app_refresh_state(struct app *app);

/* ---- readiness (core.c) ---- */

/* Why the service cannot sign right now, or NULL when it can (what /health and /v1/status say).
 * A token link found down is tried again here, with the relink back-off. */
const char *app_not_ready_reason(struct app *app);

#define APP_FP_TEXT_LEN (32 * 3 - 1) /* AB:CD:...:EF */
/* A SHA-256 fingerprint as operators see and type it. */
void app_format_fingerprint(const uint8_t fp[32], char out[APP_FP_TEXT_LEN + 1]);

/* ---- the net task's poll (core.c) ---- */

/* What the net task runs when something a service waits for may be done (a request the token
 * task has issued): registered by that service (service_sign.c), run by the net task on a kick
 * and on every tick. NULL: nothing to look at. */
typedef void (*app_poll_fn)(struct app *app);
void app_set_net_poll(struct app *app, app_poll_fn fn);
/* Have the net task run the poll soon; interrupt context allowed. */
void app_kick_net_poll(struct app *app);
/* The net task's part (main.c; on APP_SIG_NET_POLL it clears net_poll_kicked first). */
void app_net_poll(struct app *app);

/* ---- the network setting (core_net.c; boards with the network) ---- */

struct net_config;
/* The setting kept in the NV store; DHCP when there is none or it is unreadable (*bad then). */
void app_net_config_load(struct app *app, struct net_config *cfg, bool *bad);
/* Check c, store it, then apply it: 0, or a negative errno with *why (one line); a setting
 * refused or not stored is not applied. */
int app_net_config_set(struct app *app, const struct net_config *c, const char **why);
/* The DNS servers kept in the NV store (n 0: DHCP's), applied; at boot, after the interface. */
void app_net_dns_load(struct app *app);
/* Check, store, then apply the operator's DNS servers (n 1..RESOLVE_SERVERS), or n 0 for DHCP's:
 * 0, or a negative errno with *why. */
struct resolve_server;
int app_net_dns_set(struct app *app, const struct resolve_server *s, unsigned n, const char **why);

/* ---- network time (core_time.c; boards with the network) ---- */

/* The servers kept in the NV store; the first round a few seconds after boot. */
void app_time_load(struct app *app);
/* "HOST[:PORT][,...]" (up to SNTP_SERVERS) or "off": checked, stored, then in force, the first
 * round at once. 0, or a negative errno with *why. The caller audits it. */
int app_time_ntp_set(struct app *app, const char *list, const char **why);
/* Make the step over a day that the servers agreed on and the operator has now confirmed:
 * 0 (audited), or -ENOENT (none waiting, or it is over 10 minutes old) with *why. */
int app_time_ntp_confirm(struct app *app, const char **why);
/* The net task's part, every tick: start a round when one is due. */
void app_time_tick(struct app *app);
struct app_time_state {
    bool on;           /* servers are configured */
    bool synced;       /* the last round agreed, and the clock follows it */
    bool pending;      /* a step over a day waits for `time ntp confirm` */
    int64_t last_sync; /* Unix seconds; 0: none since the servers were set */
    int64_t offset_ms; /* what the last sync found */
};
void app_time_state(struct app_time_state *out);
/* One line: the servers, how the last round ended, the last sync and offset. */
void app_time_describe(char *out, size_t cap);

/* ---- the audit ring forwarded to a syslog collector (core_forward.c; boards with the
 * network) ---- */

/* The setting kept in the NV store, and what the collector acknowledged. */
void app_forward_load(struct app *app);
/* "HOST:PORT" (RELP), or NULL: off. Checked, stored, in force. 0, or a negative errno with
 * *why. The caller audits it. */
int app_forward_set(struct app *app, const char *spec, const char **why);
/* The net task's part, every tick: reconnect when due, send what is new. */
void app_forward_tick(struct app *app);
/* One line: the collector, the session, what it has. */
void app_forward_describe(const struct app *app, char *out, size_t cap);

/* ---- who reads GET /metrics (core_metrics.c; boards with the network) ---- */

enum app_metrics_mode { APP_METRICS_OPEN, APP_METRICS_HTTPS, APP_METRICS_OFF };
void app_metrics_load(struct app *app);
/* Store, then use: 0, or -EIO with *why. fp: the client certificate's (APP_METRICS_HTTPS). */
int app_metrics_set(struct app *app, enum app_metrics_mode mode, const uint8_t fp[32],
                    const char **why);
/* The mode, and (fp non-NULL) the fingerprint it names. */
enum app_metrics_mode app_metrics_mode(uint8_t fp[32]);
/* The one decision: may this caller (over TLS or not, with this client certificate's
 * fingerprint, or NULL for none) read the metrics? false with *why, one line. */
bool app_metrics_may_read(bool secure, const uint8_t *client_fp, const char **why);

/* ---- the CRLs from above (crl_fetch.c; boards with the network) ---- */

/* How a CRL fetch ended, for whoever asked for it. */
struct app_crl_outcome {
    enum revoke_source src;
    const char *from; /* "root" or "authority" */
    const char *url;  /* what was fetched */
    int ret;          /* 0: accepted (or the one held again); else why says why not */
    const char *why;  /* one line */
    bool newer;       /* a newer CRL than the one held */
    uint64_t number;  /* the CRL held now (ret 0) */
    size_t entries, excluded;
    const char *blocking; /* why the appliance does not serve now (revoke), or NULL */
};
typedef void (*app_crl_done_fn)(void *ctx, const struct app_crl_outcome *o);
/* Fetch "<base>/v1/crl" as src's CRL and hand it to revoke_accept_crl (net task); done (may be
 * NULL) is told the outcome; cmd names it in the audit log. -EBUSY one is in flight, -EIO not
 * logged in, or http_client_get's errors (*why; done is not called then). */
int app_crl_fetch(struct app *app, enum revoke_source src, const char *base, const char *cmd,
                  app_crl_done_fn done, void *ctx, const char **why);
/* Where a fetch of base would go, for telling the operator ("" when base is unusable). */
const char *app_crl_fetch_url(void);
/* Each net tick: a licensing server fetches its root's CRL when due (see crl_fetch.c). */
void app_crl_fetch_tick(struct app *app);

/* ---- login (core_login.c) ---- */

/* Log in with pin (the operator's, typed on the console), then bring up what every login brings
 * up: the state from the token and HTTPS. Notices say the outcome; audited. CKR_OK or the
 * token's refusal. */
CK_RV app_login(struct app *app, const uint8_t *pin, size_t len);
/* Log out: the token forgets the PIN, RAM the state. Audited. */
void app_logout(struct app *app);
/* At boot, note whether a sealed PIN is kept and, if so, have the house task log in with it
 * (timer, signal sig); app_auto_login_try is that task's part. */
void app_auto_login_start(struct app *app, uint16_t sig);
void app_auto_login_try(struct app *app);
/* Seal the PIN of the login in force (on) or wipe the sealed one; app->auto_login says what is
 * kept afterwards. 0 or hal_secret's negative errno. */
int app_auto_login_set(struct app *app, bool on);
/* After a PIN change with auto-login on: seal the new PIN, or (failing that) wipe the stale one.
 * 0 or hal_secret's negative errno; app->auto_login says what is kept. */
int app_auto_login_reseal(struct app *app);
/* Two secrets compared without an early exit, so the time taken says nothing of where they
 * differ. */
bool app_same_secret(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len);
/* Overwrite a secret in a way the compiler keeps. */
void app_wipe(void *p, size_t n);

#endif
