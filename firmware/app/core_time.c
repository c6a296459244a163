/*
 * firmware/app/core_time.c — network time (docs/network.md "Network time"): which servers, when
 * to ask them (net/sntp), and what their answer does to the clock (firmware/timesync decides;
 * this applies it, audits every step, and holds a step over a day for the operator).
 *
 * A round every NTP_POLL_MS once the servers answer, every NTP_RETRY_MS while they do not; the
 * first at once when `time ntp` names them, and a few seconds after boot. The setting lives in
 * the NV store with the network's.
 */
#include "core.h"

#if SIGNET_HAS_NET
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "firmware/timesync/timesync.h"
#include "hal/clock.h"
#include "lib/civil_time.h"
#include "net/sntp.h"

#define NTP_POLL_MS       64000u
#define NTP_RETRY_MS      16000u
#define NTP_BOOT_DELAY_MS 3000u
/* A step waiting for the operator is good for this long; then the next round asks again. */
#define NTP_CONFIRM_MS (10u * 60 * 1000)
#define NTP_LIST_MAX   (SNTP_SERVERS * SNTP_SPEC_MAX)

/* NV record NV_KEY_NTP: version 1, then the servers as the operator typed them, comma separated
 * (no record: off). */
#define NTPCFG_VERSION 1

static struct {
    unsigned n;
    char servers[SNTP_SERVERS][SNTP_SPEC_MAX];
    char list[NTP_LIST_MAX + 1];
    bool polling;
    unsigned gen, round_gen; /* a round started under other servers is not used */
    uint64_t next_ms;
    int64_t last_sync; /* Unix seconds of the last round that agreed; 0: none */
    int64_t last_offset_ms;
    char state[SNTP_SPEC_MAX + 200]; /* how the last round ended, for status */
    bool synced;                     /* the last round agreed (and the clock follows it) */
    bool pending;                    /* a step over a day, waiting for `time ntp confirm` */
    int64_t pending_offset_ms;
    uint64_t pending_at_ms;
} ntp;

/* "a,b,c" into ntp-shaped servers; the count, or -1 with *why. */
static int parse_list(const char *list, char out[SNTP_SERVERS][SNTP_SPEC_MAX], const char **why)
{
    unsigned n = 0;
    const char *p = list;

    *why = "want SERVER[,SERVER[,SERVER]], each HOST[:PORT] (an address or a host name)";
    if (strlen(list) > NTP_LIST_MAX)
        return -1;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char host[HOSTNAME_MAX + 1];
        uint16_t port;
        if (n == SNTP_SERVERS || len == 0 || len >= SNTP_SPEC_MAX)
            return -1;
        memcpy(out[n], p, len);
        out[n][len] = '\0';
        if (sntp_parse_server(out[n], host, &port) != 0)
            return -1;
        n++;
        p += len + (end ? 1 : 0);
        if (end && !*p)
            return -1; /* a trailing comma */
    }
    return n ? (int)n : -1;
}

static void format_secs(int64_t s, char *out, size_t cap)
{
    int64_t a = s < 0 ? -s : s;

    if (a >= 86400)
        snprintf(out, cap, "%c%lld s (%lld days)", s < 0 ? '-' : '+', (long long)a,
                 (long long)(a / 86400));
    else
        snprintf(out, cap, "%c%lld s", s < 0 ? '-' : '+', (long long)a);
}

/* Step the RTC by offset_ms and audit it with what it was and is; how says who moved it. */
static int step(struct app *app, int64_t offset_ms, const char *how, const char **why)
{
    int64_t was = 0, by = (offset_ms + (offset_ms < 0 ? -500 : 500)) / 1000;
    char was_text[CIVIL_ISO8601_LEN + 1], now_text[CIVIL_ISO8601_LEN + 1], by_text[48];

    *why = "the RTC cannot be read";
    if (hal_clock_wall_get(&was) != 0)
        return -EIO;
    *why = "the RTC cannot hold the time the servers give";
    if (hal_clock_wall_set(was + by) != 0)
        return -ERANGE;
    civil_format_iso8601(was, was_text);
    civil_format_iso8601(was + by, now_text);
    format_secs(by, by_text, sizeof(by_text));
    app_audit(app, "time ntp: stepped by %s (was %s, now %s; %s; servers %s)", by_text, was_text,
              now_text, how, ntp.list);
    return 0;
}

