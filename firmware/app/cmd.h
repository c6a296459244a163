/*
 * firmware/app/cmd.h — what the console commands (cmd_*.c) share (cmd_common.c): the console's
 * side of the core's notices, and helpers for reading and answering at the console. Commands call
 * the core (core.h) and these, never each other or the HTTP endpoints.
 */
#ifndef APP_CMD_H
#define APP_CMD_H

#include "core.h"

/* The core's notices on the console (app_set_notice's fn; ctx is the console). */
void cmd_notice(void *ctx, enum app_note kind, const char *text);

/* Read a pasted armored block (BEGIN label ... END label) into
 * app->paste and hand it to done once the input is quiet after its END line; cmd names the
 * command in the audit log, what the thing for the operator. Anything but blank lines after the
 * END line in the same burst, an END line of another label, a too-large block, Ctrl-C or the
 * console's time-out refuse the paste (audited) and the rest of its burst is discarded, never run.
 * A paste may start another from its done. */
int cmd_paste(struct console *con, const char *cmd, const char *what, const char *label,
              app_paste_fn done);
/* The same, taking a block of either label (one block still: done tells them apart). */
int cmd_paste_either(struct console *con, const char *cmd, const char *what, const char *label,
                     const char *alt, app_paste_fn done);

/* A console command that changes what the token holds refused: "WHY; nothing changed" on the
 * console, "CMD: refused: WHY" in the audit log. */
void cmd_refuse(struct app *app, struct console *con, const char *cmd, const char *why);
/* cmd needs the login. Checked by such commands rather than by the console, so that an attempt
 * without it is audited too. */
bool cmd_logged_in(struct console *con, const char *cmd);
/* A decimal count 1..max as the operator typed it (digits only): 0, or -EINVAL. */
int cmd_parse_count(const char *text, unsigned long max, unsigned long *out);
/* The core's CRL fetch (app_crl_fetch), told on con: "fetching ...", the console held until the
 * outcome is printed (cmd_crl.c). cmd names it in the audit log; `crl fetch` itself reports a
 * failure as an error, an enrollment's fetch as a warning (what the enrollment did stands). */
int cmd_crl_fetch_told(struct console *con, enum revoke_source src, const char *url,
                       const char *cmd, const char **why);
/* A certificate as PEM on the console. */
int cmd_print_pem(struct console *con, const uint8_t *der, size_t len);

#endif
