/*
 * firmware/app/cmd_crl.c — the console's `crl fetch`: the core's CRL fetch (crl_fetch.c) now,
 * told on the console.
 */
#include "cmd.h"

#include <string.h>

/* Whether the fetch under way (the core runs one at a time) is `crl fetch` itself. */
static bool asked_by_crl_fetch;

/* A fetch's outcome on the console that asked (held until now), then released. */
static void told(void *ctx, const struct app_crl_outcome *o)
{
    struct console *con = ctx;

    if (o->ret != 0 && asked_by_crl_fetch)
        console_error(con, "the %s's CRL: %s; the one held stays in force", o->from, o->why);
    else if (o->ret != 0) /* what the command did (an enrollment) stands */
        console_printf(con, "warning: the %s's CRL was not fetched: %s\n", o->from, o->why);
    else if (o->newer)
        console_printf(con, "the %s's CRL number %llu accepted: %zu entries, %zu excluded users\n",
                       o->from, (unsigned long long)o->number, o->entries, o->excluded);
    else
        console_printf(con, "the %s's CRL number %llu is the one held\n", o->from,
                       (unsigned long long)o->number);
    if (o->blocking)
        console_printf(con, "serving:   no: %s\n", o->blocking);
    console_release(con);
}

int cmd_crl_fetch_told(struct console *con, enum revoke_source src, const char *url,
                       const char *cmd, const char **why)
{
    struct app *app = con->user;
    int ret = app_crl_fetch(app, src, url, cmd, told, con, why);

    if (ret)
        return ret;
    asked_by_crl_fetch = strcmp(cmd, "crl fetch") == 0;
    console_printf(con, "fetching the %s's CRL from %s...\n",
                   src == REVOKE_FROM_ROOT ? "root" : "authority", app_crl_fetch_url());
    console_hold(con);
    return 0;
}

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
    if (!url[0] || cmd_crl_fetch_told(con, licensing ? REVOKE_FROM_ROOT : REVOKE_FROM_AUTHORITY,
                                      url, "crl fetch", &why) != 0) {
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
