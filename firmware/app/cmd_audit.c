/*
 * Console commands for the audit trail (docs/console.md "Audit", docs/audit.md): `audit show`
 * lists the newest entries, `audit verify` checks the whole ring, its seals and its end. Both
 * need the login; verify is audited, as its outcome is evidence.
 */
#include "cmd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "firmware/kernel/kernel.h"
#include "hal/clock.h"
#include "lib/base64.h"
#include "lib/civil_time.h"

#define AUDIT_SHOW_DEFAULT 20
#define AUDIT_SHOW_MAX     1000

static struct app *app_of(struct console *con)
{
    return con->user;
}

/* The seqs of the last n events (seals do not count: they are shown among them). */
struct last_events {
    uint32_t seq[AUDIT_SHOW_MAX];
    uint32_t n, count;
};

static int note_event(void *ctx, const struct audit_rec *r)
{
    struct last_events *l = ctx;
    if (r && r->type != AUDIT_REC_SEAL)
        l->seq[l->count++ % l->n] = r->seq;
    return 0;
}

static int show_entry(void *ctx, const struct audit_rec *r)
{
    struct console *con = ctx;
    struct audit_entry e;
    char head[16 + CIVIL_ISO8601_LEN + 1];

    if (!r)
        return 0;
    audit_describe(r, &e);
    civil_format_iso8601(e.when, head + snprintf(head, 16, "%8lu  ", (unsigned long)e.seq));
    /* Not through console_printf, whose buffer is shorter than an entry can be. */
    console_puts(con, head);
    console_puts(con, "  ");
    console_puts(con, e.text);
    console_puts(con, "\n");
    return 0;
}

static int cmd_audit_show(struct console *con, int argc, char **argv)
{
    static struct last_events last; /* the console runs one command at a time */
    struct app *app = app_of(con);
    unsigned long n = AUDIT_SHOW_DEFAULT;

    if (argc == 1 && cmd_parse_count(argv[0], AUDIT_SHOW_MAX, &n) != 0) {
        console_error(con, "N is 1..%d", AUDIT_SHOW_MAX);
        return -1;
    }
    app_audit_budget_flush(app); /* what is still only counted */
    audit_flush(&app->audit);
    last.n = (uint32_t)n;
    last.count = 0;
    (void)audit_each(&app->audit, 0, note_event, &last);
    if (!last.count) {
        console_puts(con, "(audit log empty)\n");
        return 0;
    }
    /* Oldest of the chosen first, as a log reads. */
    uint32_t from = last.count < last.n ? last.seq[0] : last.seq[last.count % last.n];
    (void)audit_each(&app->audit, from, show_entry, con);
    return 0;
}

static int cmd_audit_verify(struct console *con, int argc, char **argv)
{
    static struct app_audit_report rep; /* large; the console runs one command at a time */
    struct app *app = app_of(con);
    const struct audit_walk *w = &rep.walk;

    (void)argc;
    (void)argv;
    int ret = app_audit_verify(app, &rep);
    if (ret == -EBADMSG) {
        app_audit(app, "audit verify: BROKEN: %s", rep.why);
        console_error(con, "audit verify: %s", rep.why);
        return -1;
    }
    if (ret) {
        console_error(con, "audit verify: not checked: %s", rep.why);
        return -1;
    }
    if (!w->records) {
        console_puts(con, "audit verify: ok: the ring is empty\n");
        return 0;
    }
    app_audit(app, "audit verify: ok: entries %lu..%lu", (unsigned long)w->first_seq,
              (unsigned long)w->last_seq);
    console_printf(con, "audit verify: ok: entries %lu..%lu (%lu records)\n",
                   (unsigned long)w->first_seq, (unsigned long)w->last_seq,
                   (unsigned long)w->records);
    if (!rep.have_key)
        console_puts(con, "  seals: not checked (no audit key in the token yet)\n");
    else if (!w->seals)
        console_puts(con, "  seals: none yet\n");
    else
        console_printf(con, "  seals: %lu, good; the newest covers entry %lu (%lu after it)\n",
                       (unsigned long)w->seals, (unsigned long)w->sealed_seq,
                       (unsigned long)(w->last_seq - w->sealed_seq));
    if (rep.anchor_held)
        console_printf(con, "  anchor: the token names entry %lu, which the ring holds\n",
                       (unsigned long)rep.anchor.seq);
    else if (rep.anchor.present)
        console_printf(con, "  anchor: the token names entry %lu, older than the ring\n",
                       (unsigned long)rep.anchor.seq);
    return 0;
}

