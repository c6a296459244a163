/*
 * Console commands for revocation (docs/console.md "Revocation", firmware/revoke): what this
 * cluster takes back, the CRL it signs, and the CRLs of those above it. Changes need the login
 * and are audited, refusals too; the decisions themselves are firmware/revoke's.
 */
#include "cmd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/civil_time.h"

#define REVOCATIONS_DEFAULT 20

/* A pasted CRL (crl import): the paste buffer bounds it. */
static uint8_t crl_der[APP_PASTE_MAX];

static struct app *app_of(struct console *con)
{
    return con->user;
}

static bool loaded(struct console *con)
{
    struct app *app = app_of(con);
    const char *why = "could not read the revocation state from the token";

    if (app->revoke.loaded)
        return true;
    (void)app_load_state(app, &why);
    if (app->revoke.loaded)
        return true;
    console_error(con, "%s", why);
    return false;
}

/* What the token holds now, for the commands that show it: a cluster member's change is seen at
 * once, not only at the next state refresh. */
static bool current(struct console *con)
{
    struct app *app = app_of(con);
    const char *why;

    if (!loaded(con))
        return false;
    if (revoke_load(&app->revoke, &why) == -EIO) {
        console_error(con, "%s", why);
        return false;
    }
    return true;
}

static void serial_text(const uint8_t *s, char out[2 * X509_SERIAL_LEN + 1])
{
    for (size_t i = 0; i < X509_SERIAL_LEN; i++)
        snprintf(out + 2 * i, 3, "%02x", s[i]);
}

static void time_text(const x509_time *t, char out[CIVIL_ISO8601_LEN + 1])
{
    enroll_time_text(t, out);
}

/* ---- revoke, revoke user, unrevoke user ---- */

static int cmd_revoke(struct console *con, int argc, char **argv)
{
    struct app *app = app_of(con);
    uint8_t serial[X509_SERIAL_LEN];
    enum x509_crl_reason reason = X509_CRL_REASON_UNSPECIFIED;
    const char *why = "the clock is not set (time set)";
    x509_time now;

    if (!cmd_logged_in(con, "revoke") || !loaded(con))
        return -1;
    if (revoke_parse_serial(argv[0], serial) != 0) {
        cmd_refuse(app, con, "revoke",
                   "a serial is 32 hex digits, the first two 40..7f (as `revocations` and the "
                   "certificates show it)");
        return -1;
    }
    if ((argc > 1 && x509_crl_reason_parse(argv[1], &reason, &why) != 0) ||
        !app_now(app, &now, NULL) || revoke_serial(&app->revoke, serial, reason, &now, &why)) {
        cmd_refuse(app, con, "revoke", why);
        return -1;
    }
    char hex[2 * X509_SERIAL_LEN + 1];
    serial_text(serial, hex);
    app_audit(app, "revoke %s %s", hex, x509_crl_reason_name(reason));
    console_printf(con, "revoked %s (%s); %zu on the list; the CRL is signed again shortly\n", hex,
                   x509_crl_reason_name(reason), app->revoke.count);
    return 0;
}

static int cmd_revoke_user(struct console *con, int argc, char **argv)
{
    struct app *app = app_of(con);
    const char *why;

    (void)argc;
    if (!cmd_logged_in(con, "revoke user") || !loaded(con))
        return -1;
    if (revoke_user(&app->revoke, argv[0], &why) != 0) {
        cmd_refuse(app, con, "revoke user", why);
        return -1;
    }
    app_audit(app, "revoke user %s", argv[0]);
    console_printf(con,
                   "excluded %s: no new rights account certificate, and no license for the "
                   "RACs it holds\n",
                   argv[0]);
    return 0;
}

static int cmd_unrevoke_user(struct console *con, int argc, char **argv)
{
    struct app *app = app_of(con);
    const char *why;

    (void)argc;
    if (!cmd_logged_in(con, "unrevoke user") || !loaded(con))
        return -1;
    if (revoke_unuser(&app->revoke, argv[0], &why) != 0) {
        cmd_refuse(app, con, "unrevoke user", why);
        return -1;
    }
    app_audit(app, "unrevoke user %s", argv[0]);
    console_printf(con, "%s is no longer excluded\n", argv[0]);
    return 0;
}

/* ---- revocations, config crl-hours ---- */

