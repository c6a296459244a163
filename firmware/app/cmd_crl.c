/*
 * firmware/app/cmd_crl.c — the console's `crl fetch`: the core's CRL fetch (crl_fetch.c) now,
 * told on the console.
 */
#include "cmd.h"

/* `crl fetch [URL]`: now, from URL or (licensing server) the root's URL. */
static int cmd_crl_fetch(struct console *con, int argc, char **argv)
{
    struct app *app = con->user;
    bool licensing = app->enroll.cfg.role == ENROLL_ROLE_LICENSING;
    const char *url = argc ? argv[0] : licensing ? app->enroll.cfg.root_url : "";
    const char *why = "no URL: give the authority's (crl fetch URL)";

    if (!app->token.logged_in) {
        console_error(con, "log in first");
        return -1;
    }
    if (!url[0] || app_crl_fetch(app, licensing ? REVOKE_FROM_ROOT : REVOKE_FROM_AUTHORITY, url,
                                 con, "crl fetch", &why) != 0) {
        console_error(con, "%s; nothing changed", why);
        app_audit(app, "crl fetch: refused: %s", why);
        return -1;
    }
    return 0;
}

const struct console_cmd app_crl_fetch_cmds[] = {
    {"crl fetch", "[URL]",
     "fetch the CRL from above now (licensing server: the root's; root: the authority's at URL)",
     cmd_crl_fetch, 0, 1, 0},
};
const unsigned app_crl_fetch_cmd_count = sizeof(app_crl_fetch_cmds) / sizeof(app_crl_fetch_cmds[0]);
