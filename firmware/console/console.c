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
    con->read_ms = con->now_ms;
    return 0;
}

enum console_cancel console_cancel_reason(const struct console *con)
{
    return con->cancel;
}

void console_after_burst(struct console *con, console_quiet_fn fn, void *ctx)
{
    con->quiet_fn = fn;
    con->quiet_ctx = ctx;
}

void console_discard(struct console *con, uint32_t already)
{
    con->read_fn = NULL;
    con->quiet_fn = NULL;
    if (con->discarding) {
        con->discarded += already;
        return;
    }
    con->discarding = true;
    con->discard_partial = false;
    con->discarded = already;
}

/* End a pending read without a line; the callback learns why from console_cancel_reason. */
static void cancel_read(struct console *con, enum console_cancel why)
{
    console_line_fn fn = con->read_fn;

    con->quiet_fn = NULL;
    if (!fn)
        return;
    con->read_fn = NULL;
    con->cancel = why;
    fn(con, NULL, 0, con->read_ctx);
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

static bool may_prompt(const struct console *con)
{
    return !con->held && !con->discarding && !con->busy;
}

static void hand_over(struct console *con, const char *name)
{
    snprintf(con->work.name, sizeof(con->work.name), "%s", name);
    con->busy = true;
    con->busy_answer = false;
    con->busy_ms = con->now_ms;
    if (con->runner(con, con->runner_ctx) == 0)
        return;
    con->busy = false;
    console_error(con, "'%s' could not start: the token's queue is full", name);
    wipe(&con->work, sizeof(con->work));
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
    if (!con->runner || (cmd->flags & CONSOLE_QUICK)) {
        (void)cmd->run(con, (int)nargs, argv + words);
        return;
    }
    /* The words live in con->line, which takes the next typed line meanwhile: move them. */
    memcpy(con->work.line, line, sizeof(con->work.line));
    con->work.argc = (int)nargs;
    for (size_t i = 0; i < nargs; i++)
        con->work.argv[i] = con->work.line + (argv[words + i] - line);
    con->work.cmd = cmd;
    hand_over(con, cmd->name);
}

/* Whether line names a command that never waits (its words are split in a copy). */
static bool is_quick_line(struct console *con, const char *line)
{
    char copy[CONSOLE_LINE_MAX + 1];
    char *argv[CONSOLE_ARGS_MAX];
    bool too_many;
    size_t words;

    snprintf(copy, sizeof(copy), "%s", line);
    size_t argc = split_words(copy, argv, CONSOLE_ARGS_MAX, &too_many);
    const struct console_cmd *cmd = argc ? find_command(con, argv, argc, &words) : NULL;
    return cmd && (cmd->flags & CONSOLE_QUICK);
}

/*
 * A line typed while work is out: a quick command answers now; anything else waits its turn in
 * con->ahead, as typed-ahead input always has (console_wants_input keeps room for one more).
 */
static void busy_line(struct console *con)
{
    if (con->overflow) {
        console_error(con, "line too long (max %d characters)", CONSOLE_LINE_MAX);
    } else if (is_quick_line(con, con->line)) {
        run_line(con, con->line);
    } else {
        memcpy(con->ahead + con->ahead_len, con->line, con->len + 1);
        con->ahead_len += con->len + 1;
        wipe(con->line, sizeof(con->line));
        con->len = 0;
        return;
    }
    wipe(con->line, sizeof(con->line));
    con->len = 0;
    con->overflow = false;
    /* The work's own prompt comes when it is done; this one says the console still listens. */
    if (con->busy)
        console_puts(con, console_is_privileged(con) ? "signet# " : "signet> ");
    else if (may_prompt(con))
        console_prompt(con);
}

/* A complete line in con->line (already echoed): to the pending read or the command table. */
static void take_line(struct console *con)
{
    bool secret = con->read_fn && (con->read_flags & CONSOLE_SECRET);

    if (con->overflow) {
        console_error(con, "line too long (max %d characters)", CONSOLE_LINE_MAX);
        /* A refused answer to a prompt cancels the request rather than leaving it dangling. */
        cancel_read(con, CONSOLE_CANCEL_TOO_LONG);
        /* The line was most likely pasted: what came with it must not run as commands. */
        console_discard(con, 0);
    } else if (con->read_fn && con->runner && !(con->read_flags & CONSOLE_INLINE)) {
        con->work.line_fn = con->read_fn;
        con->work.ctx = con->read_ctx;
        con->work.secret = secret;
        memcpy(con->work.line, con->line, con->len + 1);
        con->work.len = con->len;
        con->read_fn = NULL;
        hand_over(con, secret ? "the PIN" : "the answer");
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
    if (may_prompt(con))
        console_prompt(con);
}

static void end_line(struct console *con)
{
    console_puts(con, "\n");
    con->line[con->len] = '\0';
    con->lines++;
    if (con->busy)
        busy_line(con);
    else
        take_line(con);
}

/* The lines typed ahead while work was out, in order, until one is handed over again. The line
 * being typed meanwhile is put back afterwards. */
static bool drain_ahead(struct console *con)
{
    char typing[CONSOLE_LINE_MAX + 1];
    size_t typing_len = con->len;
    bool typing_over = con->overflow, any = false;

    if (!con->ahead_len)
        return false;
    memcpy(typing, con->line, sizeof(typing));
    con->overflow = false;
    while (con->ahead_len && !con->busy && !con->held && !con->discarding) {
        size_t n = strlen(con->ahead);
        memcpy(con->line, con->ahead, n + 1);
        con->len = n;
        memmove(con->ahead, con->ahead + n + 1, con->ahead_len - n - 1);
        con->ahead_len -= n + 1;
        wipe(con->ahead + con->ahead_len, n + 1); /* it may have been a PIN */
        take_line(con);
        any = true;
    }
    memcpy(con->line, typing, sizeof(typing));
    con->len = typing_len;
    con->overflow = typing_over;
    wipe(typing, sizeof(typing));
    return any;
}

/* The input has been quiet for CONSOLE_QUIET_MS: finish what waited for the burst to end. */
static void end_burst(struct console *con)
{
    /* An unterminated last line still belongs to the burst: the paste must see it. */
    if (con->quiet_fn && con->len > 0 && !con->held)
        end_line(con);
    if (con->discarding) {
        if (con->discard_partial)
            con->discarded++;
        if (con->discarded)
            console_printf(con, "discarded %lu pasted line%s; none of them ran\n",
                           (unsigned long)con->discarded, con->discarded == 1 ? "" : "s");
        con->discarding = false;
        con->discard_partial = false;
        con->discarded = 0;
        wipe(con->line, sizeof(con->line));
        con->len = 0;
        con->overflow = false;
        con->esc = 0;
        if (!con->held)
            console_prompt(con);
        return;
    }
    if (con->quiet_fn && con->runner) {
        con->work.quiet_fn = con->quiet_fn;
        con->work.ctx = con->quiet_ctx;
        con->quiet_fn = NULL;
        con->read_fn = NULL;
        hand_over(con, "the paste");
        return;
    }
    if (con->quiet_fn) {
        console_quiet_fn fn = con->quiet_fn;
        con->quiet_fn = NULL;
        con->read_fn = NULL;
        fn(con, con->quiet_ctx);
        if (con->discarding) {
            end_burst(con); /* the input is already quiet: nothing more to wait for */
            return;
        }
        if (!con->held)
            console_prompt(con);
    }
}

static bool burst_over(const struct console *con, uint64_t now_ms)
{
    return (con->discarding || con->quiet_fn) && now_ms - con->rx_ms >= CONSOLE_QUIET_MS;
}

void console_tick(struct console *con, uint64_t now_ms)
{
    con->now_ms = now_ms;
    /* Bursts and read time-outs are judged again once the work is back. */
    if (con->busy)
        return;
    if (burst_over(con, now_ms))
        end_burst(con);
    if (!con->read_fn || !(con->read_flags & CONSOLE_TIMEOUT) || con->quiet_fn || con->discarding ||
        con->held)
        return;
    uint64_t last = con->read_ms > con->rx_ms ? con->read_ms : con->rx_ms;
    if (now_ms - last < CONSOLE_READ_TIMEOUT_MS)
        return;
    if (con->len)
        console_puts(con, "\n");
    wipe(con->line, sizeof(con->line));
    con->len = 0;
    con->overflow = false;
    cancel_read(con, CONSOLE_CANCEL_TIMEOUT);
    if (!con->held && !con->discarding)
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
    if (con->busy) {
        /* What is out cannot be called back; the typed line and what was typed ahead are gone,
         * the console still listens. */
        wipe(con->ahead, sizeof(con->ahead));
        con->ahead_len = 0;
        console_puts(con, console_is_privileged(con) ? "signet# " : "signet> ");
        return;
    }
    cancel_read(con, CONSOLE_CANCEL_CTRL_C);
    if (!con->held && !con->discarding)
        console_prompt(con);
}

/* Only line ends matter while swallowing a burst: they count the lines for the operator. */
static void discard_byte(struct console *con, unsigned char c)
{
    if (c == '\r' || c == '\n') {
        if (con->discard_partial)
            con->discarded++;
        con->discard_partial = false;
    } else if (c > 0x20 && c <= 0x7e) {
        con->discard_partial = true;
    }
}

static void feed_byte(struct console *con, unsigned char c)
{
    bool echo = !(con->read_fn && (con->read_flags & CONSOLE_SECRET));
    bool was_cr = con->last_cr;

    con->last_cr = (c == '\r');
    if (con->discarding) {
        discard_byte(con, c);
        return;
    }
    /* A control byte ends an escape sequence cut short and then acts: Enter and Ctrl-C always
     * work, and the sequence does not eat the next command's first letter. */
    if (con->esc && c < 0x20)
        con->esc = 0;
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

void console_continue_burst(struct console *con, uint64_t now_ms)
{
    con->now_ms = now_ms;
    if (con->discarding || con->quiet_fn)
        con->rx_ms = now_ms;
}

void console_feed(struct console *con, const char *bytes, size_t len, uint64_t now_ms)
{
    con->now_ms = now_ms;
    if (len == 0)
        return;
    if (!con->busy && burst_over(con, now_ms))
        end_burst(con);
    con->rx_ms = now_ms;
    /* Held: a command's result is still to come; what is typed meanwhile is not a command. */
    for (size_t i = 0; i < len && !con->held; i++)
        feed_byte(con, (unsigned char)bytes[i]);
}

static void print_command(struct console *con, const struct console_cmd *c)
{
    char left[48];

    snprintf(left, sizeof(left), "%s%s%s", c->name, c->usage[0] ? " " : "", c->usage);
    console_printf(con, "  %-30s %s%s\n", left, c->help,
                   (c->flags & CONSOLE_NEEDS_LOGIN) ? " (login)" : "");
}

void console_print_help(struct console *con)
{
    for (size_t g = 0; g < con->ngroups; g++)
        for (size_t i = 0; i < con->groups[g].count; i++)
            print_command(con, &con->groups[g].cmds[i]);
}

/* The first argc words of name are argv's, whole words each. */
static bool name_starts_with(const char *name, char **argv, int argc)
{
    const char *p = name;

    for (int i = 0; i < argc; i++) {
        size_t wl = strcspn(p, " ");
        if (wl == 0 || strlen(argv[i]) != wl || strncmp(argv[i], p, wl) != 0)
            return false;
        p += wl;
        while (*p == ' ')
            p++;
    }
    return true;
}

int console_print_help_for(struct console *con, int argc, char **argv)
{
    int ret = -ENOENT;

    for (size_t g = 0; g < con->ngroups; g++) {
        for (size_t i = 0; i < con->groups[g].count; i++) {
            const struct console_cmd *c = &con->groups[g].cmds[i];
            if (!name_starts_with(c->name, argv, argc))
                continue;
            print_command(con, c);
            ret = 0;
        }
    }
    return ret;
}

void console_set_runner(struct console *con, console_runner_fn fn, void *ctx)
{
    con->runner = fn;
    con->runner_ctx = ctx;
}

void console_work_run(struct console *con)
{
    if (con->work.cmd)
        (void)con->work.cmd->run(con, con->work.argc, con->work.argv);
    else if (con->work.line_fn)
        con->work.line_fn(con, con->work.line, con->work.len, con->work.ctx);
    else if (con->work.quiet_fn)
        con->work.quiet_fn(con, con->work.ctx);
}

void console_work_done(struct console *con)
{
    bool quiet = con->work.quiet_fn != NULL;

    if (!con->busy)
        return;
    /* A PIN leaves no copy behind; the rest is cleared so nothing stale is run again. */
    wipe(&con->work, sizeof(con->work));
    con->busy = false;
    con->busy_answer = false;
    /* The paste's handler refused it and asked to swallow the rest: the input was already quiet. */
    if (quiet && con->discarding) {
        end_burst(con);
        return;
    }
    if (!drain_ahead(con) && may_prompt(con))
        console_prompt(con);
}

bool console_wants_input(struct console *con, uint64_t now_ms)
{
    if (!con->busy)
        return true;
    /* Room for one more whole line typed ahead; beyond that the input waits where it is. */
    if (sizeof(con->ahead) - con->ahead_len < CONSOLE_LINE_MAX + 1)
        return false;
    if (!con->busy_answer && now_ms - con->busy_ms < CONSOLE_BUSY_ANSWER_MS)
        return false;
    con->busy_answer = true;
    return true;
}