static int cmd_revocations(struct console *con, int argc, char **argv)
{
    struct app *app = app_of(con);
    const struct revoke *r = &app->revoke;
    unsigned long n = REVOCATIONS_DEFAULT;

    if (argc && cmd_parse_count(argv[0], REVOKE_ENTRIES_MAX, &n) != 0) {
        console_error(con, "N is 1..%u", REVOKE_ENTRIES_MAX);
        return -1;
    }
    if (!current(con))
        return -1;
    if (r->damaged) {
        console_error(con, "the revocation records in the token are damaged");
        return -1;
    }
    console_printf(con, "revoked: %zu (newest first)\n", r->count);
    for (size_t i = 0; i < r->count && i < n; i++) {
        const struct x509_crl_entry *e = &r->entries[r->count - 1 - i];
        char hex[2 * X509_SERIAL_LEN + 1], date[CIVIL_ISO8601_LEN + 1];
        serial_text(e->serial, hex);
        time_text(&e->revoked_at, date);
        console_printf(con, "  %s  %-20s  %s\n", hex, x509_crl_reason_name(e->reason), date);
    }
    if (r->count > n)
        console_printf(con, "  ... %zu more\n", r->count - (size_t)n);
    console_printf(con, "excluded users: %zu\n", r->user_count);
    for (size_t i = 0; i < r->user_count; i++)
        console_printf(con, "  %s\n", r->users[i]);
    return 0;
}

static int cmd_crl_hours(struct console *con, int argc, char **argv)
{
    struct app *app = app_of(con);
    unsigned long hours;
    const char *why = "crl-hours is 1..744 (the CRL's lifetime; it is signed again at half)";

    (void)argc;
    if (!cmd_logged_in(con, "config crl-hours") || !loaded(con))
        return -1;
    if (cmd_parse_count(argv[0], REVOKE_CRL_HOURS_MAX, &hours) != 0 ||
        revoke_set_crl_hours(&app->revoke, (unsigned)hours, &why) != 0) {
        cmd_refuse(app, con, "config crl-hours", why);
        return -1;
    }
    app_audit(app, "config crl-hours %lu", hours);
    console_printf(con, "crl-hours %lu: the next CRL is valid that long\n", hours);
    return 0;
}

/* ---- crl import, crl show ---- */

static void crl_pasted(struct app *app, struct console *con, const char *text, size_t len)
{
    /* On a licensing server the CRL from above is its root's; on a root, the authority's. */
    enum revoke_source src =
        app->enroll.cfg.role == ENROLL_ROLE_LICENSING ? REVOKE_FROM_ROOT : REVOKE_FROM_AUTHORITY;
    const char *why = "not a PEM CRL (-----BEGIN X509 CRL-----)";
    size_t n = 0;
    bool newer = false;
    x509_time now;

    if (x509_crl_pem_read(text, len, crl_der, sizeof(crl_der), &n) != 0) {
        cmd_refuse(app, con, "crl import", why);
        return;
    }
    why = "the clock is not set (time set)";
    if (!app_now(app, &now, NULL) ||
        revoke_accept_crl(&app->revoke, src, crl_der, n, &now, &newer, &why) != 0) {
        cmd_refuse(app, con, "crl import", why);
        return;
    }
    const struct revoke_held *h =
        src == REVOKE_FROM_ROOT ? &app->revoke.root : &app->revoke.authority;
    const char *from = src == REVOKE_FROM_ROOT ? "root" : "authority";
    if (!newer) {
        console_printf(con, "the %s's CRL number %llu is the one held; nothing changed\n", from,
                       (unsigned long long)h->crl.number);
        return;
    }
    app_audit(app, "crl import: the %s's CRL number %llu, %zu entries", from,
              (unsigned long long)h->crl.number, h->crl.count);
    console_printf(con, "the %s's CRL number %llu accepted: %zu entries, %zu excluded users\n",
                   from, (unsigned long long)h->crl.number, h->crl.count, h->crl.excluded_count);
    const char *block;
    if (app_now(app, &now, NULL) && revoke_blocks_serving(&app->revoke, &now, &block)) {
        app_audit(app, "serving stopped: %s", block);
        console_printf(con, "serving:   no: %s\n", block);
    }
}

