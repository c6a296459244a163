/*
 * firmware/console — the operator's serial console on HAL_UART_CONSOLE.
 *
 * Bytes go in through console_feed(); complete lines are split into words and dispatched to a
 * command table. Conventions (README.md, "Console"): prompt "signet> ", or "signet# " once
 * privileged; every failure is one line starting "error: ". A line longer than CONSOLE_LINE_MAX is
 * rejected as a whole, never truncated. A command may ask for the next line itself
 * (console_read_line), e.g. a PIN; with CONSOLE_SECRET that line is not echoed and is wiped from
 * the buffer after use.
 *
 * Time comes from the caller (console_feed's now_ms, console_tick), so the module needs no clock.
 * A burst is bytes that arrive with no gap of CONSOLE_QUIET_MS between them: a paste is one, a
 * person typing is many. After a too-long line, or when a command asks (console_discard), the
 * rest of the burst is swallowed — never run, never handed to a prompt — and the operator is told
 * how many lines that was; the prompt comes back once the input is quiet.
 */
#ifndef CONSOLE_H
#define CONSOLE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "signet_config.h"

struct console;

/* argv holds the words after the command name; the strings live until the handler returns. */
typedef int (*console_cmd_fn)(struct console *con, int argc, char **argv);

enum console_cmd_flags {
    CONSOLE_NEEDS_LOGIN = 1u << 0, /* refused unless the console is privileged */
    /* Never waits for the token: runs in the console's own task, also while other work is out
     * with the runner (console_set_runner). Every other command is handed to the runner. */
    CONSOLE_QUICK = 1u << 1,
};

struct console_cmd {
    const char *name;  /* one or more words: "status", "time set" */
    const char *usage; /* argument synopsis for help and usage errors; "" when none */
    const char *help;
    console_cmd_fn run;
    uint8_t min_args;
    uint8_t max_args;
    uint8_t flags;
};

enum console_read_flags {
    CONSOLE_SECRET = 1u << 0,  /* no echo; wiped after the callback */
    CONSOLE_TIMEOUT = 1u << 1, /* cancelled after CONSOLE_READ_TIMEOUT_MS without a line */
    CONSOLE_INLINE = 1u << 2,  /* the callback never waits (it only collects): not handed over */
};

/* Why a read ended without a line (console_cancel_reason). */
enum console_cancel {
    CONSOLE_CANCEL_CTRL_C = 1,
    CONSOLE_CANCEL_TIMEOUT, /* CONSOLE_TIMEOUT and no line in time */
    CONSOLE_CANCEL_TOO_LONG /* a line over CONSOLE_LINE_MAX; the rest of its burst is discarded */
};

/* line is NULL when the read was cancelled (console_cancel_reason says why). */
typedef void (*console_line_fn)(struct console *con, const char *line, size_t len, void *ctx);
/* The input has been quiet for CONSOLE_QUIET_MS (console_after_burst). */
typedef void (*console_quiet_fn)(struct console *con, void *ctx);

/*
 * Hands the console's pending work (a command, a line for a read, a burst's end) to whoever may
 * wait for the token: 0 when taken — the taker calls console_work_run() where waiting is allowed,
 * then console_work_done() back in the console's task — or a negative errno, and the console says
 * the work could not start.
 */
typedef int (*console_runner_fn)(struct console *con, void *ctx);

/* Output sink, so unit tests can capture what the operator would see. */
typedef void (*console_write_fn)(void *ctx, const char *buf, size_t len);

struct console_group {
    const struct console_cmd *cmds;
    size_t count;
};

struct console {
    char line[CONSOLE_LINE_MAX + 1];
    size_t len;
    bool overflow;
    bool last_cr;
    uint8_t esc; /* escape-sequence state: 0 none, 1 after ESC, 2 inside CSI */
    bool privileged;
    struct console_group groups[CONSOLE_GROUPS_MAX];
    size_t ngroups;
    console_write_fn write;
    void *write_ctx;
    void *user; /* the application's context, for command handlers */
    /* When set, decides "logged in" instead of the privileged flag (the token's own state). */
    bool (*privileged_fn)(void *user);
    /* pending console_read_line request */
    console_line_fn read_fn;
    void *read_ctx;
    unsigned read_flags;
    const char *read_prompt;
    uint32_t lines;
    uint32_t errors;
    bool held; /* a command finishes later: no prompt, input ignored until console_release() */
    enum console_cancel cancel; /* why the last read was cancelled */
    uint64_t now_ms;            /* the latest time the caller gave */
    uint64_t rx_ms;             /* when the last byte arrived */
    uint64_t read_ms;           /* when the pending read was asked for (its time-out) */
    bool discarding;            /* swallowing the rest of a burst */
    bool discard_partial;       /* some of a swallowed line has arrived */
    uint32_t discarded;         /* lines swallowed in this burst */
    console_quiet_fn quiet_fn;  /* pending console_after_burst request */
    void *quiet_ctx;
    /* Work out with the runner (console_set_runner): at most one piece at a time. */
    console_runner_fn runner;
    void *runner_ctx;
    bool busy;        /* handed over and not done yet */
    bool busy_answer; /* out long enough that typed lines are read and answered meanwhile */
    uint64_t busy_ms; /* when it was handed over */
    /* Lines typed while it is out, each NUL-ended, run in order once it is done. */
    char ahead[CONSOLE_AHEAD_MAX];
    size_t ahead_len;
    struct {
        const struct console_cmd *cmd; /* a command, or */
        console_line_fn line_fn;       /* a read's line (NULL line: cancelled), or */
        console_quiet_fn quiet_fn;     /* a burst's end */
        void *ctx;
        bool secret;
        int argc;
        char *argv[CONSOLE_ARGS_MAX];
        char line[CONSOLE_LINE_MAX + 1]; /* the words argv points into, or the read's line */
        size_t len;
        char name[32]; /* what it is, for "busy" answers */
    } work;
};

