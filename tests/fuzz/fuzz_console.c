/*
 * tests/fuzz/fuzz_console.c — arbitrary bytes, with pauses, into the console line editor and a
 * paste reader built the way firmware/app's is.
 *
 * The input is keystrokes and pastes; two byte values steer a fake clock instead: 0xFE n lets
 * n * 4 ms pass (enough to end a burst), 0xFD n lets n seconds pass (enough for the paste
 * time-out), each with the console's tick. Other bytes go to console_feed in chunks of up to 64,
 * as the console task takes them. The commands are a recorder, "paste" (a block ending at
 * "-----END T-----"; an END line of another label or text after the block refuses it and
 * discards the rest of the burst, as Ctrl-C does) and "login" (a secret prompt).
 *
 * Checked after every step: the line buffer stays within CONSOLE_LINE_MAX and NUL-terminated at
 * dispatch; no command runs while a paste is open, while the console swallows a burst, or from
 * bytes of the burst in which a paste was refused or cancelled (that is, before a quiet gap);
 * a paste open past its time-out has been cancelled; cancellations carry a reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/console/console.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct console con;
static uint64_t now_ms;
static uint64_t last_rx_ms;
static bool paste_open;     /* the reader takes lines (also after its END line) */
static bool paste_ended;    /* its END line came: only blank lines may follow */
static bool tainted;        /* a paste was refused or cancelled; no quiet gap since */
static uint64_t read_since; /* when the open paste last got input */
static char block[4096];
static size_t block_len;
static unsigned runs;

static void check(int ok)
{
    if (!ok)
        abort();
}

static void sink(void *ctx, const char *buf, size_t len)
{
    (void)ctx;
    check(buf != NULL || len == 0);
}

static void paste_line(struct console *c, const char *line, size_t len, void *ctx);

static void paste_quiet(struct console *c, void *ctx)
{
    (void)c;
    (void)ctx;
    check(paste_open && paste_ended);
    check(now_ms - last_rx_ms >= CONSOLE_QUIET_MS);
    paste_open = paste_ended = false;
    memset(block, 0, block_len);
    block_len = 0;
}

static void paste_refuse(struct console *c, uint32_t lines)
{
    paste_open = paste_ended = false;
    tainted = true;
    block_len = 0;
    console_discard(c, lines);
}

static void paste_line(struct console *c, const char *line, size_t len, void *ctx)
{
    (void)ctx;
    check(paste_open);
    if (!line) {
        enum console_cancel why = console_cancel_reason(c);
        check(why == CONSOLE_CANCEL_CTRL_C || why == CONSOLE_CANCEL_TIMEOUT ||
              why == CONSOLE_CANCEL_TOO_LONG);
        if (why == CONSOLE_CANCEL_TIMEOUT) {
            check(now_ms - read_since >= CONSOLE_READ_TIMEOUT_MS);
            paste_open = paste_ended = false;
            block_len = 0;
        } else {
            paste_refuse(c, 0); /* too long: the console discards already; again is harmless */
        }
        return;
    }
    check(len <= CONSOLE_LINE_MAX && line[len] == '\0' && strlen(line) == len);
    read_since = now_ms;
    bool blank = len == strspn(line, " \t");
    if (paste_ended) {
        if (!blank) {
            paste_refuse(c, 1);
            return;
        }
    } else if (len >= 9 && memcmp(line, "-----END ", 9) == 0 && strcmp(line, "-----END T-----")) {
        paste_refuse(c, 1);
        return;
    } else if (len + 1 > sizeof(block) - block_len) {
        paste_refuse(c, 1);
        return;
    } else {
        memcpy(block + block_len, line, len);
        block_len += len;
        block[block_len++] = '\n';
        paste_ended = strcmp(line, "-----END T-----") == 0;
    }
    check(console_read_line(c, "", CONSOLE_TIMEOUT, paste_line, NULL) == 0);
    if (paste_ended)
        console_after_burst(c, paste_quiet, NULL);
}