/* The export's bytes as armored base64, 64 columns: a line each time 48 bytes are in. */
struct armor_out {
    struct console *con;
    uint8_t line[48];
    size_t n;
    uint64_t bytes;
    uint32_t records, lines;
    uint32_t next_seq, last_seq;
    bool gap;
};

static void armor_flush(struct armor_out *o)
{
    char text[BASE64_ENCODED_LEN(48) + 2];

    if (!o->n)
        return;
    (void)base64_encode(o->line, o->n, text, sizeof(text) - 1);
    console_puts(o->con, text);
    console_puts(o->con, "\n");
    o->n = 0;
    /* A long export lets the rest of the appliance run now and then (the console runs this on
     * the token task's fiber). */
    if (++o->lines % 64 == 0)
        (void)k_fiber_wait(hal_clock_ms() + 1);
}

static void armor_write(struct armor_out *o, const uint8_t *p, size_t len)
{
    o->bytes += len;
    while (len) {
        size_t k = sizeof(o->line) - o->n < len ? sizeof(o->line) - o->n : len;
        memcpy(o->line + o->n, p, k);
        o->n += k;
        p += k;
        len -= k;
        if (o->n == sizeof(o->line))
            armor_flush(o);
    }
}

static void armor_item(struct armor_out *o, uint8_t kind, const uint8_t *p, size_t len)
{
    uint8_t head[AUDIT_ITEM_HEAD];
    audit_item_head_encode(kind, len, head);
    armor_write(o, head, sizeof(head));
    armor_write(o, p, len);
}

static int export_record(void *ctx, const struct audit_rec *r)
{
    struct armor_out *o = ctx;
    struct audit_rec copy;
    uint8_t raw[AUDIT_REC_MAX];

    if (!r || r->seq > o->last_seq)
        return 1;
    if (r->seq != o->next_seq)
        o->gap = true; /* written as it is: the offline check names it */
    copy = *r;
    size_t n = audit_rec_encode(&copy, raw, sizeof(raw));
    armor_item(o, AUDIT_ITEM_RECORD, raw, n);
    o->next_seq = r->seq + 1;
    o->records++;
    return 0;
}