static void in_sync(const struct timesync_verdict *v, unsigned n)
{
    ntp.synced = true;
    ntp.pending = false;
    (void)hal_clock_wall_get(&ntp.last_sync);
    ntp.last_offset_ms = v->offset_ms;
    snprintf(ntp.state, sizeof(ntp.state), "in sync (%u of %u servers agree)", v->agreeing, n);
}

static void round_done(void *ctx, const struct sntp_sample *s, unsigned n)
{
    struct app *app = ctx;
    struct timesync_sample t[SNTP_SERVERS];
    struct timesync_verdict v;
    const char *first_why = "";
    uint64_t now = hal_clock_ms();
    char by[48];

    ntp.polling = false;
    if (ntp.round_gen != ntp.gen) {
        ntp.next_ms = now; /* the servers changed meanwhile: ask the new ones */
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        t[i].ok = s[i].ok;
        t[i].offset_ms = s[i].offset_ms;
        if (!s[i].ok && !*first_why)
            first_why = s[i].why;
    }
    timesync_decide(t, n, &v);
    ntp.synced = false;
    ntp.next_ms = now + (v.action == TIMESYNC_IN_SYNC || v.action == TIMESYNC_STEP ? NTP_POLL_MS
                                                                                   : NTP_RETRY_MS);
    format_secs((v.offset_ms + (v.offset_ms < 0 ? -500 : 500)) / 1000, by, sizeof(by));
    switch (v.action) {
    case TIMESYNC_NO_ANSWER:
        snprintf(ntp.state, sizeof(ntp.state), "no answer: %s", first_why);
        return;
    case TIMESYNC_DISAGREE:
        snprintf(ntp.state, sizeof(ntp.state),
                 "not used: %u of %u servers answered and only %u agree (a majority must)",
                 v.answered, n, v.agreeing);
        app_audit(app, "time ntp: not stepped: %u of %u servers answered, %u agree (%s)",
                  v.answered, n, v.agreeing, ntp.list);
        return;
    case TIMESYNC_CONFIRM:
        snprintf(ntp.state, sizeof(ntp.state),
                 "the servers say the clock is off by %s: not stepped until `time ntp confirm`",
                 by);
        /* Said once per claim, not every round: a new one is a different step. */
        if (!ntp.pending || now - ntp.pending_at_ms >= NTP_CONFIRM_MS ||
            (ntp.pending_offset_ms - v.offset_ms > 2000 ||
             v.offset_ms - ntp.pending_offset_ms > 2000)) {
            app_audit(app, "time ntp: a step of %s refused until the operator confirms it (%s)", by,
                      ntp.list);
            app_notice(app, APP_NOTE_UNASKED_BEGIN, "%s", "");
            app_notice(app, APP_NOTE_INFO,
                       "time ntp: the time servers say the clock is off by %s; it stays as it is "
                       "until you type `time ntp confirm`",
                       by);
            app_notice(app, APP_NOTE_UNASKED_END, "%s", "");
        }
        ntp.pending = true;
        ntp.pending_offset_ms = v.offset_ms;
        ntp.pending_at_ms = now;
        return;
    case TIMESYNC_STEP:
        if (step(app, v.offset_ms, "agreed by the servers", &first_why) != 0) {
            snprintf(ntp.state, sizeof(ntp.state), "not stepped: %s", first_why);
            app_audit(app, "time ntp: not stepped: %s", first_why);
            return;
        }
        in_sync(&v, n);
        return;
    case TIMESYNC_IN_SYNC:
        in_sync(&v, n);
        return;
    }
}

static void poll_now(struct app *app)
{
    if (!ntp.n || ntp.polling)
        return;
    if (sntp_poll(ntp.servers, ntp.n, round_done, app) == 0) {
        ntp.polling = true;
        ntp.round_gen = ntp.gen;
    } else
        ntp.next_ms = hal_clock_ms() + NTP_RETRY_MS;
}

