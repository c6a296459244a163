/*
 * Console commands for the trust hierarchy (README.md, "Enrolling the appliance"): config, trust
 * import, enroll, renew, slc, audit. Documents travel armored (crypto/doc); a pasted block is read
 * line by line into one bounded buffer until its END line.
 */
#include "cmd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "crypto/sha256.h"
#include "firmware/app/version.h"
#include "lib/civil_time.h"
#include "hal/clock.h"
#include "mbedtls/pk.h"

#if SIGNET_HAS_NET
#include "net/http_client.h"
#endif

/* One document at a time passes through these: the console runs one command at a time. */
static char xml[DOC_XML_MAX + 1];
static char armored[APP_ARMOR_MAX];
static uint8_t der[DOC_CERT_MAX];

static const char label_request[] = "SIGNET ENROLLMENT REQUEST";
static const char label_renewal[] = "SIGNET RENEWAL REQUEST";
static const char label_response[] = "SIGNET ENROLLMENT RESPONSE";

/* What waits for the operator's "yes" (console_read_line): a rename, or a checked response. */
static char pending_name[DOC_NAME_MAX + 1];
static const char *pending_what;
static struct x509_info pending_info;

static struct app *app_of(struct console *con)
{
    return con->user;
}

/* The RAM copy of the token's state, read after login; commands that need it say so. */
static bool need_loaded(struct console *con)
{
    struct app *app = app_of(con);
    const char *why;

    if (app->enroll.loaded)
        return true;
    if (app_load_state(app, &why) == 0)
        return true;
    console_error(con, "%s", why);
    return false;
}

/* ---- config ---- */

static bool is_yes(const char *line, size_t len)
{
    return line && len == 3 && memcmp(line, "yes", 3) == 0;
}

static void rename_confirmed(struct console *con, const char *line, size_t len, void *ctx)
{
    struct app *app = ctx;
    const char *why;

    if (!is_yes(line, len)) {
        console_puts(con, "nothing changed\n");
        app_audit(app, "config name %s: not confirmed; nothing changed", pending_name);
        return;
    }
    if (enroll_set_name(&app->enroll, pending_name, &why) != 0) {
        console_error(con, "%s; nothing changed", why);
        app_audit(app, "config name %s: refused: %s", pending_name, why);
        return;
    }
    app_audit(app, "config name %s (confirmed; the SLC in force names %s until renewal)",
              pending_name, app->enroll.info.cn);
    console_printf(con, "server name: %s (the next renewal carries it)\n", pending_name);
}

static int cmd_config_name(struct console *con, int argc, char **argv)
{
    struct app *app = app_of(con);
    const char *why;

    (void)argc;
    if (!need_loaded(con))
        return -1;
    size_t n = strlen(argv[0]);
    if (enroll_check_name(argv[0], &why) != 0) {
        console_error(con, "%s; nothing changed", why);
        app_audit(app, "config name: refused: %s", why);
        return -1;
    }
    /* The SLC in force names the server: a new name reaches it only with the next renewal, and
     * until then requests and the SLC disagree. The operator says so knowingly. */
    if (app->enroll.slc.slc_len && strcmp(argv[0], app->enroll.info.cn) != 0 &&
        strcmp(argv[0], app->enroll.cfg.name) != 0) {
        memcpy(pending_name, argv[0], n + 1);
        console_printf(con,
                       "the installed SLC names this server '%s'; a renewal will carry the new "
                       "name '%s'. Rename it anyway? type yes:\n",
                       app->enroll.info.cn, pending_name);
        return console_read_line(con, "", 0, rename_confirmed, app);
    }
    if (enroll_set_name(&app->enroll, argv[0], &why) != 0) {
        console_error(con, "%s; nothing changed", why);
        app_audit(app, "config name: refused: %s", why);
        return -1;
    }
    app_audit(app, "config name %s", argv[0]);
    console_printf(con, "server name: %s\n", argv[0]);
    return 0;
}

static int cmd_config_url(struct console *con, int argc, char **argv)
{
    struct app *app = app_of(con);
    const char *why;

    (void)argc;
    if (!need_loaded(con))
        return -1;
    if (enroll_set_cluster_url(&app->enroll, argv[0], &why) != 0) {
        console_error(con, "%s; nothing changed", why);
        app_audit(app, "config cluster-url: refused: %s", why);
        return -1;
    }
    app_audit(app, "config cluster-url %s", argv[0]);
    console_printf(con, "cluster URL: %s\n", argv[0]);
    return 0;
}

