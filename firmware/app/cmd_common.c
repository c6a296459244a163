/*
 * firmware/app/cmd_common.c — what the console commands share (cmd.h).
 */
#include "cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base64.h"

/* One certificate at a time passes through cmd_print_pem (the console runs one command at a
 * time): its base64 in 64-column lines, and the BEGIN and END lines. */
static char pem[BASE64_ENCODED_LEN(DOC_CERT_MAX) + BASE64_ENCODED_LEN(DOC_CERT_MAX) / 64 + 80];

void cmd_notice(void *ctx, enum app_note kind, const char *text)
{
    struct console *con = ctx;

    switch (kind) {
    case APP_NOTE_ERROR:
        console_error(con, "%s", text);
        break;
    case APP_NOTE_UNASKED_BEGIN:
        console_puts(con, "\n");
        break;
    case APP_NOTE_UNASKED_END:
        console_prompt(con);
        break;
    default:
        console_puts(con, text);
        console_puts(con, "\n");
        break;
    }
}

/* ---- pasting an armored block ---- */

static void paste_clear(struct app_paste *p)
{
    memset(p->buf, 0, p->len);
    p->len = 0;
    p->ended = false;
}

/* Refuse the paste: say why, audit it, and swallow the rest of its burst (refused_lines of it
 * already seen), so none of it runs as a command with the operator's login. */
static void paste_refuse(struct app *app, struct console *con, uint32_t refused_lines,
                         const char *why)
{
    struct app_paste *p = &app->paste;

    console_error(con, "%s; nothing changed", why);
    app_audit(app, "%s: refused: %s", p->cmd, why);
    paste_clear(p);
    console_discard(con, refused_lines);
}

static bool blank(const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t')
            return false;
    return true;
}

/* "-----END <label>-----", trailing blanks allowed; any other label is not this paste's end. */
static bool is_end_of(const char *line, size_t len, const char *label)
{
    size_t ll = strlen(label);

    while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;
    return len == 9 + ll + 5 && memcmp(line, "-----END ", 9) == 0 &&
           memcmp(line + 9, label, ll) == 0 && memcmp(line + 9 + ll, "-----", 5) == 0;
}

static void paste_line(struct console *con, const char *line, size_t len, void *ctx);

/* The burst with the END line is over and nothing but blank lines followed: take the block. */
static void paste_quiet(struct console *con, void *ctx)
{
    struct app *app = ctx;
    struct app_paste *p = &app->paste;

    p->ended = false;
    p->done(app, con, p->buf, p->len);
    /* A paste done started is still empty: clearing leaves it as it is. */
    paste_clear(p);
}

static void paste_cancelled(struct app *app, struct console *con)
{
    struct app_paste *p = &app->paste;

    switch (console_cancel_reason(con)) {
    case CONSOLE_CANCEL_TIMEOUT:
        console_error(con, "paste timed out (no input for %u s); nothing changed",
                      (unsigned)(CONSOLE_READ_TIMEOUT_MS / 1000));
        app_audit(app, "%s: cancelled: paste timed out", p->cmd);
        break;
    case CONSOLE_CANCEL_TOO_LONG:
        /* The console has said so and discards the rest of the burst. */
        console_puts(con, "paste cancelled; nothing changed\n");
        app_audit(app, "%s: cancelled: pasted line too long", p->cmd);
        break;
    default:
        console_puts(con, "cancelled; nothing changed\n");
        app_audit(app, "%s: cancelled: Ctrl-C", p->cmd);
        /* Ctrl-C may sit in the middle of a pasted burst: the rest of it is not for the prompt. */
        console_discard(con, 0);
        break;
    }
    paste_clear(p);
}

static void paste_line(struct console *con, const char *line, size_t len, void *ctx)
{
    struct app *app = ctx;
    struct app_paste *p = &app->paste;

    if (!line) {
        paste_cancelled(app, con);
        return;
    }
    if (p->ended) {
        if (!blank(line, len)) {
            /* A bundle or text after the block: which block was meant is not ours to guess. */
            paste_refuse(app, con, 1, "text follows the END line (paste one block alone)");
            return;
        }
        (void)console_read_line(con, "", CONSOLE_TIMEOUT | CONSOLE_INLINE, paste_line, app);
        console_after_burst(con, paste_quiet, app);
        return;
    }
    bool end = is_end_of(line, len, p->label) || (p->alt && is_end_of(line, len, p->alt));
    char why[128];
    if (!end && len >= 9 && memcmp(line, "-----END ", 9) == 0) {
        snprintf(why, sizeof(why), "END line of another label (expected -----END %s-----%s%s)",
                 p->label, p->alt ? " or the same with " : "", p->alt ? p->alt : "");
        paste_refuse(app, con, 1, why);
        return;
    }
    if (len + 1 > sizeof(p->buf) - p->len) {
        snprintf(why, sizeof(why), "pasted text too large (over %u bytes)",
                 (unsigned)sizeof(p->buf));
        paste_refuse(app, con, 1, why);
        return;
    }
    memcpy(p->buf + p->len, line, len);
    p->len += len;
    p->buf[p->len++] = '\n';
    (void)console_read_line(con, "", CONSOLE_TIMEOUT | CONSOLE_INLINE, paste_line, app);
    if (end) {
        p->ended = true;
        console_after_burst(con, paste_quiet, app);
    }
}

/* cmd: the command, for the audit log; what: the thing pasted, for the operator. */
int cmd_paste_either(struct console *con, const char *cmd, const char *what, const char *label,
                     const char *alt, app_paste_fn done)
{
    struct app *app = con->user;
    struct app_paste *p = &app->paste;

    paste_clear(p);
    p->done = done;
    p->cmd = cmd;
    p->label = label;
    p->alt = alt;
    console_printf(con,
                   "Paste the %s (-----BEGIN %s----- ... -----END %s-----%s%s); Ctrl-C cancels.\n",
                   what, label, label, alt ? ", or the same with " : "", alt ? alt : "");
    return console_read_line(con, "", CONSOLE_TIMEOUT | CONSOLE_INLINE, paste_line, app);
}

int cmd_paste(struct console *con, const char *cmd, const char *what, const char *label,
              app_paste_fn done)
{
    return cmd_paste_either(con, cmd, what, label, NULL, done);
}

void cmd_refuse(struct app *app, struct console *con, const char *cmd, const char *why)
{
    console_error(con, "%s; nothing changed", why);
    app_audit(app, "%s: refused: %s", cmd, why);
}

int cmd_parse_count(const char *text, unsigned long max, unsigned long *out)
{
    char *end;
    if (!text[0] || text[0] < '0' || text[0] > '9')
        return -EINVAL;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno || *end || v < 1 || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

bool cmd_logged_in(struct console *con, const char *cmd)
{
    if (console_is_privileged(con))
        return true;
    console_error(con, "'%s' needs login first", cmd);
    app_audit(con->user, "%s: refused: not logged in", cmd);
    return false;
}

int cmd_print_pem(struct console *con, const uint8_t *d, size_t n)
{
    size_t alen = 0;
    if (doc_armor("CERTIFICATE", d, n, pem, sizeof(pem), &alen) != 0)
        return -1;
    console_puts(con, pem);
    return 0;
}