static int cmd_paste(struct console *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    check(!paste_open);
    paste_open = true;
    paste_ended = false;
    read_since = now_ms;
    block_len = 0;
    return console_read_line(c, "", CONSOLE_TIMEOUT, paste_line, NULL);
}

static void pin_line(struct console *c, const char *line, size_t len, void *ctx)
{
    (void)c;
    (void)ctx;
    check(!line || (len <= CONSOLE_LINE_MAX && line[len] == '\0'));
}

static int cmd_login(struct console *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return console_read_line(c, "PIN: ", CONSOLE_SECRET, pin_line, NULL);
}

static int cmd_record(struct console *c, int argc, char **argv)
{
    (void)c;
    /* Nothing from a paste's burst reaches the command table. */
    check(!paste_open && !tainted && !con.discarding);
    check(argc >= 0 && argc < CONSOLE_ARGS_MAX);
    for (int i = 0; i < argc; i++)
        check(strlen(argv[i]) <= CONSOLE_LINE_MAX);
    runs++;
    return 0;
}

static int cmd_priv(struct console *c, int argc, char **argv)
{
    (void)argv;
    check(!paste_open && !tainted);
    console_set_privileged(c, argc > 0);
    return 0;
}

static const struct console_cmd cmds[] = {
    {"paste", "", "", cmd_paste, 0, 0, 0},
    {"login", "", "", cmd_login, 0, 0, 0},
    {"priv", "[on]", "", cmd_priv, 0, 1, 0},
    {"acl grant", "FP NAME", "", cmd_record, 2, 2, CONSOLE_NEEDS_LOGIN},
    {"a", "[x...]", "", cmd_record, 0, CONSOLE_ARGS_MAX - 1, 0},
    {"b", "", "", cmd_record, 0, 0, 0},
};

static void invariants(void)
{
    check(con.len <= CONSOLE_LINE_MAX);
    check(con.esc <= 2);
    check(block_len <= sizeof(block));
    if (!paste_open)
        check(con.read_fn != paste_line);
    /* A paste left open past its time-out has been cancelled by the tick. */
    if (paste_open && !paste_ended && !con.discarding && !con.quiet_fn) {
        uint64_t last = read_since > last_rx_ms ? read_since : last_rx_ms;
        check(now_ms - last < CONSOLE_READ_TIMEOUT_MS + 1000);
    }
}

static void feed(const uint8_t *p, size_t n)
{
    if (n == 0)
        return;
    if (now_ms - last_rx_ms >= CONSOLE_QUIET_MS)
        tainted = false; /* a pause: what comes now is typed anew */
    console_feed(&con, (const char *)p, n, now_ms);
    last_rx_ms = now_ms;
    invariants();
}

static void pass(uint64_t ms)
{
    uint64_t end = now_ms + ms;
    while (now_ms < end) {
        now_ms += end - now_ms < CONSOLE_TICK_MS ? end - now_ms : CONSOLE_TICK_MS;
        console_tick(&con, now_ms);
        if (now_ms - last_rx_ms >= CONSOLE_QUIET_MS)
            tainted = false;
        invariants();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t start = 0;

    console_init(&con, sink, NULL);
    check(console_add_commands(&con, cmds, sizeof(cmds) / sizeof(cmds[0])) == 0);
    now_ms = 1000000;
    last_rx_ms = 0;
    paste_open = paste_ended = tainted = false;
    block_len = 0;
    for (size_t i = 0; i < size; i++) {
        if (data[i] != 0xFE && data[i] != 0xFD && i - start < 64)
            continue;
        if (data[i] != 0xFE && data[i] != 0xFD) {
            feed(data + start, i - start);
            start = i;
            continue;
        }
        feed(data + start, i - start);
        uint64_t n = i + 1 < size ? data[i + 1] : 1;
        pass(data[i] == 0xFE ? n * 4 : n * 1000);
        i++;
        start = i + 1;
    }
    if (start < size)
        feed(data + start, size - start);
    pass(2 * CONSOLE_QUIET_MS);
    check(!con.discarding && !con.quiet_fn);
    (void)runs;
    return 0;
}