static int cmd_crl_import(struct console *con, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (!cmd_logged_in(con, "crl import") || !loaded(con))
        return -1;
    return cmd_paste(con, "crl import", "CRL", "X509 CRL", crl_pasted);
}

/* The CRL as PEM, line by line: it may be far larger than one console line. */
static int print_crl_pem(struct console *con, const uint8_t *der, size_t len)
{
    static char pem[X509_CRL_DER_MAX / 3 * 4 + X509_CRL_DER_MAX / 48 + 128];
    size_t n = 0;

    if (x509_crl_pem_write(der, len, pem, sizeof(pem), &n) != 0) {
        console_error(con, "the CRL does not fit as PEM");
        return -1;
    }
    console_write(con, pem, n);
    return 0;
}

static void show_held(struct console *con, const char *from, const struct revoke_held *h)
{
    char this_u[CIVIL_ISO8601_LEN + 1], next_u[CIVIL_ISO8601_LEN + 1];

    if (!h->present) {
        console_printf(con, "%s CRL: none\n", from);
        return;
    }
    time_text(&h->crl.this_update, this_u);
    time_text(&h->crl.next_update, next_u);
    console_printf(con,
                   "%s CRL: number %llu, this update %s, next update %s, %zu entries, %zu "
                   "excluded users\n",
                   from, (unsigned long long)h->crl.number, this_u, next_u, h->crl.count,
                   h->crl.excluded_count);
}

static int cmd_crl_show(struct console *con, int argc, char **argv)
{
    struct app *app = app_of(con);
    const struct revoke *r = &app->revoke;
    char this_u[CIVIL_ISO8601_LEN + 1], next_u[CIVIL_ISO8601_LEN + 1];

    if (argc && strcmp(argv[0], "pem") != 0) {
        console_error(con, "usage: crl show [pem]");
        return -1;
    }
    if (!current(con))
        return -1;
    if (argc) {
        if (!r->crl_len) {
            console_error(con, "no CRL yet");
            return -1;
        }
        return print_crl_pem(con, r->crl_der, r->crl_len);
    }
    if (r->crl_len) {
        civil_format_iso8601(r->crl_this_update, this_u);
        civil_format_iso8601(r->crl_next_update, next_u);
        console_printf(con,
                       "own CRL: number %llu, this update %s, next update %s, %zu entries, %zu "
                       "excluded users, %zu bytes, signed here (SLC key)\n",
                       (unsigned long long)r->crl_number, this_u, next_u, r->crl_covers,
                       r->user_count, r->crl_len);
    } else {
        console_printf(con, "own CRL: none yet%s\n",
                       r->damaged ? " (the revocation records are damaged)" : "");
    }
    if (r->crl_retry_at) {
        civil_format_iso8601(r->crl_retry_at, next_u);
        console_printf(con, "signing failed (the token refused); tried again at %s\n", next_u);
    }
    console_printf(con, "crl-hours: %u\n", r->crl_hours);
    show_held(con, "authority", &r->authority);
    if (app->enroll.cfg.role == ENROLL_ROLE_LICENSING)
        show_held(con, "root", &r->root);
    return 0;
}

const struct console_cmd app_revoke_cmds[] = {
    {"revoke", "SERIAL [REASON]",
     "take back a certificate or license this cluster issued (REASON: keyCompromise, "
     "affiliationChanged, superseded, cessationOfOperation)",
     cmd_revoke, 1, 2, 0},
    {"revoke user", "NAME", "exclude a user (user@domain) from certification and licenses",
     cmd_revoke_user, 1, 1, 0},
    {"unrevoke user", "NAME", "let an excluded user in again", cmd_unrevoke_user, 1, 1, 0},
    {"revocations", "[N]", "the newest N revocations (20), then the excluded users",
     cmd_revocations, 0, 1, 0},
    {"config crl-hours", "N", "lifetime of the CRL this cluster signs, 1..744 hours", cmd_crl_hours,
     1, 1, 0},
    {"crl import", "", "paste a PEM CRL of the authority (licensing server: of its root)",
     cmd_crl_import, 0, 0, 0},
    {"crl show", "[pem]", "the CRL signed here and those held from above; pem: the CRL signed here",
     cmd_crl_show, 0, 1, 0},
};
const unsigned app_revoke_cmd_count = sizeof(app_revoke_cmds) / sizeof(app_revoke_cmds[0]);
