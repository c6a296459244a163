/*
 * firmware/app/core_forward.c — the audit ring forwarded to a syslog collector as it is written
 * (docs/audit.md "Forwarding"): every entry once, in order, as an RFC 5424 message carrying its
 * sequence number, over RELP (net/relp), which acknowledges each message.
 *
 * What the collector acknowledged is kept in the NV store with the setting, so after an outage
 * of the collector, the network or the appliance, sending goes on from the entry after it: no
 * gap, and nothing twice but what was in flight (at most RELP_WINDOW messages, and only when the
 * appliance itself lost power before it could note the acknowledgement). An acknowledged entry
 * has left the box: it counts as exported, so the ring may reuse its segment.
 *
 * Runs in the net task: a tick reconnects when due and sends what is new; the RELP session's
 * events move the acknowledged seq on.
 */
#include "core.h"

#if SIGNET_HAS_NET
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hal/clock.h"
#include "lib/civil_time.h"
#include "lib/hex.h"
#include "net/relp.h"

#define FWD_VERSION  1
#define FWD_RETRY_MS 5000u
#define FWD_SAVE_MS  5000u
#define FWD_SPEC_MAX (HOSTNAME_MAX + 6)
#define FWD_SD_ID    "signet@32473" /* RFC 5612's documentation number, until one is ours */
#define FWD_FACILITY 13             /* log audit (RFC 5424 table 1) */
#define FWD_WHY_MAX  96

static struct {
    struct app *app;
    bool on;
    char spec[FWD_SPEC_MAX + 1]; /* HOST:PORT as the operator gave it */
    char host[HOSTNAME_MAX + 1];
    uint16_t port;
    bool open;             /* the RELP session is open */
    bool said_down;        /* the outage is audited once */
    uint32_t acked, saved; /* the collector has every entry up to acked; NV holds saved */
    uint64_t saved_ms;
    struct audit_cursor cur; /* the next entry to send */
    /* Sent, not acknowledged yet, in order: the txnr and the last seq each message covers. */
    uint32_t txnr[RELP_WINDOW], seq[RELP_WINDOW];
    unsigned first, count;
    bool have_pending; /* a message read from the ring that found no room yet */
    char pending[RELP_MSG_MAX + 1];
    size_t pending_len;
    uint32_t pending_seq;
    uint64_t retry_ms;
    char why[FWD_WHY_MAX];
    uint32_t sent, sessions;
    bool restart; /* the setting changed: the net task ends the session (lwIP is its alone) */
} fwd;

/* NV record NV_KEY_AUDIT_FORWARD: version | u32 acked seq | the spec (no record: off). */
static int save(struct app *app)
{
    uint8_t v[5 + FWD_SPEC_MAX];
    size_t n = strlen(fwd.spec);

    v[0] = FWD_VERSION;
    for (int i = 0; i < 4; i++)
        v[1 + i] = (uint8_t)(fwd.acked >> (8 * i));
    memcpy(v + 5, fwd.spec, n);
    int ret = nvstore_write(&app->nv, NV_KEY_AUDIT_FORWARD, v, 5 + n);
    if (!ret) {
        fwd.saved = fwd.acked;
        fwd.saved_ms = hal_clock_ms();
    }
    return ret;
}

static void reset_session(void)
{
    fwd.open = false;
    fwd.first = fwd.count = 0;
    fwd.have_pending = false;
    fwd.cur = (struct audit_cursor){.seq = fwd.acked + 1};
}

/* Checked whole, then taken: a refused spec leaves the setting as it was. */
static int use_spec(const char *spec)
{
    char host[HOSTNAME_MAX + 1];
    uint16_t port = 0;

    if (strlen(spec) > FWD_SPEC_MAX || !strchr(spec, ':') ||
        hostname_parse_server(spec, host, &port, 0) != 0 || port == 0)
        return -EINVAL;
    snprintf(fwd.host, sizeof(fwd.host), "%s", host);
    fwd.port = port;
    snprintf(fwd.spec, sizeof(fwd.spec), "%s", spec);
    return 0;
}

void app_forward_load(struct app *app)
{
    uint8_t v[5 + FWD_SPEC_MAX + 1];
    size_t len = 0;
    char spec[FWD_SPEC_MAX + 1];

    memset(&fwd, 0, sizeof(fwd));
    fwd.app = app;
    if (app->nv_status || nvstore_read(&app->nv, NV_KEY_AUDIT_FORWARD, v, sizeof(v), &len) != 0 ||
        len < 6 || len > 5 + FWD_SPEC_MAX || v[0] != FWD_VERSION)
        return;
    memcpy(spec, v + 5, len - 5);
    spec[len - 5] = '\0';
    if (use_spec(spec) != 0)
        return;
    fwd.acked = fwd.saved =
        (uint32_t)v[1] | (uint32_t)v[2] << 8 | (uint32_t)v[3] << 16 | (uint32_t)v[4] << 24;
    fwd.on = true;
    reset_session();
}

