/*
 * Console commands of the signing service (README.md, "Licensing servers"): the sub-enrollment ACL,
 * the server's role, a licensing server's root, offline sub-enrollment on a root, and the
 * content-key encryption certificate. Every change is audited.
 */
#include "cmd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static struct app *app_of(struct console *con)
{
    return con->user;
}

static bool loaded(struct console *con)
{
    struct app *app = app_of(con);
    const char *why;

    if (app->enroll.loaded && app->acl.loaded)
        return true;
    if (app_load_state(app, &why) == 0 && app->acl.loaded)
        return true;
    console_error(con, "%s", why);
    return false;
}

/* ---- acl ---- */

static int cmd_acl_list(struct console *con, int argc, char **argv)
{
    struct app *app = app_of(con);
    char fp[APP_FP_TEXT_LEN + 1];

    (void)argc;
    (void)argv;
    if (!loaded(con))
        return -1;
    if (!app->acl.count) {
        console_puts(con, "(nobody is granted sub-enrollment)\n");
        return 0;
    }
    for (size_t i = 0; i < app->acl.count; i++) {
        const struct acl_entry *e = &app->acl.entries[i];
        char prefix[2 * ACL_PREFIX_LEN + 1];
        for (size_t k = 0; k < ACL_PREFIX_LEN; k++)
            snprintf(prefix + 2 * k, 3, "%02x", e->prefix[k]);
        app_format_fingerprint(e->fp, fp);
        /* How its certificates' serials start: `revoke SERIAL` of any of them takes it back. */
        console_printf(con, "%s  %s  serial prefix %s\n", fp, e->name, prefix);
    }
    return 0;
}

static int parse_fp(struct console *con, const char *text, uint8_t fp[ACL_FP_LEN])
{
    if (acl_parse_fingerprint(text, fp) == 0)
        return 0;
    console_error(con, "a fingerprint is 32 bytes in hex, AB:CD:... (as `tls fingerprint` shows)");
    return -1;
}

static int cmd_acl_grant(struct console *con, int argc, char **argv)
{
    struct app *app = app_of(con);
    uint8_t fp[ACL_FP_LEN];
    char text[APP_FP_TEXT_LEN + 1];
    const char *why;

    (void)argc;
    if (!loaded(con) || parse_fp(con, argv[0], fp) != 0)
        return -1;
    if (acl_grant(&app->acl, fp, argv[1], &why) != 0) {
        console_error(con, "%s; nothing changed", why);
        app_audit(app, "acl grant: refused: %s", why);
        return -1;
    }
    app_format_fingerprint(fp, text);
    app_audit(app, "acl grant %s %s", text, argv[1]);
    console_printf(con, "granted sub-enrollment to %s\n", argv[1]);
    return 0;
}

static int cmd_acl_revoke(struct console *con, int argc, char **argv)
{
    struct app *app = app_of(con);
    uint8_t fp[ACL_FP_LEN];
    char text[APP_FP_TEXT_LEN + 1];
    const char *why;

    (void)argc;
    if (!loaded(con) || parse_fp(con, argv[0], fp) != 0)
        return -1;
    if (acl_revoke(&app->acl, fp, &why) != 0) {
        console_error(con, "%s; nothing changed", why);
        app_audit(app, "acl revoke: refused: %s", why);
        return -1;
    }
    app_format_fingerprint(fp, text);
    app_audit(app, "acl revoke %s", text);
    console_puts(con, "revoked\n");
    return 0;
}

/* ---- role ---- */

static int cmd_config_role(struct console *con, int argc, char **argv)
{
    struct app *app = app_of(con);
    const char *why;
    enum enroll_role role;

    (void)argc;
    if (!loaded(con))
        return -1;
    if (strcmp(argv[0], "root") == 0) {
        role = ENROLL_ROLE_ROOT;
    } else if (strcmp(argv[0], "licensing") == 0) {
        role = ENROLL_ROLE_LICENSING;
    } else {
        console_error(con, "role is 'root' or 'licensing'; nothing changed");
        app_audit(app, "config role: refused: neither root nor licensing");
        return -1;
    }
    if (enroll_set_role(&app->enroll, role, &why) != 0) {
        console_error(con, "%s; nothing changed", why);
        app_audit(app, "config role %s: refused: %s", argv[0], why);
        return -1;
    }
    app_audit(app, "config role %s", argv[0]);
    console_printf(con, "role: %s\n", argv[0]);
    if (role == ENROLL_ROLE_LICENSING)
        console_puts(con, "Sub-enroll with `enroll online https://ROOT` once the root has granted "
                          "this server's `tls fingerprint`.\n");
    return 0;
}