static void revoker_pasted(struct app *app, struct console *con, const char *text, size_t len)
{
    size_t n = 0;
    const char *why;
    mbedtls_pk_context pk;

    if (doc_unarmor(text, len, "PUBLIC KEY", der, sizeof(der), &n, &why) != 0) {
        console_error(con, "%s; nothing changed", why);
        app_audit(app, "config revocation custom: refused: %s", why);
        return;
    }
    mbedtls_pk_init(&pk);
    int bad = mbedtls_pk_parse_public_key(&pk, der, n);
    mbedtls_pk_free(&pk);
    if (bad) {
        console_error(con, "not a public key; nothing changed");
        app_audit(app, "config revocation custom: refused: not a public key");
        return;
    }
    if (enroll_set_revocation(&app->enroll, DOC_REVOCATION_CUSTOM, der, n, &why) != 0) {
        console_error(con, "%s; nothing changed", why);
        app_audit(app, "config revocation custom: refused: %s", why);
        return;
    }
    app_audit(app, "config revocation custom");
    console_puts(con, "revocation: custom (third-party key stored)\n");
}

static int cmd_config_revocation(struct console *con, int argc, char **argv)
{
    struct app *app = app_of(con);
    const char *why;

    (void)argc;
    if (!need_loaded(con))
        return -1;
    if (strcmp(argv[0], "custom") == 0 && app->enroll.cfg.role == ENROLL_ROLE_LICENSING) {
        why = "a licensing server sets no revocation policy: its root's applies";
        console_error(con, "%s; nothing changed", why);
        app_audit(app, "config revocation: refused: %s", why);
        return -1;
    }
    if (strcmp(argv[0], "custom") == 0)
        return cmd_paste(con, "config revocation", "revoking party's public key", "PUBLIC KEY",
                         revoker_pasted);
    if (strcmp(argv[0], "standard") != 0) {
        console_error(con, "revocation is 'standard' or 'custom'; nothing changed");
        app_audit(app, "config revocation: refused: neither standard nor custom");
        return -1;
    }
    if (enroll_set_revocation(&app->enroll, DOC_REVOCATION_STANDARD, NULL, 0, &why) != 0) {
        console_error(con, "%s; nothing changed", why);
        app_audit(app, "config revocation: refused: %s", why);
        return -1;
    }
    app_audit(app, "config revocation standard");
    console_puts(con, "revocation: standard\n");
    return 0;
}

static int cmd_config_show(struct console *con, int argc, char **argv)
{
    struct app *app = app_of(con);
    const struct enroll_config *c = &app->enroll.cfg;

    (void)argc;
    (void)argv;
    if (!need_loaded(con))
        return -1;
    console_printf(con, "role:        %s\n", c->role == ENROLL_ROLE_ROOT ? "root" : "licensing");
    console_printf(con, "name:        %s\n", c->name[0] ? c->name : "(not set)");
    console_printf(con, "cluster URL: %s\n", c->cluster_url[0] ? c->cluster_url : "(not set)");
    /* A licensing server's requests carry its setting, but the root's policy is what applies. */
    if (c->role == ENROLL_ROLE_LICENSING)
        console_puts(con, "revocation:  the root cluster's\n");
    else
        console_printf(con, "revocation:  %s\n",
                       c->revocation == DOC_REVOCATION_CUSTOM ? "custom" : "standard");
    if (c->role == ENROLL_ROLE_LICENSING)
        console_printf(con, "root URL:    %s\n", c->root_url[0] ? c->root_url : "(not set)");
    console_printf(con, "authority:   %s\n",
                   app->enroll.anchor_len ? "root imported" : "(none: trust import)");
    console_printf(con, "auto-login:  %s\n", app->auto_login ? "on" : "off");
    return 0;
}

/* ---- trust ---- */

static void anchor_pasted(struct app *app, struct console *con, const char *text, size_t len)
{
    size_t n = 0;
    const char *why;
    x509_time now;

    if (doc_unarmor(text, len, "CERTIFICATE", der, sizeof(der), &n, &why) != 0 ||
        !app_now(app, &now, NULL) || enroll_trust(&app->enroll, der, n, &now, &why) != 0) {
        console_error(con, "%s; nothing changed", why);
        app_audit(app, "trust import: refused: %s", why);
        return;
    }
    struct x509_info info;
    uint8_t digest[SHA256_LEN];
    char fp[APP_FP_TEXT_LEN + 1];
    (void)x509_read(der, n, &info, &why);
    sha256(der, n, digest);
    app_format_fingerprint(digest, fp);
    app_audit(app, "trust import: authority root '%s', SHA-256 %s", info.cn, fp);
    console_printf(con, "authority root trusted: %s\n", info.cn);
    /* The operator compares it with what the authority's operator reads out (openssl x509
     * -fingerprint -sha256 prints it the same way). */
    console_printf(con, "sha256 Fingerprint=%s\n", fp);
}