int app_forward_set(struct app *app, const char *spec, const char **why)
{
    char old[FWD_SPEC_MAX + 1];
    bool was_on = fwd.on;
    uint32_t old_acked = fwd.acked;

    snprintf(old, sizeof(old), "%s", fwd.spec);
    if (spec && use_spec(spec) != 0) {
        *why = "want HOST:PORT (an address or a host name, and the collector's RELP port)";
        return -EINVAL;
    }
    fwd.restart = true;
    if (!spec) {
        *why = "cannot change the NV store";
        if (nvstore_delete(&app->nv, NV_KEY_AUDIT_FORWARD) != 0 && was_on)
            return -EIO;
        fwd.on = false;
        fwd.open = false;
        return 0;
    }
    /* Another collector has none of the ring yet: it gets all that is kept. */
    if (!was_on || strcmp(old, fwd.spec) != 0)
        fwd.acked = 0;
    *why = "cannot store the setting in the NV store";
    if (app->nv_status || save(app) != 0) {
        fwd.on = was_on;
        fwd.acked = old_acked;
        if (was_on)
            (void)use_spec(old);
        return -EIO;
    }
    fwd.on = true;
    fwd.said_down = false;
    fwd.why[0] = '\0';
    fwd.retry_ms = 0;
    reset_session();
    return 0;
}

/* ---- the messages ---- */

/* RFC 5424: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG. */
static size_t format(struct app *app, const struct audit_rec *r, char *out, size_t cap)
{
    char when[CIVIL_ISO8601_LEN + 1], host[DOC_NAME_MAX + 1], ring[2 * AUDIT_RING_ID_LEN + 1];
    uint8_t id[AUDIT_RING_ID_LEN];
    const char *msgid = r->type == AUDIT_REC_SEAL   ? "seal"
                        : r->type == AUDIT_REC_LOSS ? "loss"
                                                    : "audit";
    int severity = r->type == AUDIT_REC_LOSS ? 2 : 6;
    size_t i = 0;

    civil_format_iso8601(r->when, when);
    for (const char *p = app->enroll.cfg.name; *p && i < sizeof(host) - 1; p++, i++)
        host[i] = *p > ' ' && *p <= '~' ? *p : '_';
    host[i] = '\0';
    if (audit_get_ring_id(&app->audit, id) == 0)
        hex_encode(id, sizeof(id), ring);
    else
        snprintf(ring, sizeof(ring), "none");
    int n = snprintf(out, cap, "<%d>1 %s %s signet - %s [" FWD_SD_ID " seq=\"%lu\" ring=\"%s\"] ",
                     FWD_FACILITY * 8 + severity, when, host[0] ? host : "-", msgid,
                     (unsigned long)r->seq, ring);
    if (n < 0 || (size_t)n >= cap)
        return 0;
    struct audit_seal s;
    if (audit_seal_parse(r, &s) == 0) {
        char h[2 * AUDIT_HASH_LEN + 1], sig[2 * AUDIT_SIG_LEN + 1];
        hex_encode(s.covered_hash, sizeof(s.covered_hash), h);
        hex_encode(s.sig, sizeof(s.sig), sig);
        n += snprintf(out + n, cap - (size_t)n, "seal of entry %lu, hash %s, signature %s",
                      (unsigned long)s.covered_seq, h, sig);
    } else {
        size_t len = r->body_len < cap - (size_t)n ? r->body_len : cap - (size_t)n - 1;
        memcpy(out + n, r->body, len);
        n += (int)len;
        out[n] = '\0';
    }
    return (size_t)n < cap ? (size_t)n : 0;
}

/* ---- the session ---- */

/* Kept in NV when the window drains, and every few seconds while it does not: the store is
 * flash, and what is lost at a power cut is only sent again. */
static void note_acked(struct app *app)
{
    if (fwd.acked == fwd.saved || (fwd.count && hal_clock_ms() - fwd.saved_ms < FWD_SAVE_MS))
        return;
    if (save(app) == 0 && fwd.acked > app->audit.exported_seq)
        (void)audit_set_exported(&app->audit, fwd.acked);
}