void console_init(struct console *con, console_write_fn write, void *write_ctx);
int console_add_commands(struct console *con, const struct console_cmd *cmds, size_t count);

/* Process received bytes, which arrived at now_ms (a monotonic clock): echo, edit, dispatch
 * complete lines. A gap of CONSOLE_QUIET_MS since the previous bytes ends the burst first. */
void console_feed(struct console *con, const char *bytes, size_t len, uint64_t now_ms);
/* Called periodically (every CONSOLE_TICK_MS or so): ends a burst after its quiet gap and cancels
 * a CONSOLE_TIMEOUT read that has waited too long. */
void console_tick(struct console *con, uint64_t now_ms);
/* The caller could not watch the input until now_ms (its task was held up by another): bytes
 * that reached it meanwhile arrived at unknown times, so they continue the current burst, and
 * quiet is judged afresh from now_ms. Without this a stall would look like a pause and end a
 * swallowed paste early, letting the rest of it run as commands. */
void console_continue_burst(struct console *con, uint64_t now_ms);

void console_prompt(struct console *con);
void console_set_privileged(struct console *con, bool on);
bool console_is_privileged(const struct console *con);

/* Route the next complete line to fn instead of the command table. -EBUSY if one is pending. */
int console_read_line(struct console *con, const char *prompt, unsigned flags, console_line_fn fn,
                      void *ctx);
/* Why the read whose callback got line == NULL ended. */
enum console_cancel console_cancel_reason(const struct console *con);
/*
 * From a read callback: once the input has been quiet for CONSOLE_QUIET_MS, end the pending read
 * (its callback is not called again) and call fn. Lines that arrive before still reach the read,
 * so a paste can tell whether anything followed its end. A cancelled read drops the request.
 */
void console_after_burst(struct console *con, console_quiet_fn fn, void *ctx);
/*
 * Swallow the rest of the current burst: lines until the input is quiet for CONSOLE_QUIET_MS are
 * neither run nor read; then the console says how many (already: lines the caller refused
 * itself, counted in) and prompts. Ends a pending read or console_after_burst request.
 */
void console_discard(struct console *con, uint32_t already);

/*
 * For a command whose result arrives later (a network request): called from the command, it
 * keeps the prompt back and ignores typed input until console_release(), which prints the prompt.
 * The operation must end in bounded time and then release.
 */
void console_hold(struct console *con);
void console_release(struct console *con);

/*
 * From now on, commands not marked CONSOLE_QUICK and read or burst callbacks not marked
 * CONSOLE_INLINE go to fn instead of running in the console's task, one at a time. While one is
 * out the prompt stays back; typed input waits (console_wants_input) for CONSOLE_BUSY_ANSWER_MS,
 * so a command and what is pasted after it stay in order; after that, lines are read: quick
 * commands run at once and the others wait (up to CONSOLE_AHEAD_MAX bytes; beyond, the input
 * waits where it is) to run in order when the work is done. Ctrl-C drops what waits. NULL:
 * everything runs here.
 */
void console_set_runner(struct console *con, console_runner_fn fn, void *ctx);
/* Run the work that was handed over (in the runner's context, where waiting is allowed). */
void console_work_run(struct console *con);
/* Back in the console's task, after console_work_run: prompt, and take input again. */
void console_work_done(struct console *con);
/* Whether the caller should feed typed bytes now (false: leave them where they are waiting). */
bool console_wants_input(struct console *con, uint64_t now_ms);

void console_write(struct console *con, const char *buf, size_t len);
void console_puts(struct console *con, const char *s);
void console_printf(struct console *con, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints "error: " + message + newline and counts it. */
void console_error(struct console *con, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print every command with its usage and help. */
void console_print_help(struct console *con);
/* Print the commands whose names start with the words in argv ("acl", "acl grant");
 * -ENOENT (nothing printed) when none does. */
int console_print_help_for(struct console *con, int argc, char **argv);

#endif