static int cmd_trust_import(struct console *con, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (!need_loaded(con))
        return -1;
    return cmd_paste(con, "trust import", "authority root certificate", "CERTIFICATE",
                     anchor_pasted);
}

/* ---- requests out ---- */

static int export_request(struct console *con, enum doc_request_kind kind)
{
    struct app *app = app_of(con);
    const char *why, *label = kind == DOC_RENEWAL ? label_renewal : label_request;
    const char *what = kind == DOC_RENEWAL ? "renew export" : "enroll export";
    size_t len = 0, alen = 0;

    if (!need_loaded(con))
        return -1;
    why = "the request does not fit its armor";
    /* Built and armored before anything is recorded: a refusal leaves the state as it was. */
    if (enroll_request(&app->enroll, kind, xml, sizeof(xml), &len, &why) != 0 ||
        doc_armor(label, (const uint8_t *)xml, len, armored, sizeof(armored), &alen) != 0 ||
        enroll_request_record(&app->enroll, kind, &why) != 0) {
        console_error(con, "%s; nothing changed", why);
        app_audit(app, "%s: refused: %s", what, why);
        return -1;
    }
    console_puts(con, armored);
    /* The block is armored text, not XML; where it goes depends on the role. */
    const char *name = app->enroll.cfg.name, *doc = kind == DOC_RENEWAL ? "Renewal" : "Enrollment";
    const char *import = kind == DOC_RENEWAL ? "renew import" : "enroll import";
    if (app->enroll.cfg.role == ENROLL_ROLE_LICENSING)
        console_printf(con,
                       "Save the block above as %s%sRequest.txt and paste it into `subenroll` on "
                       "the root; paste the root's answer into `%s` here.\n",
                       name, doc, import);
    else
        console_printf(con,
                       "Save the block above as %s%sRequest.txt and take it to the enrollment "
                       "authority: `signet-authority issue --in %s%sRequest.txt --out "
                       "%s%sResponse.txt --armor` answers it; paste the answer into `%s` here.\n",
                       name, doc, name, doc, name, doc, import);
    app_audit(app, "%s: request for '%s'", what, app->enroll.cfg.name);
    return 0;
}

static int cmd_enroll_export(struct console *con, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return export_request(con, DOC_ENROLLMENT);
}

static int cmd_renew_export(struct console *con, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return export_request(con, DOC_RENEWAL);
}

/* ---- responses in ---- */

static void print_expiry(struct console *con, struct app *app, const char *lead)
{
    x509_time now;
    const x509_time *t = &app->enroll.info.not_after;

    if (!app_now(app, &now, NULL))
        return;
    if (!enroll_slc_current(&app->enroll)) {
        console_printf(con, "%s%04d-%02d-%02dT%02d:%02d:%02dZ (for a replaced key: enroll again)\n",
                       lead, t->year, t->mon, t->day, t->hour, t->min, t->sec);
        return;
    }
    console_printf(con, "%s%04d-%02d-%02dT%02d:%02d:%02dZ (%ld days left)\n", lead, t->year, t->mon,
                   t->day, t->hour, t->min, t->sec, enroll_days_left(&app->enroll, &now));
}

static void serial_text(const struct x509_info *i, char out[2 * sizeof(i->serial) + 1])
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = i->serial_len < sizeof(i->serial) ? i->serial_len : sizeof(i->serial);

    for (size_t k = 0; k < n; k++) {
        out[2 * k] = hex[i->serial[k] >> 4];
        out[2 * k + 1] = hex[i->serial[k] & 15];
    }
    out[2 * n] = '\0';
}

static long lifetime_days(const struct x509_info *i)
{
    char a[21], b[21];
    int64_t from, to;

    enroll_time_text(&i->not_before, a);
    enroll_time_text(&i->not_after, b);
    if (civil_parse_iso8601(a, strlen(a), &from) != 0 ||
        civil_parse_iso8601(b, strlen(b), &to) != 0)
        return 0;
    return (long)((to - from) / 86400);
}