void app_time_tick(struct app *app)
{
    if (ntp.n && !ntp.polling && hal_clock_ms() >= ntp.next_ms)
        poll_now(app);
}

void app_time_load(struct app *app)
{
    char rec[1 + NTP_LIST_MAX + 1];
    size_t len = 0;
    const char *why;

    if (app->nv_status || nvstore_read(&app->nv, NV_KEY_NTP, rec, sizeof(rec) - 1, &len) != 0)
        return; /* never set: off */
    rec[len] = '\0';
    if (len < 2 || rec[0] != NTPCFG_VERSION || strlen(rec + 1) != len - 1 ||
        parse_list(rec + 1, ntp.servers, &why) < 0) {
        app_audit(app, "time ntp: the stored setting is unreadable; network time is off");
        return;
    }
    ntp.n = (unsigned)parse_list(rec + 1, ntp.servers, &why);
    memcpy(ntp.list, rec + 1, len);
    ntp.next_ms = hal_clock_ms() + NTP_BOOT_DELAY_MS;
    snprintf(ntp.state, sizeof(ntp.state), "not asked yet");
}

int app_time_ntp_set(struct app *app, const char *list, const char **why)
{
    char servers[SNTP_SERVERS][SNTP_SPEC_MAX] = {{0}};
    char rec[1 + NTP_LIST_MAX] = {NTPCFG_VERSION};
    bool off = strcmp(list, "off") == 0;
    int n = off ? 0 : parse_list(list, servers, why);

    if (n < 0)
        return -EINVAL;
    *why = "no network interface";
    if (app->net_status)
        return -ENODEV;
    *why = "could not store the setting (NV store unavailable)";
    if (app->nv_status)
        return -EIO;
    size_t len = off ? 0 : strlen(list);
    memcpy(rec + 1, list, len);
    int ret = off ? nvstore_delete(&app->nv, NV_KEY_NTP)
                  : nvstore_write(&app->nv, NV_KEY_NTP, rec, 1 + len);
    if (ret != 0 && !(off && ret == -ENOENT))
        return -EIO;
    ntp.gen++;
    ntp.n = (unsigned)n;
    ntp.next_ms = hal_clock_ms();
    memcpy(ntp.servers, servers, sizeof(servers));
    memcpy(ntp.list, list, len);
    ntp.list[len] = '\0';
    ntp.pending = ntp.synced = false;
    ntp.last_sync = 0;
    snprintf(ntp.state, sizeof(ntp.state), off ? "off" : "asking");
    poll_now(app);
    return 0;
}

int app_time_ntp_confirm(struct app *app, const char **why)
{
    *why = "no step is waiting for confirmation";
    if (!ntp.pending || hal_clock_ms() - ntp.pending_at_ms >= NTP_CONFIRM_MS) {
        ntp.pending = false;
        return -ENOENT;
    }
    int ret = step(app, ntp.pending_offset_ms, "confirmed by the operator", why);
    if (ret)
        return ret;
    ntp.pending = false;
    ntp.synced = true;
    (void)hal_clock_wall_get(&ntp.last_sync);
    ntp.last_offset_ms = ntp.pending_offset_ms;
    snprintf(ntp.state, sizeof(ntp.state), "in sync (stepped as confirmed)");
    ntp.next_ms = hal_clock_ms() + NTP_POLL_MS;
    return 0;
}

void app_time_state(struct app_time_state *out)
{
    out->on = ntp.n > 0;
    out->synced = ntp.n > 0 && ntp.synced;
    out->pending = ntp.n > 0 && ntp.pending;
    out->last_sync = ntp.last_sync;
    out->offset_ms = ntp.last_offset_ms;
}

void app_time_describe(char *out, size_t cap)
{
    char when[CIVIL_ISO8601_LEN + 1] = "never";

    if (!ntp.n) {
        snprintf(out, cap, "off (the clock is set by hand: `time set`)");
        return;
    }
    if (ntp.last_sync)
        civil_format_iso8601(ntp.last_sync, when);
    snprintf(out, cap, "%s; %s; last sync %s, offset %+lld ms", ntp.list, ntp.state, when,
             (long long)ntp.last_offset_ms);
}
#endif
