/*
 * Console commands for identity sources (docs/requirements.md R16, README.md): the user CAs whose
 * certificates prove who a user is, each with the name domains it vouches for. Changing them
 * needs the login; every change and every refusal is audited.
 */
#include "cmd.h"

#include <errno.h>
#include <string.h>

static uint8_t der[DOC_CERT_MAX];
/* The domains of the import waiting for its paste; checked before the paste is asked for. */
static char pending_domains[CONSOLE_LINE_MAX + 1];

static struct app *app_of(struct console *con)
{
    return con->user;
}

/* The sources as the token holds them now (read at login, refreshed with the state). */
static bool loaded(struct console *con)
{
    struct app *app = app_of(con);
    const char *why;

    if (app->identity.loaded)
        return true;
    int ret = app_load_state(app, &why);
    if (app->identity.loaded)
        return true;
    console_error(con, "%s", ret ? why : "could not read the identity sources from the token");
    return false;
}

static void domains_text(const struct identity_source *s, char *out, size_t cap)
{
    size_t len = 0;

    out[0] = '\0';
    for (size_t i = 0; i < s->domain_count && len + 1 < cap; i++) {
        size_t n = strlen(s->domains[i]);
        if (len + (i ? 1 : 0) + n >= cap)
            break;
        if (i)
            out[len++] = ',';
        memcpy(out + len, s->domains[i], n + 1);
        len += n;
    }
}

#define DOMAINS_TEXT_MAX (IDENTITY_DOMAINS_MAX * (IDENTITY_DOMAIN_MAX + 1))

/* ---- import ---- */

static const struct identity_source *find(const struct identity *ids, const uint8_t *fp)
{
    for (size_t i = 0; i < ids->count; i++)
        if (memcmp(ids->sources[i].fp, fp, X509_FP_LEN) == 0)
            return &ids->sources[i];
    return NULL;
}

static void ca_pasted(struct app *app, struct console *con, const char *text, size_t len)
{
    size_t n = 0;
    const char *why = "the clock is not set (time set)";
    x509_time now;
    uint8_t fp[X509_FP_LEN];
    char fp_text[APP_FP_TEXT_LEN + 1], domains[DOMAINS_TEXT_MAX + 1];

    if (doc_unarmor(text, len, "CERTIFICATE", der, sizeof(der), &n, &why) != 0 ||
        !app_now(app, &now, NULL) ||
        identity_import(&app->identity, der, n, pending_domains, &now, &why) != 0) {
        cmd_refuse(app, con, "identity import", why);
        return;
    }
    char subject[X509_SUBJECT_TEXT_MAX + 1];
    (void)x509_user_describe(der, n, subject, sizeof(subject), fp);
    const struct identity_source *s = find(&app->identity, fp);
    if (!s) /* cannot happen: the import just stored it */
        return;
    app_format_fingerprint(s->fp, fp_text);
    domains_text(s, domains, sizeof(domains));
    app_audit(app, "identity import %s '%s' %s", fp_text, s->subject, domains);
    console_printf(con, "identity source trusted: %s (%s)\n", s->subject, domains);
    console_printf(con, "fingerprint: %s\n", fp_text);
}

static int cmd_identity_import(struct console *con, int argc, char **argv)
{
    struct app *app = app_of(con);
    char d[IDENTITY_DOMAINS_MAX][IDENTITY_DOMAIN_MAX + 1];
    size_t count;
    const char *why;

    if (!cmd_logged_in(con, "identity import") || !loaded(con))
        return -1;
    /* The domains are refused before anything is pasted: a paste then has nothing to wait for. */
    if (identity_parse_domains(argc ? argv[0] : "", d, &count, &why) != 0) {
        cmd_refuse(app, con, "identity import", why);
        return -1;
    }
    memcpy(pending_domains, argv[0], strlen(argv[0]) + 1);
    return cmd_paste(con, "identity import", "user CA certificate", "CERTIFICATE", ca_pasted);
}

/* ---- list, remove ---- */

static void print_source(struct console *con, const struct identity_source *s)
{
    char fp[APP_FP_TEXT_LEN + 1], domains[DOMAINS_TEXT_MAX + 1];

    app_format_fingerprint(s->fp, fp);
    domains_text(s, domains, sizeof(domains));
    console_printf(con, "%s  %s  %s  until %04d-%02d-%02d\n", fp, s->subject, domains,
                   s->not_after.year, s->not_after.mon, s->not_after.day);
}

static int cmd_identity_list(struct console *con, int argc, char **argv)
{
    struct app *app = app_of(con);

    (void)argc;
    (void)argv;
    if (!loaded(con))
        return -1;
    if (app->identity.damaged)
        console_puts(con, "(the stored identity sources are damaged: no user is trusted; "
                          "identity import rewrites them)\n");
    else if (!app->identity.count)
        console_puts(con, "(no identity source is trusted: user endpoints answer 403)\n");
    for (size_t i = 0; i < app->identity.count; i++)
        print_source(con, &app->identity.sources[i]);
    return 0;
}

static int cmd_identity_remove(struct console *con, int argc, char **argv)
{
    struct app *app = app_of(con);
    uint8_t fp[X509_FP_LEN];
    char fp_text[APP_FP_TEXT_LEN + 1], subject[X509_SUBJECT_TEXT_MAX + 1];
    const char *why;

    (void)argc;
    if (!cmd_logged_in(con, "identity remove") || !loaded(con))
        return -1;
    if (acl_parse_fingerprint(argv[0], fp) != 0) {
        cmd_refuse(app, con, "identity remove",
                   "a fingerprint is 32 bytes in hex, AB:CD:... (as identity list shows)");
        return -1;
    }
    const struct identity_source *s = find(&app->identity, fp);
    memcpy(subject, s ? s->subject : "", s ? strlen(s->subject) + 1 : 1);
    if (identity_remove(&app->identity, fp, &why) != 0) {
        cmd_refuse(app, con, "identity remove", why);
        return -1;
    }
    app_format_fingerprint(fp, fp_text);
    app_audit(app, "identity remove %s '%s'", fp_text, subject);
    console_printf(con, "identity source removed: %s\n", subject);
    return 0;
}

const struct console_cmd app_identity_cmds[] = {
    {"identity import", "DOMAINS", "trust a user CA for these domains (a,b); paste its PEM (login)",
     cmd_identity_import, 0, 1, 0},
    {"identity list", "", "the trusted user CAs: fingerprint, subject, domains, expiry",
     cmd_identity_list, 0, 0, CONSOLE_NEEDS_LOGIN},
    {"identity remove", "FP", "stop trusting a user CA (by fingerprint) (login)",
     cmd_identity_remove, 1, 1, 0},
};
const unsigned app_identity_cmd_count = sizeof(app_identity_cmds) / sizeof(app_identity_cmds[0]);