/* Install the response enroll_check passed; old is the SLC it replaces (NULL: none). True once
 * it is in force. */
static bool install_checked(struct app *app, struct console *con, const char *what,
                            const struct x509_info *old)
{
    bool renewed = false;
    const char *why;

    if (enroll_install(&app->enroll, &renewed, &why) != 0) {
        console_error(con, "%s; nothing changed", why);
        app_audit(app, "%s: refused: %s", what, why);
        return false;
    }
    console_printf(con, "%s: SLC %s for '%s'\n", what, renewed ? "renewed" : "installed",
                   app->enroll.info.cn);
    print_expiry(con, app, "valid until ");
    char until[21];
    enroll_time_text(&app->enroll.info.not_after, until);
    /* A renewal may come back with another lifetime than the SLC had (the authority's policy):
     * the operator hears of it rather than finding out at the next expiry. */
    long was = old ? lifetime_days(old) : 0, now_days = lifetime_days(&app->enroll.info);
    if (old && was != now_days) {
        char old_until[21];
        enroll_time_text(&old->not_after, old_until);
        console_printf(con,
                       "note: the new SLC is valid for %ld days, until %.10s; the one it "
                       "replaced was valid for %ld days, until %.10s\n",
                       now_days, until, was, old_until);
    }
    app_audit(app, "%s: SLC %s, valid until %.10s (%ld days)", what,
              renewed ? "renewed" : "installed", until, now_days);
    app->expiry_warned_day = -1; /* a new SLC: judge it afresh */
    app_check_expiry(app);
    return true;
}

static struct x509_info in_force; /* the SLC a response would replace, while it is asked about */

static void rollback_confirmed(struct console *con, const char *line, size_t len, void *ctx)
{
    struct app *app = ctx;

    if (!is_yes(line, len)) {
        console_puts(con, "nothing changed\n");
        app_audit(app, "%s: an older SLC, not confirmed; nothing changed", pending_what);
        return;
    }
    app_audit(app, "%s: an older SLC, confirmed by the operator", pending_what);
    (void)install_checked(app, con, pending_what, &in_force);
}

/*
 * Check a response document and install it; what is printed and audited either way. An SLC
 * issued before the one in force (a stale response pasted again) would roll the server back:
 * at the console the operator is asked (ask), otherwise it is refused. True when it was installed
 * here and now (not when it waits for the operator).
 */
static bool accept_response(struct app *app, struct console *con, const char *what, const char *doc,
                            size_t len, bool ask)
{
    x509_time now;
    const char *why = "the clock is not readable";

    if (!app_now(app, &now, NULL) ||
        enroll_check(&app->enroll, doc, len, &now, &pending_info, &why) != 0) {
        console_error(con, "%s; nothing changed", why);
        app_audit(app, "%s: refused: %s", what, why);
        return false;
    }
    bool replaces = app->enroll.slc.slc_len != 0;
    if (replaces)
        in_force = app->enroll.info;
    if (!enroll_older_than_in_force(&app->enroll, &pending_info))
        return install_checked(app, con, what, replaces ? &in_force : NULL);
    char new_serial[41], old_serial[41], new_nb[21], old_nb[21];
    serial_text(&pending_info, new_serial);
    serial_text(&in_force, old_serial);
    enroll_time_text(&pending_info.not_before, new_nb);
    enroll_time_text(&in_force.not_before, old_nb);
    if (!ask) {
        console_error(con,
                      "the response's SLC (serial %s, issued %s) is older than the one in force "
                      "(serial %s, issued %s); nothing changed",
                      new_serial, new_nb, old_serial, old_nb);
        app_audit(app, "%s: refused: an older SLC (serial %s, issued %s) than in force (%s)", what,
                  new_serial, new_nb, old_serial);
        return false;
    }
    pending_what = what;
    console_printf(con,
                   "the response's SLC (serial %s, issued %s) is older than the one in force "
                   "(serial %s, issued %s); install it anyway? type yes:\n",
                   new_serial, new_nb, old_serial, old_nb);
    (void)console_read_line(con, "", 0, rollback_confirmed, app);
    return false;
}

static void response_pasted(struct app *app, struct console *con, const char *text, size_t len)
{
    size_t n = 0;
    const char *why;
    const char *what = app->paste.cmd;

    if (doc_unarmor(text, len, label_response, (uint8_t *)xml, sizeof(xml) - 1, &n, &why) != 0) {
        console_error(con, "%s; nothing changed", why);
        app_audit(app, "%s: refused: %s", what, why);
        return;
    }
    (void)accept_response(app, con, what, xml, n, true);
}