static int cmd_config_root_url(struct console *con, int argc, char **argv)
{
    struct app *app = app_of(con);
    const char *why;

    (void)argc;
    if (!loaded(con))
        return -1;
    why = "only a licensing server has a root (config role licensing)";
    if (app->enroll.cfg.role != ENROLL_ROLE_LICENSING ||
        enroll_set_root_url(&app->enroll, argv[0], &why) != 0) {
        console_error(con, "%s; nothing changed", why);
        app_audit(app, "config root-url: refused: %s", why);
        return -1;
    }
    app_audit(app, "config root-url %s", argv[0]);
    console_printf(con, "root URL: %s\n", argv[0]);
    return 0;
}

/* ---- offline sub-enrollment (on a root) ---- */

static char xml[DOC_XML_MAX + 1];
static char answer[DOC_XML_MAX + 1];
static char armored[APP_ARMOR_MAX];

/* A licensing server's first request or its renewal: either armor, the document says which. */
static int unarmor_request(const char *text, size_t len, size_t *n, bool *renewal, const char **why)
{
    const char *why_renewal;

    *renewal = false;
    if (doc_unarmor(text, len, "SIGNET ENROLLMENT REQUEST", (uint8_t *)xml, sizeof(xml) - 1, n,
                    why) == 0)
        return 0;
    if (doc_unarmor(text, len, "SIGNET RENEWAL REQUEST", (uint8_t *)xml, sizeof(xml) - 1, n,
                    &why_renewal) != 0)
        return -EINVAL; /* *why: what the enrollment armor found wrong */
    *renewal = true;
    return 0;
}

static void subenroll_pasted(struct app *app, struct console *con, const char *text, size_t len)
{
    char who[ISSUE_WHO_MAX] = "";
    const char *why = "the clock is not readable";
    x509_time now;
    size_t n = 0, alen = 0;
    bool renewal = false;

    if (unarmor_request(text, len, &n, &renewal, &why) != 0 || !app_now(app, &now, NULL) ||
        issue_subenroll(&app->issue, NULL, xml, n, &now, answer, sizeof(answer), &n, who, &why) !=
            0 ||
        doc_armor("SIGNET ENROLLMENT RESPONSE", (const uint8_t *)answer, n, armored,
                  sizeof(armored), &alen) != 0) {
        console_error(con, "%s; nothing issued", why);
        app_audit(app, "subenroll (console): refused%s%s: %s", who[0] ? " for " : "", who, why);
        return;
    }
    console_puts(con, armored);
    console_printf(con, "Import the block above on %s with `%s import`.\n", who,
                   renewal ? "renew" : "enroll");
    app_audit(app, "subenroll (console): %s issued for %s", renewal ? "renewal" : "SLC", who);
}

static int cmd_subenroll(struct console *con, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (!loaded(con))
        return -1;
    return cmd_paste_either(con, "subenroll", "licensing server's enrollment or renewal request",
                            "SIGNET ENROLLMENT REQUEST", "SIGNET RENEWAL REQUEST",
                            subenroll_pasted);
}

/* ---- the content-key encryption certificate ---- */

static int cmd_ckek_export(struct console *con, int argc, char **argv)
{
    struct app *app = app_of(con);
    const uint8_t *cert;
    size_t len = 0;
    const char *why = "the clock is not readable";
    x509_time now;

    (void)argc;
    (void)argv;
    if (!loaded(con))
        return -1;
    if (!app_now(app, &now, NULL) || issue_ckek_ready(&app->issue, &now, &cert, &len, &why) != 0) {
        console_error(con, "%s", why);
        return -1;
    }
    return cmd_print_pem(con, cert, len);
}

const struct console_cmd app_sign_cmds[] = {
    {"acl list", "", "who may sub-enroll (TLS client-certificate fingerprints)", cmd_acl_list, 0, 0,
     CONSOLE_NEEDS_LOGIN},
    {"acl grant", "FINGERPRINT NAME", "let a licensing server sub-enroll", cmd_acl_grant, 2, 2,
     CONSOLE_NEEDS_LOGIN},
    {"acl revoke", "FINGERPRINT", "withdraw a grant", cmd_acl_revoke, 1, 1, CONSOLE_NEEDS_LOGIN},
    {"config role", "root|licensing", "this server's role (before enrollment)", cmd_config_role, 1,
     1, CONSOLE_NEEDS_LOGIN},
    {"config root-url", "URL", "a licensing server's root, https://HOST[:PORT]",
     cmd_config_root_url, 1, 1, CONSOLE_NEEDS_LOGIN},
    {"subenroll", "", "paste a licensing server's request; print the response (offline)",
     cmd_subenroll, 0, 0, CONSOLE_NEEDS_LOGIN},
    {"ckek export", "", "the content-key encryption certificate as PEM", cmd_ckek_export, 0, 0,
     CONSOLE_NEEDS_LOGIN},
};
const unsigned app_sign_cmd_count = sizeof(app_sign_cmds) / sizeof(app_sign_cmds[0]);
