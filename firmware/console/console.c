#include "console.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define CTRL_C 0x03
#define BS     0x08
#define DEL    0x7f
#define ESC    0x1b

/* Longest single printf; longer output is cut, so callers print tables a line at a time. */
#define CONSOLE_FMT_MAX 256

static void wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n--)
        *v++ = 0;
}

void console_init(struct console *con, console_write_fn write, void *write_ctx)
{
    memset(con, 0, sizeof(*con));
    con->write = write;
    con->write_ctx = write_ctx;
}

int console_add_commands(struct console *con, const struct console_cmd *cmds, size_t count)
{
    if (con->ngroups >= CONSOLE_GROUPS_MAX)
        return -ENOSPC;
    con->groups[con->ngroups].cmds = cmds;
    con->groups[con->ngroups].count = count;
    con->ngroups++;
    return 0;
}

/* Serial terminals need CR LF; text inside the firmware uses plain LF. */
void console_write(struct console *con, const char *buf, size_t len)
{
    size_t start = 0;

    for (size_t i = 0; i < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (i > start)
            con->write(con->write_ctx, buf + start, i - start);
        con->write(con->write_ctx, "\r\n", 2);
        start = i + 1;
    }
    if (start < len)
        con->write(con->write_ctx, buf + start, len - start);
}

void console_puts(struct console *con, const char *s)
{
    console_write(con, s, strlen(s));
}

static void console_vprintf(struct console *con, const char *fmt, va_list ap)
{
    char buf[CONSOLE_FMT_MAX];
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);

    if (n < 0)
        return;
    if ((size_t)n >= sizeof(buf))
        n = sizeof(buf) - 1;
    console_write(con, buf, (size_t)n);
}

void console_printf(struct console *con, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    console_vprintf(con, fmt, ap);
    va_end(ap);
}

void console_error(struct console *con, const char *fmt, ...)
{
    va_list ap;

    con->errors++;
    console_puts(con, "error: ");
    va_start(ap, fmt);
    console_vprintf(con, fmt, ap);
    va_end(ap);
    console_puts(con, "\n");
}

void console_prompt(struct console *con)
{
    if (con->read_fn)
        console_puts(con, con->read_prompt);
    else
        console_puts(con, console_is_privileged(con) ? "signet# " : "signet> ");
}

void console_set_privileged(struct console *con, bool on)
{
    con->privileged = on;
}

bool console_is_privileged(const struct console *con)
{
    return con->privileged_fn ? con->privileged_fn(con->user) : con->privileged;
}

int console_read_line(struct console *con, const char *prompt, unsigned flags, console_line_fn fn,
                      void *ctx)
{
    if (con->read_fn)
        return -EBUSY;
    con->read_fn = fn;
    con->read_ctx = ctx;
    con->read_flags = flags;
    con->read_prompt = prompt;
    return 0;
}

static size_t split_words(char *line, char **argv, size_t max, bool *too_many)
{
    size_t argc = 0;
    char *p = line;

    *too_many = false;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        if (argc == max) {
            *too_many = true;
            break;
        }
        argv[argc++] = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (*p)
            *p++ = '\0';
    }
    return argc;
}

/* Number of words in name matched by argv, or 0 when the name does not match. */
static size_t match_words(const char *name, char **argv, size_t argc)
{
    size_t words = 0;
    const char *p = name;

    while (*p) {
        size_t wl = strcspn(p, " ");
        if (words >= argc || strlen(argv[words]) != wl || strncmp(argv[words], p, wl) != 0)
            return 0;
        words++;
        p += wl;
        while (*p == ' ')
            p++;
    }
    return words;
}

static const struct console_cmd *find_command(struct console *con, char **argv, size_t argc,
                                              size_t *words)
{
    const struct console_cmd *best = NULL;

    *words = 0;
    for (size_t g = 0; g < con->ngroups; g++) {
        for (size_t i = 0; i < con->groups[g].count; i++) {
            const struct console_cmd *c = &con->groups[g].cmds[i];
            size_t w = match_words(c->name, argv, argc);
            if (w > *words) {
                *words = w;
                best = c;
            }
        }
    }
    return best;
}

/* "time" alone: list what may follow, so the operator does not have to read all of help. */
static bool report_group(struct console *con, const char *word)
{
    size_t wl = strlen(word);
    bool found = false;

    for (size_t g = 0; g < con->ngroups; g++) {
        for (size_t i = 0; i < con->groups[g].count; i++) {
            const char *name = con->groups[g].cmds[i].name;
            if (strncmp(name, word, wl) != 0 || name[wl] != ' ')
                continue;
            if (!found) {
                con->errors++;
                console_printf(con, "error: '%s' needs one of:", word);
            }
            console_printf(con, " %s", name + wl + 1);
            found = true;
        }
    }
    if (found)
        console_puts(con, "\n");
    return found;
}