static int import_response(struct console *con, bool renewal)
{
    if (!need_loaded(con))
        return -1;
    return cmd_paste(con, renewal ? "renew import" : "enroll import", "enrollment response",
                     label_response, response_pasted);
}

static int cmd_enroll_import(struct console *con, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return import_response(con, false);
}

static int cmd_renew_import(struct console *con, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return import_response(con, true);
}

/* ---- online ---- */

#if SIGNET_HAS_NET
static char online_url[DOC_URL_MAX + 1];

static void online_done(void *ctx, int status, const char *body, size_t len, const char *why)
{
    struct app *app = ctx;
    struct console *con = &app->con;
    const char *what = app->online_renewal ? "renew online" : "enroll online";

    if (status == 200) {
        bool licensing = app->enroll.cfg.role == ENROLL_ROLE_LICENSING;
        bool ok = accept_response(app, con, what, body, len, false);
        /* Enrolled through this root: it is also where certification requests go. */
        if (ok && licensing && strcmp(online_url, app->enroll.cfg.root_url) != 0) {
            const char *why_url;
            if (enroll_set_root_url(&app->enroll, online_url, &why_url) == 0)
                app_audit(app, "config root-url %s (%s)", online_url, what);
            else
                console_error(con, "the root URL was not stored: %s", why_url);
        }
        /* Then the CRL of whoever answered (crl_fetch.c), the console held until it is in. */
        const char *why_crl;
        if (ok && cmd_crl_fetch_told(con, licensing ? REVOKE_FROM_ROOT : REVOKE_FROM_AUTHORITY,
                                     online_url, what, &why_crl) == 0)
            return;
        if (ok)
            console_printf(con, "warning: the CRL was not fetched: %s\n", why_crl);
    } else if (status) {
        /* The authority's refusal is one line of text: show it, bounded and on one line. */
        char reason[120];
        size_t n = 0;
        for (; n < len && n < sizeof(reason) - 1 && body[n] != '\n' && body[n] != '\r'; n++)
            reason[n] = (body[n] >= 0x20 && body[n] < 0x7f) ? body[n] : '?';
        reason[n] = '\0';
        console_error(con, "%s refused (%d): %s",
                      app->enroll.cfg.role == ENROLL_ROLE_LICENSING ? "the root" : "the authority",
                      status, reason);
        app_audit(app, "%s: refused by the authority (%d): %s", what, status, reason);
    } else {
        console_error(con, "%s; nothing changed", why);
        app_audit(app, "%s: failed: %s", what, why);
    }
    console_release(con);
}

/*
 * Nothing is written before the answer is in: the URL, the request and the post are checked
 * first, and an online request is answered within the command, so no "request out" state is
 * recorded for it. A refusal, a failure or the authority's "no" all leave the state as it was.
 */
static int online(struct console *con, enum doc_request_kind kind, const char *url)
{
    struct app *app = app_of(con);
    const char *why, *what = kind == DOC_RENEWAL ? "renew online" : "enroll online";
    size_t len = 0;

    if (!need_loaded(con))
        return -1;
    /* A licensing server enrolls with its root cluster (requirements R8), which it then also
     * forwards certification requests to: the URL is remembered once the root has answered. */
    bool licensing = app->enroll.cfg.role == ENROLL_ROLE_LICENSING;
    why = "the URL is longer than 256 characters";
    if (strlen(url) > DOC_URL_MAX || (licensing && enroll_check_root_url(url, &why) != 0) ||
        enroll_request(&app->enroll, kind, xml, sizeof(xml), &len, &why) != 0 ||
        http_client_post(url, licensing ? "/v1/subenroll" : "/v1/enroll", "application/xml", xml,
                         len, online_done, app, &why) != 0) {
        console_error(con, "%s; nothing changed", why);
        app_audit(app, "%s: refused: %s", what, why);
        return -1;
    }
    memcpy(online_url, url, strlen(url) + 1);
    app->online_renewal = kind == DOC_RENEWAL;
    console_printf(con, "sent the %s request to %s; waiting for the answer...\n",
                   kind == DOC_RENEWAL ? "renewal" : "enrollment", url);
    console_hold(con);
    return 0;
}

static int cmd_enroll_online(struct console *con, int argc, char **argv)
{
    (void)argc;
    return online(con, DOC_ENROLLMENT, argv[0]);
}