static void on_opened(void *ctx)
{
    struct app *app = ctx;
    if (fwd.restart)
        return; /* the session of a setting replaced: ended on the next tick */
    fwd.open = true;
    fwd.sessions++;
    if (fwd.said_down || fwd.sessions == 1)
        app_audit(app, "audit forward: connected to %s, sending from entry %lu", fwd.spec,
                  (unsigned long)fwd.acked + 1);
    fwd.said_down = false;
    fwd.why[0] = '\0';
}

static void on_acked(void *ctx, uint32_t txnr)
{
    struct app *app = ctx;
    if (fwd.restart)
        return;
    if (!fwd.count || fwd.txnr[fwd.first] != txnr) {
        relp_abort(); /* acks come in order; anything else is not a collector we understand */
        snprintf(fwd.why, sizeof(fwd.why), "the collector acknowledged out of order");
        reset_session();
        fwd.retry_ms = hal_clock_ms() + FWD_RETRY_MS;
        return;
    }
    fwd.acked = fwd.seq[fwd.first];
    fwd.first = (fwd.first + 1) % RELP_WINDOW;
    fwd.count--;
    note_acked(app);
}

static void on_closed(void *ctx, const char *why)
{
    struct app *app = ctx;
    if (fwd.restart)
        return;
    snprintf(fwd.why, sizeof(fwd.why), "%s", why);
    if (!fwd.said_down)
        app_audit(app, "audit forward: %s: %s; entries wait in the ring", fwd.spec, why);
    fwd.said_down = true;
    reset_session();
    fwd.retry_ms = hal_clock_ms() + FWD_RETRY_MS;
    note_acked(app);
}

static const struct relp_events events = {on_opened, on_acked, on_closed};

/* The next message into pending: an entry, or a note of entries the ring no longer has. */
static bool next_message(struct app *app)
{
    struct audit_rec r;
    uint32_t from = fwd.cur.seq ? fwd.cur.seq : 1;
    int ret = audit_read(&app->audit, &fwd.cur, &r);

    if (ret == -ENOENT) {
        char when[CIVIL_ISO8601_LEN + 1];
        int64_t now = 0;
        (void)hal_clock_wall_get(&now);
        civil_format_iso8601(now, when);
        int n = snprintf(fwd.pending, sizeof(fwd.pending),
                         "<%d>1 %s - signet - gap [" FWD_SD_ID " from=\"%lu\" to=\"%lu\"] entries "
                         "%lu..%lu are not in the ring (exported before forwarding, or lost)",
                         FWD_FACILITY * 8 + 4, when, (unsigned long)from,
                         (unsigned long)fwd.cur.seq - 1, (unsigned long)from,
                         (unsigned long)fwd.cur.seq - 1);
        fwd.pending_len = n > 0 && (size_t)n < sizeof(fwd.pending) ? (size_t)n : 0;
        fwd.pending_seq = fwd.cur.seq - 1;
        return fwd.have_pending = fwd.pending_len > 0;
    }
    if (ret)
        return false;
    fwd.pending_len = format(app, &r, fwd.pending, sizeof(fwd.pending));
    fwd.pending_seq = r.seq;
    return fwd.have_pending = fwd.pending_len > 0;
}

static void pump(struct app *app)
{
    while (fwd.open && fwd.count < RELP_WINDOW) {
        if (!fwd.have_pending && !next_message(app))
            return;
        uint32_t txnr;
        if (relp_send(fwd.pending, fwd.pending_len, &txnr) != 0)
            return; /* no room now: the same message next tick */
        unsigned at = (fwd.first + fwd.count) % RELP_WINDOW;
        fwd.txnr[at] = txnr;
        fwd.seq[at] = fwd.pending_seq;
        fwd.count++;
        fwd.sent++;
        fwd.have_pending = false;
    }
}

void app_forward_tick(struct app *app)
{
    const char *why;

    if (fwd.restart) {
        fwd.restart = false;
        relp_abort();
        reset_session();
    }
    relp_tick((uint32_t)hal_clock_ms());
    if (!fwd.on)
        return;
    if (!relp_busy()) {
        if (hal_clock_ms() < fwd.retry_ms)
            return;
        reset_session();
        if (relp_connect(fwd.host, fwd.port, &events, app, &why) != 0) {
            on_closed(app, why);
            return;
        }
    }
    pump(app);
}

void app_forward_describe(const struct app *app, char *out, size_t cap)
{
    (void)app;
    if (!fwd.on) {
        snprintf(out, cap, "off");
        return;
    }
    snprintf(out, cap, "relp %s: %s; the collector has entries up to %lu, %u in flight%s%s",
             fwd.spec,
             fwd.open      ? "connected"
             : relp_busy() ? "connecting"
                           : "not connected",
             (unsigned long)fwd.acked, fwd.count, fwd.why[0] ? "; last: " : "", fwd.why);
}
#endif