static int cmd_audit_export(struct console *con, int argc, char **argv)
{
    static struct app_audit_export x; /* the console runs one command at a time */
    static struct armor_out o;
    struct app *app = app_of(con);
    const struct doc_response *slc = &app->enroll.slc;
    unsigned long from = 0;
    uint8_t head[AUDIT_EXPORT_HEAD];

    if (argc == 1 && cmd_parse_count(argv[0], UINT32_MAX, &from) != 0) {
        console_error(con, "FROM-SEQ is a number from 1");
        return -1;
    }
    int ret = app_audit_export_prepare(app, (uint32_t)from, &x);
    if (ret) {
        app_audit(app, "audit export: refused: %s", x.why);
        console_error(con, "audit export: %s", x.why);
        return -1;
    }
    o = (struct armor_out){.con = con, .next_seq = x.head.first_seq, .last_seq = x.head.last_seq};
    console_puts(con, "-----BEGIN " AUDIT_EXPORT_LABEL "-----\n");
    audit_export_head_encode(&x.head, head);
    armor_write(&o, head, sizeof(head));
    armor_item(&o, AUDIT_ITEM_KEY_CERT, x.cert, x.cert_len);
    armor_item(&o, AUDIT_ITEM_CHAIN, slc->slc, slc->slc_len);
    for (size_t i = 0; i < slc->chain_count; i++)
        armor_item(&o, AUDIT_ITEM_CHAIN, slc->chain[i], slc->chain_len[i]);
    (void)audit_each(&app->audit, x.head.first_seq, export_record, &o);
    armor_flush(&o);
    console_puts(con, "-----END " AUDIT_EXPORT_LABEL "-----\n");
    if (o.gap || o.next_seq != x.head.last_seq + 1) {
        /* Kept as written, for the offline check; not counted as exported. */
        app_audit(app, "audit export: entries %lu..%lu with entries missing",
                  (unsigned long)x.head.first_seq, (unsigned long)x.head.last_seq);
        console_error(con,
                      "audit export: entries are missing from %lu..%lu (audit verify says "
                      "which); nothing marked exported",
                      (unsigned long)x.head.first_seq, (unsigned long)x.head.last_seq);
        return -1;
    }
    /* Only a range that continues what left before frees the ring's room. */
    if (x.head.first_seq <= app->audit.exported_seq + 1 &&
        x.head.last_seq > app->audit.exported_seq)
        (void)audit_set_exported(&app->audit, x.head.last_seq);
    app_audit(app, "audit export: entries %lu..%lu (%lu records, %llu bytes)",
              (unsigned long)x.head.first_seq, (unsigned long)x.head.last_seq,
              (unsigned long)o.records, (unsigned long long)o.bytes);
    console_printf(con, "exported entries %lu..%lu; check it with signet-authority audit-verify\n",
                   (unsigned long)x.head.first_seq, (unsigned long)x.head.last_seq);
    return 0;
}

#if SIGNET_HAS_NET
/* audit forward relp HOST:PORT | off: where every entry goes as it is written. */
static int cmd_audit_forward(struct console *con, int argc, char **argv)
{
    struct app *app = app_of(con);
    const char *why = "";
    char line[200];

    if (argc == 1 && strcmp(argv[0], "show") == 0) {
        app_forward_describe(app, line, sizeof(line));
        console_printf(con, "forward:   %s\n", line);
        return 0;
    }
    bool off = argc == 1 && strcmp(argv[0], "off") == 0;
    if (!off && !(argc == 2 && strcmp(argv[0], "relp") == 0)) {
        console_error(con, "want: audit forward relp HOST:PORT | off | show");
        return -1;
    }
    if (app_forward_set(app, off ? NULL : argv[1], &why) != 0) {
        app_audit(app, "audit forward %.300s: refused: %s", off ? "off" : argv[1], why);
        console_error(con, "%s; nothing changed", why);
        return -1;
    }
    app_audit(app, "audit forward %s%s", off ? "off" : "relp ", off ? "" : argv[1]);
    app_forward_describe(app, line, sizeof(line));
    console_printf(con, "forward:   %s\n", line);
    return 0;
}
#endif

const struct console_cmd app_audit_cmds[] = {
    {"audit show", "[N]", "the last N audit log entries (default 20)", cmd_audit_show, 0, 1,
     CONSOLE_NEEDS_LOGIN | CONSOLE_QUICK},
    {"audit verify", "",
     "check the whole audit ring: its chain, its seals, its end (names the first broken entry)",
     cmd_audit_verify, 0, 0, CONSOLE_NEEDS_LOGIN},
    {"audit export", "[FROM-SEQ]",
     "the ring from FROM-SEQ (default: the oldest kept) as an armored export, sealed, with the "
     "audit key's certificate",
     cmd_audit_export, 0, 1, CONSOLE_NEEDS_LOGIN},
#if SIGNET_HAS_NET
    {"audit forward", "relp HOST:PORT | off | show",
     "send every entry, as it is written, to a syslog collector over RELP (acknowledged; "
     "resumes after an outage)",
     cmd_audit_forward, 1, 2, CONSOLE_NEEDS_LOGIN | CONSOLE_QUICK},
#endif
};
const unsigned app_audit_cmd_count = sizeof(app_audit_cmds) / sizeof(app_audit_cmds[0]);