static int cmd_renew_online(struct console *con, int argc, char **argv)
{
    (void)argc;
    return online(con, DOC_RENEWAL, argv[0]);
}
#endif

/* ---- slc, audit ---- */

static const char *const right_names[4] = {"sub-enroll", "certify", "issue-use-licenses",
                                           "issue-publishing-licenses"};

static int cmd_slc_show(struct console *con, int argc, char **argv)
{
    struct app *app = app_of(con);
    const struct x509_info *i = &app->enroll.info;
    x509_time now;

    (void)argc;
    (void)argv;
    if (!need_loaded(con) || !app_now(app, &now, NULL))
        return -1;
    console_printf(con, "state:      %s\n", enroll_state_name(enroll_state(&app->enroll, &now)));
    if (!app->enroll.slc.slc_len) {
        console_puts(con, "SLC:        none installed\n");
        return 0;
    }
    console_printf(con, "subject:    CN=%s\n", i->cn);
    console_puts(con, "serial:     ");
    for (size_t k = 0; k < i->serial_len; k++)
        console_printf(con, "%02X", i->serial[k]);
    console_puts(con, "\n");
    char nb[21];
    enroll_time_text(&i->not_before, nb);
    console_printf(con, "notBefore:  %s\n", nb);
    print_expiry(con, app, "notAfter:   ");
    console_puts(con, "rights:    ");
    for (int r = 0; r < 4; r++)
        if (i->rights & (1u << r))
            console_printf(con, " %s", right_names[r]);
    console_puts(con, "\n");
    console_printf(con, "cluster:    %s\n", i->cluster_url);
    return 0;
}

static int cmd_slc_export(struct console *con, int argc, char **argv)
{
    struct app *app = app_of(con);
    const struct doc_response *s = &app->enroll.slc;

    (void)argc;
    (void)argv;
    if (!need_loaded(con))
        return -1;
    if (!s->slc_len) {
        console_error(con, "no SLC installed");
        return -1;
    }
    cmd_print_pem(con, s->slc, s->slc_len);
    for (size_t k = 0; k < s->chain_count; k++)
        cmd_print_pem(con, s->chain[k], s->chain_len[k]);
    return 0;
}

const struct console_cmd app_enroll_cmds[] = {
    {"config name", "NAME", "this server's name (requests, SLC subject)", cmd_config_name, 1, 1,
     CONSOLE_NEEDS_LOGIN},
    {"config cluster-url", "URL", "the cluster's base URL", cmd_config_url, 1, 1,
     CONSOLE_NEEDS_LOGIN},
    {"config revocation", "standard|custom", "revocation; custom asks for the party's key",
     cmd_config_revocation, 1, 1, CONSOLE_NEEDS_LOGIN},
    {"config show", "", "the configuration kept in the token", cmd_config_show, 0, 0,
     CONSOLE_NEEDS_LOGIN},
    {"trust import", "", "paste the enrollment authority's root certificate (PEM)",
     cmd_trust_import, 0, 0, CONSOLE_NEEDS_LOGIN},
    {"enroll export", "", "print an enrollment request to carry to the authority",
     cmd_enroll_export, 0, 0, CONSOLE_NEEDS_LOGIN},
    {"enroll import", "", "paste the authority's response; install the SLC", cmd_enroll_import, 0,
     0, CONSOLE_NEEDS_LOGIN},
#if SIGNET_HAS_NET
    {"enroll online", "URL", "enroll with the authority (or root) at http[s]://HOST[:PORT]",
     cmd_enroll_online, 1, 1, CONSOLE_NEEDS_LOGIN},
    {"renew online", "URL", "renew the SLC with the authority at URL", cmd_renew_online, 1, 1,
     CONSOLE_NEEDS_LOGIN},
#endif
    {"renew export", "", "print a renewal request (<server>RenewalRequest.txt)", cmd_renew_export,
     0, 0, CONSOLE_NEEDS_LOGIN},
    {"renew import", "", "paste the renewal response; install the new SLC", cmd_renew_import, 0, 0,
     CONSOLE_NEEDS_LOGIN},
    {"slc show", "", "the installed SLC: subject, serial, validity, days left", cmd_slc_show, 0, 0,
     CONSOLE_NEEDS_LOGIN},
    {"slc export", "", "the SLC and its chain as PEM", cmd_slc_export, 0, 0, CONSOLE_NEEDS_LOGIN},
};
const unsigned app_enroll_cmd_count = sizeof(app_enroll_cmds) / sizeof(app_enroll_cmds[0]);