static void run_line(struct console *con, char *line)
{
    char *argv[CONSOLE_ARGS_MAX];
    bool too_many;
    size_t words;
    size_t argc = split_words(line, argv, CONSOLE_ARGS_MAX, &too_many);

    if (argc == 0)
        return;
    if (too_many) {
        console_error(con, "too many words (max %d)", CONSOLE_ARGS_MAX);
        return;
    }
    const struct console_cmd *cmd = find_command(con, argv, argc, &words);
    if (!cmd) {
        if (!report_group(con, argv[0]))
            console_error(con, "unknown command '%s' (try help)", argv[0]);
        return;
    }
    size_t nargs = argc - words;
    if (nargs < cmd->min_args || nargs > cmd->max_args) {
        console_error(con, "usage: %s%s%s", cmd->name, cmd->usage[0] ? " " : "", cmd->usage);
        return;
    }
    if ((cmd->flags & CONSOLE_NEEDS_LOGIN) && !console_is_privileged(con)) {
        console_error(con, "'%s' needs login first", cmd->name);
        return;
    }
    (void)cmd->run(con, (int)nargs, argv + words);
}

static void end_line(struct console *con)
{
    bool secret = con->read_fn && (con->read_flags & CONSOLE_SECRET);

    console_puts(con, "\n");
    con->line[con->len] = '\0';
    con->lines++;
    if (con->overflow) {
        console_error(con, "line too long (max %d characters)", CONSOLE_LINE_MAX);
        /* A refused answer to a prompt cancels the request rather than leaving it dangling. */
        if (con->read_fn) {
            console_line_fn fn = con->read_fn;
            con->read_fn = NULL;
            fn(con, NULL, 0, con->read_ctx);
        }
    } else if (con->read_fn) {
        console_line_fn fn = con->read_fn;
        con->read_fn = NULL;
        fn(con, con->line, con->len, con->read_ctx);
    } else {
        run_line(con, con->line);
    }
    if (secret)
        wipe(con->line, sizeof(con->line));
    con->len = 0;
    con->overflow = false;
    if (!con->held)
        console_prompt(con);
}

void console_hold(struct console *con)
{
    con->held = true;
}

void console_release(struct console *con)
{
    if (!con->held)
        return;
    con->held = false;
    console_prompt(con);
}

static void cancel_line(struct console *con)
{
    console_puts(con, "^C\n");
    wipe(con->line, sizeof(con->line));
    con->len = 0;
    con->overflow = false;
    if (con->read_fn) {
        console_line_fn fn = con->read_fn;
        con->read_fn = NULL;
        fn(con, NULL, 0, con->read_ctx);
    }
    console_prompt(con);
}

static void feed_byte(struct console *con, unsigned char c)
{
    bool echo = !(con->read_fn && (con->read_flags & CONSOLE_SECRET));
    bool was_cr = con->last_cr;

    con->last_cr = (c == '\r');
    if (con->esc == 1) {
        con->esc = (c == '[') ? 2 : 0;
        return;
    }
    if (con->esc == 2) {
        if (c >= 0x40 && c <= 0x7e)
            con->esc = 0;
        return;
    }
    switch (c) {
    case '\n':
        if (was_cr)
            return; /* second half of CR LF */
        end_line(con);
        return;
    case '\r':
        end_line(con);
        return;
    case CTRL_C:
        cancel_line(con);
        return;
    case BS:
    case DEL:
        if (con->len > 0 && !con->overflow) {
            con->len--;
            if (echo)
                console_write(con, "\b \b", 3);
        }
        return;
    case ESC:
        con->esc = 1;
        return;
    default:
        break;
    }
    if (c < 0x20 || c > 0x7e)
        return; /* other control bytes and non-ASCII are ignored */
    if (con->len >= CONSOLE_LINE_MAX) {
        con->overflow = true;
        return;
    }
    con->line[con->len++] = (char)c;
    if (echo)
        console_write(con, (const char *)&c, 1);
}

void console_feed(struct console *con, const char *bytes, size_t len)
{
    /* Held: a command's result is still to come; what is typed meanwhile is not a command. */
    for (size_t i = 0; i < len && !con->held; i++)
        feed_byte(con, (unsigned char)bytes[i]);
}

void console_print_help(struct console *con)
{
    for (size_t g = 0; g < con->ngroups; g++) {
        for (size_t i = 0; i < con->groups[g].count; i++) {
            const struct console_cmd *c = &con->groups[g].cmds[i];
            char left[48];
            snprintf(left, sizeof(left), "%s%s%s", c->name, c->usage[0] ? " " : "", c->usage);
            console_printf(con, "  %-30s %s%s\n", left, c->help,
                           (c->flags & CONSOLE_NEEDS_LOGIN) ? " (login)" : "");
        }
    }
}
