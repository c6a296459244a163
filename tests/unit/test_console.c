#define _GNU_SOURCE /* memmem */
#include "firmware/console/console.h"

#include <errno.h>
#include <stdlib.h>

#include "unit.h"

static char out[1 << 16];
static size_t out_len;
static struct console con;
static char ran[256];
static int pin_calls;
static char pin_seen[64];
static int pin_cancelled;
static uint64_t now_ms = 1000; /* the fake clock */
/* the paste-like reader: lines it got, how it ended */
static char pasted[1024];
static int paste_quiet_calls;
static enum console_cancel paste_cancel;

static void capture(void *ctx, const char *buf, size_t len)
{
    (void)ctx;
    if (out_len + len < sizeof(out)) {
        memcpy(out + out_len, buf, len);
        out_len += len;
        out[out_len] = '\0';
    }
}

static int cmd_record(struct console *c, int argc, char **argv)
{
    (void)c;
    strcat(ran, "[");
    for (int i = 0; i < argc; i++) {
        strcat(ran, argv[i]);
        if (i + 1 < argc)
            strcat(ran, ",");
    }
    strcat(ran, "]");
    return 0;
}

static void pin_done(struct console *c, const char *line, size_t len, void *ctx)
{
    (void)c;
    (void)ctx;
    pin_calls++;
    if (!line) {
        pin_cancelled = 1;
        return;
    }
    memcpy(pin_seen, line, len < sizeof(pin_seen) - 1 ? len : sizeof(pin_seen) - 1);
}

static int cmd_login(struct console *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return console_read_line(c, "PIN: ", CONSOLE_SECRET, pin_done, NULL);
}

static int cmd_slow(struct console *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    strcat(ran, "[slow]");
    console_hold(c);
    return 0;
}

static void paste_line(struct console *c, const char *line, size_t len, void *ctx);

static void paste_quiet(struct console *c, void *ctx)
{
    (void)c;
    (void)ctx;
    paste_quiet_calls++;
}

/* Reads lines to "END", then waits for the burst to end; "BAD" refuses and discards the rest. */
static void paste_line(struct console *c, const char *line, size_t len, void *ctx)
{
    (void)ctx;
    if (!line) {
        paste_cancel = console_cancel_reason(c);
        if (paste_cancel == CONSOLE_CANCEL_CTRL_C)
            console_discard(c, 0);
        return;
    }
    strcat(pasted, "<");
    strncat(pasted, line, len);
    strcat(pasted, ">");
    if (len == 3 && memcmp(line, "BAD", 3) == 0) {
        console_discard(c, 1);
        return;
    }
    (void)console_read_line(c, "", CONSOLE_TIMEOUT, paste_line, NULL);
    if (len == 3 && memcmp(line, "END", 3) == 0)
        console_after_burst(c, paste_quiet, NULL);
}

static int cmd_paste(struct console *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return console_read_line(c, "", CONSOLE_TIMEOUT, paste_line, NULL);
}

/* The runner under test: takes the work and keeps it until the test lets it run. */
static int handed;
static int runner_refuses;

static int take_work(struct console *c, void *ctx)
{
    (void)c;
    (void)ctx;
    if (runner_refuses)
        return -ENOSPC;
    handed++;
    return 0;
}

/* The worker runs what it was handed, then the console's task hears it is done. */
static void finish_work(void)
{
    console_work_run(&con);
    console_work_done(&con);
}

static int cmd_paste_inline(struct console *c, int argc, char **argv);

static const struct console_cmd cmds[] = {
    {"paste", "", "paste a block", cmd_paste, 0, 0, 0},
    {"ipaste", "", "paste a block, lines collected inline", cmd_paste_inline, 0, 0, 0},
    {"quick", "", "never waits", cmd_record, 0, 0, CONSOLE_QUICK},
    {"slow", "", "finishes later", cmd_slow, 0, 0, 0},
    {"status", "", "state", cmd_record, 0, 0, 0},
    {"time show", "", "show", cmd_record, 0, 0, 0},
    {"time set", "ISO8601", "set", cmd_record, 1, 1, 0},
    {"login", "", "log in", cmd_login, 0, 0, 0},
    {"key generate", "[alg]", "make a key", cmd_record, 0, 1, CONSOLE_NEEDS_LOGIN},
};

/* Like paste_line, but the lines are only collected (CONSOLE_INLINE), as the real pastes do. */
static void ipaste_line(struct console *c, const char *line, size_t len, void *ctx)
{
    (void)ctx;
    if (!line)
        return;
    strcat(pasted, "<");
    strncat(pasted, line, len);
    strcat(pasted, ">");
    (void)console_read_line(c, "", CONSOLE_TIMEOUT | CONSOLE_INLINE, ipaste_line, NULL);
    if (len == 3 && memcmp(line, "END", 3) == 0)
        console_after_burst(c, paste_quiet, NULL);
}

static int cmd_paste_inline(struct console *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return console_read_line(c, "", CONSOLE_TIMEOUT | CONSOLE_INLINE, ipaste_line, NULL);
}

static void setup(void)
{
    handed = 0;
    runner_refuses = 0;
    out_len = 0;
    out[0] = '\0';
    ran[0] = '\0';
    pin_calls = 0;
    pin_cancelled = 0;
    memset(pin_seen, 0, sizeof(pin_seen));
    pasted[0] = '\0';
    paste_quiet_calls = 0;
    paste_cancel = 0;
    now_ms = 1000;
    console_init(&con, capture, NULL);
    console_add_commands(&con, cmds, sizeof(cmds) / sizeof(cmds[0]));
}

static void type(const char *s)
{
    console_feed(&con, s, strlen(s), now_ms);
}

/* Time passes with the console task's tick running. */
static void pause_ms(uint64_t ms)
{
    uint64_t end = now_ms + ms;
    while (now_ms < end) {
        now_ms += now_ms + 50 < end ? 50 : end - now_ms;
        console_tick(&con, now_ms);
    }
}

TEST(unknown_command_error_is_exact)
{
    setup();
    type("frob 1 2\r");
    CHECK_STR(out, "frob 1 2\r\nerror: unknown command 'frob' (try help)\r\nsignet> ");
    CHECK_STR(ran, "");
}

TEST(multi_word_commands_and_arguments)
{
    setup();
    type("time set 2026-01-01T00:00:00Z\r");
    CHECK_STR(ran, "[2026-01-01T00:00:00Z]");
    type("  time   show  \r");
    CHECK_STR(ran, "[2026-01-01T00:00:00Z][]");
    out_len = 0;
    type("time set\r");
    CHECK(strstr(out, "error: usage: time set ISO8601\r\n") != NULL);
    out_len = 0;
    type("time\r");
    CHECK(strstr(out, "error: 'time' needs one of: show set\r\n") != NULL);
    out_len = 0;
    type("timex\r");
    CHECK(strstr(out, "error: unknown command 'timex' (try help)") != NULL);
}

TEST(cr_lf_and_crlf_each_end_one_line)
{
    setup();
    type("status\r");
    type("status\n");
    type("status\r\n");
    type("status\n\r"); /* LF then a CR that starts (and ends) an empty line */
    CHECK_STR(ran, "[][][][]");
    CHECK_EQ(con.lines, 5);
}

TEST(backspace_edits_and_echoes)
{
    setup();
    type("statuz\x7fs\r");
    CHECK_STR(ran, "[]");
    CHECK(strstr(out, "statuz\b \bs") != NULL);
    setup();
    type("\x08\x08status\r"); /* backspace on an empty line does nothing */
    CHECK_STR(ran, "[]");
}

TEST(ctrl_c_cancels_the_line)
{
    setup();
    type("status\x03");
    CHECK_STR(ran, "");
    CHECK_STR(out, "status^C\r\nsignet> ");
    type("\r");
    CHECK_STR(ran, "");
}

TEST(escape_sequences_are_swallowed)
{
    setup();
    type("sta\x1b[Atus\x1b[3~\r");
    CHECK_STR(ran, "[]");
}

TEST(line_at_limit_accepted_one_more_refused)
{
    char line[CONSOLE_LINE_MAX + 3];

    setup();
    memset(line, 'a', CONSOLE_LINE_MAX);
    line[CONSOLE_LINE_MAX] = '\r';
    line[CONSOLE_LINE_MAX + 1] = '\0';
    type(line);
    CHECK(strstr(out, "error: unknown command 'aaaa") != NULL);
    CHECK(strstr(out, "too long") == NULL);
    setup();
    memcpy(line, "status ", 7);
    memset(line + 7, 'b', CONSOLE_LINE_MAX - 6);
    line[CONSOLE_LINE_MAX + 1] = '\r';
    line[CONSOLE_LINE_MAX + 2] = '\0';
    type(line);
    CHECK(strstr(out, "error: line too long (max 256 characters)") != NULL);
    CHECK_STR(ran, "");
    pause_ms(CONSOLE_QUIET_MS);
    type("status\r");
    CHECK_STR(ran, "[]");
}

TEST(megabyte_without_newline_then_still_works)
{
    size_t n = 1 << 20;
    char *junk = malloc(n);

    CHECK(junk != NULL);
    setup();
    memset(junk, 'z', n);
    console_feed(&con, junk, n, now_ms);
    free(junk);
    type("\r");
    CHECK_EQ(con.errors, 1);
    pause_ms(CONSOLE_QUIET_MS);
    type("status\r");
    CHECK_STR(ran, "[]");
}

TEST(secret_prompt_does_not_echo_and_is_wiped)
{
    setup();
    type("login\r");
    CHECK(strstr(out, "PIN: ") != NULL);
    size_t before = out_len;
    type("s3cr3t-pin\r");
    CHECK_EQ(pin_calls, 1);
    CHECK_STR(pin_seen, "s3cr3t-pin");
    CHECK(strstr(out + before, "s3cr3t") == NULL);
    CHECK(strstr(out, "s3cr3t") == NULL);
    CHECK(memmem(con.line, sizeof(con.line), "s3cr3t", 6) == NULL);
    CHECK_STR(out + out_len - 8, "signet> ");
}

TEST(ctrl_c_at_secret_prompt_cancels)
{
    setup();
    type("login\r");
    type("12\x03");
    CHECK_EQ(pin_calls, 1);
    CHECK(pin_cancelled);
    CHECK(memmem(con.line, sizeof(con.line), "12", 2) == NULL);
    type("status\r");
    CHECK_STR(ran, "[]");
}

TEST(login_required_commands_and_prompt)
{
    setup();
    type("key generate rsa2048\r");
    CHECK(strstr(out, "error: 'key generate' needs login first") != NULL);
    CHECK_STR(ran, "");
    console_set_privileged(&con, true);
    out_len = 0;
    type("key generate rsa2048\r");
    CHECK_STR(ran, "[rsa2048]");
    CHECK_STR(out + out_len - 8, "signet# ");
}

TEST(too_many_words_refused)
{
    setup();
    type("status a b c d e f g h i j k l m n o p q\r");
    CHECK(strstr(out, "error: too many words") != NULL);
    CHECK_STR(ran, "");
}

TEST(held_console_defers_the_prompt_and_ignores_input)
{
    setup();
    type("slow\rstatus\r");
    CHECK_STR(ran, "[slow]"); /* typed while held: not run */
    CHECK(strstr(out, "signet> ") == NULL);
    type("status\r");
    CHECK_STR(ran, "[slow]");
    console_puts(&con, "done\n");
    console_release(&con);
    CHECK_STR(out, "slow\r\ndone\r\nsignet> ");
    type("status\r");
    CHECK_STR(ran, "[slow][]");
    console_release(&con); /* not held: nothing happens */
    CHECK_STR(out + out_len - 8, "signet> ");
}

TEST(cut_escape_sequence_lets_enter_and_ctrl_c_act)
{
    setup();
    type("\x1b[\rstatus\r");
    CHECK_STR(ran, "[]");
    type("\x1b\rstatus\r");
    CHECK_STR(ran, "[][]");
    type("stat\x1b[1\x03status\r");
    CHECK(strstr(out, "stat^C\r\n") != NULL);
    CHECK_STR(ran, "[][][]");
    type("\x1b[1;5Dstatus\r"); /* a whole sequence is still swallowed */
    CHECK_STR(ran, "[][][][]");
}

TEST(overlong_line_discards_the_rest_of_its_burst)
{
    char line[CONSOLE_LINE_MAX + 40];

    setup();
    memset(line, 'x', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0';
    type(line);
    type("\rstatus\rtime show\rstat");
    CHECK_STR(ran, "");
    CHECK(strstr(out, "signet> ") == NULL); /* no prompt while swallowing */
    pause_ms(CONSOLE_QUIET_MS - 1);
    type("us\r"); /* still the same burst: less than the quiet interval since the last byte */
    CHECK_STR(ran, "");
    pause_ms(CONSOLE_QUIET_MS);
    CHECK(strstr(out, "discarded 3 pasted lines; none of them ran\r\nsignet> ") != NULL);
    type("status\r");
    CHECK_STR(ran, "[]");
}

TEST(a_stalled_caller_does_not_end_a_swallowed_burst)
{
    char line[CONSOLE_LINE_MAX + 40];

    setup();
    memset(line, 'x', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0';
    type(line);
    type("\r");
    /* The console task was held up for a second (no ticks); the rest of the paste waited. */
    now_ms += 1000;
    console_continue_burst(&con, now_ms);
    type("status\r");
    CHECK_STR(ran, "");
    pause_ms(CONSOLE_QUIET_MS);
    CHECK(strstr(out, "discarded 1 pasted line; none of them ran") != NULL);
    type("status\r");
    CHECK_STR(ran, "[]");
}

TEST(overlong_line_at_a_prompt_cancels_it_and_discards)
{
    char line[CONSOLE_LINE_MAX + 2];

    setup();
    type("paste\r");
    memset(line, 'x', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0';
    type(line);
    type("\rEND\rstatus\r");
    CHECK_EQ(paste_cancel, CONSOLE_CANCEL_TOO_LONG);
    CHECK_STR(pasted, "");
    CHECK_STR(ran, "");
    /* The next bytes after a pause end the burst first, even before a tick. */
    now_ms += CONSOLE_QUIET_MS;
    type("status\r");
    CHECK(strstr(out, "discarded 2 pasted lines; none of them ran") != NULL);
    CHECK_STR(ran, "[]");
}

TEST(ctrl_c_in_a_paste_and_refusal_discard_the_burst)
{
    setup();
    type("paste\rline1\r\x03status\rtime set x\r\r  \rstat");
    CHECK_EQ(paste_cancel, CONSOLE_CANCEL_CTRL_C);
    CHECK_STR(pasted, "<line1>");
    CHECK_STR(ran, "");
    pause_ms(CONSOLE_QUIET_MS);
    /* blank lines are not counted; the unterminated last one is */
    CHECK(strstr(out, "discarded 3 pasted lines; none of them ran") != NULL);
    CHECK_STR(ran, "");
    setup();
    type("paste\rBAD\rstatus\r");
    pause_ms(CONSOLE_QUIET_MS);
    CHECK(strstr(out, "discarded 2 pasted lines") != NULL);
    CHECK_STR(ran, "");
    type("status\r");
    CHECK_STR(ran, "[]");
}

TEST(after_burst_sees_what_follows_then_fires_once_quiet)
{
    setup();
    type("paste\rA\rEND\r\rtrailing");
    CHECK_STR(pasted, "<A><END><>");
    CHECK_EQ(paste_quiet_calls, 0);
    pause_ms(CONSOLE_QUIET_MS - 50);
    CHECK_EQ(paste_quiet_calls, 0);
    pause_ms(50);
    /* the unterminated line belonged to the burst: the reader saw it before the end */
    CHECK_STR(pasted, "<A><END><><trailing>");
    CHECK_EQ(paste_quiet_calls, 1);
    CHECK(con.read_fn == NULL);
    CHECK_STR(out + out_len - 8, "signet> ");
    type("status\r");
    CHECK_STR(ran, "[]");
    pause_ms(CONSOLE_QUIET_MS);
    CHECK_EQ(paste_quiet_calls, 1);
}

TEST(paste_prompt_times_out_without_input)
{
    setup();
    type("paste\r");
    pause_ms(CONSOLE_READ_TIMEOUT_MS - 100);
    type("par"); /* input, even a partial line, restarts the wait */
    pause_ms(CONSOLE_READ_TIMEOUT_MS - 100);
    CHECK_EQ(paste_cancel, 0);
    pause_ms(200);
    CHECK_EQ(paste_cancel, CONSOLE_CANCEL_TIMEOUT);
    CHECK(con.read_fn == NULL);
    CHECK(con.len == 0);
    CHECK_STR(out + out_len - 8, "signet> ");
    type("status\r");
    CHECK_STR(ran, "[]");
    /* a prompt that did not ask for it (a PIN) waits */
    type("login\r");
    pause_ms(2 * CONSOLE_READ_TIMEOUT_MS);
    CHECK(con.read_fn != NULL);
    CHECK_EQ(pin_calls, 0);
}

TEST(help_for_prints_commands_starting_with_the_words)
{
    char w1[] = "time", w2[] = "set", w3[] = "tim", w4[] = "nosuch";
    char *a[] = {w1, w2};

    setup();
    CHECK_EQ(console_print_help_for(&con, 1, a), 0);
    CHECK(strstr(out, "time show") != NULL && strstr(out, "time set ISO8601") != NULL);
    CHECK(strstr(out, "status") == NULL);
    out_len = 0;
    out[0] = '\0';
    CHECK_EQ(console_print_help_for(&con, 2, a), 0);
    CHECK(strstr(out, "time set") != NULL && strstr(out, "time show") == NULL);
    out_len = 0;
    out[0] = '\0';
    a[0] = w3;
    CHECK_EQ(console_print_help_for(&con, 1, a), -ENOENT); /* whole words only */
    a[0] = w4;
    CHECK_EQ(console_print_help_for(&con, 1, a), -ENOENT);
    CHECK_EQ(out_len, 0);
}

TEST(runner_takes_commands_and_keeps_the_prompt_until_done)
{
    setup();
    console_set_runner(&con, take_work, NULL);
    type("time set 2026-01-01T00:00:00Z\r");
    CHECK_EQ(handed, 1);
    CHECK_STR(ran, "");                     /* not run in the console's task */
    CHECK(strstr(out, "signet> ") == NULL); /* no prompt while it is out */
    finish_work();
    CHECK_STR(ran, "[2026-01-01T00:00:00Z]");
    CHECK(strstr(out, "signet> ") != NULL);
    /* A quick command runs here and now. */
    type("quick\r");
    CHECK_EQ(handed, 1);
    CHECK_STR(ran, "[2026-01-01T00:00:00Z][]");
}

TEST(input_waits_while_work_is_out_then_quick_commands_answer)
{
    setup();
    console_set_runner(&con, take_work, NULL);
    type("status\r");
    CHECK_EQ(handed, 1);
    /* Just handed over: what follows it waits, so a command and its paste stay in order. */
    CHECK(!console_wants_input(&con, now_ms + CONSOLE_BUSY_ANSWER_MS - 1));
    now_ms += CONSOLE_BUSY_ANSWER_MS;
    CHECK(console_wants_input(&con, now_ms));
    out_len = 0;
    type("quick\r");
    CHECK_STR(ran, "[]"); /* answered while the other is out */
    CHECK(strstr(out, "signet> ") != NULL);
    /* Anything else waits its turn, in order, and runs once the work is done. */
    type("time show\r");
    type("time set X\r");
    CHECK_EQ(handed, 1);
    CHECK(strstr(out, "error") == NULL);
    finish_work();
    CHECK_STR(ran, "[][]"); /* the quick one, then the status that was out */
    CHECK_EQ(handed, 2);    /* time show, handed over in its turn */
    CHECK(con.busy);
    finish_work();
    CHECK_EQ(handed, 3);
    finish_work();
    CHECK_STR(ran, "[][][][X]");
    CHECK(!con.busy && con.ahead_len == 0);
    CHECK(console_wants_input(&con, now_ms));
}

TEST(a_line_half_typed_when_the_work_ends_is_kept)
{
    setup();
    console_set_runner(&con, take_work, NULL);
    type("status\r");
    now_ms += CONSOLE_BUSY_ANSWER_MS;
    CHECK(console_wants_input(&con, now_ms));
    type("time set A\rtime se");
    finish_work(); /* status done; "time set A" handed over; "time se" still being typed */
    CHECK_EQ(handed, 2);
    type("t B\r");
    finish_work();
    CHECK_EQ(handed, 3);
    finish_work();
    CHECK_STR(ran, "[][A][B]");
}

TEST(ctrl_c_drops_what_was_typed_ahead)
{
    setup();
    console_set_runner(&con, take_work, NULL);
    type("status\r");
    now_ms += CONSOLE_BUSY_ANSWER_MS;
    CHECK(console_wants_input(&con, now_ms));
    type("time set X\r\x03");
    CHECK_EQ(con.ahead_len, 0);
    finish_work();
    CHECK_EQ(handed, 1);
    CHECK_STR(ran, "[]");
}

TEST(typed_ahead_input_waits_when_the_room_is_full)
{
    char line[CONSOLE_LINE_MAX + 2];

    setup();
    console_set_runner(&con, take_work, NULL);
    type("status\r");
    now_ms += CONSOLE_BUSY_ANSWER_MS;
    memset(line, 'x', CONSOLE_LINE_MAX);
    line[CONSOLE_LINE_MAX] = '\r';
    line[CONSOLE_LINE_MAX + 1] = '\0';
    int fed = 0;
    while (console_wants_input(&con, now_ms) && fed < 100) {
        type(line);
        fed++;
    }
    CHECK(fed >= 3 && fed < 100);
    CHECK(con.ahead_len <= sizeof(con.ahead));
}

TEST(a_pin_goes_to_the_runner_and_leaves_no_copy)
{
    setup();
    console_set_runner(&con, take_work, NULL);
    type("login\r");
    finish_work(); /* the command only asks for the PIN */
    CHECK(strstr(out, "PIN: ") != NULL);
    type("s3cr3t\r");
    CHECK_EQ(handed, 2);
    CHECK_EQ(pin_calls, 0);
    CHECK(strstr(out, "s3cr3t") == NULL);
    CHECK(memmem(con.line, sizeof(con.line), "s3cr3t", 6) == NULL);
    finish_work();
    CHECK_EQ(pin_calls, 1);
    CHECK_STR(pin_seen, "s3cr3t");
    CHECK(memmem(&con, sizeof(con), "s3cr3t", 6) == NULL);
}

TEST(inline_reads_collect_and_the_burst_end_is_handed_over)
{
    setup();
    console_set_runner(&con, take_work, NULL);
    type("ipaste\r");
    finish_work();
    type("A\rEND\r");
    CHECK_STR(pasted, "<A><END>");
    CHECK_EQ(handed, 1);
    pause_ms(CONSOLE_QUIET_MS + 100);
    CHECK_EQ(handed, 2); /* the import, at the end of the burst */
    CHECK_EQ(paste_quiet_calls, 0);
    finish_work();
    CHECK_EQ(paste_quiet_calls, 1);
    CHECK(strstr(out, "signet> ") != NULL);
}

TEST(a_runner_that_cannot_take_work_says_so)
{
    setup();
    console_set_runner(&con, take_work, NULL);
    runner_refuses = 1;
    type("status\r");
    CHECK(strstr(out, "error: 'status' could not start") != NULL);
    CHECK(!con.busy);
    CHECK(strstr(out, "signet> ") != NULL);
}

int main(void)
{
    RUN(unknown_command_error_is_exact);
    RUN(multi_word_commands_and_arguments);
    RUN(cr_lf_and_crlf_each_end_one_line);
    RUN(backspace_edits_and_echoes);
    RUN(ctrl_c_cancels_the_line);
    RUN(escape_sequences_are_swallowed);
    RUN(line_at_limit_accepted_one_more_refused);
    RUN(megabyte_without_newline_then_still_works);
    RUN(secret_prompt_does_not_echo_and_is_wiped);
    RUN(ctrl_c_at_secret_prompt_cancels);
    RUN(login_required_commands_and_prompt);
    RUN(too_many_words_refused);
    RUN(held_console_defers_the_prompt_and_ignores_input);
    RUN(cut_escape_sequence_lets_enter_and_ctrl_c_act);
    RUN(overlong_line_discards_the_rest_of_its_burst);
    RUN(a_stalled_caller_does_not_end_a_swallowed_burst);
    RUN(overlong_line_at_a_prompt_cancels_it_and_discards);
    RUN(ctrl_c_in_a_paste_and_refusal_discard_the_burst);
    RUN(after_burst_sees_what_follows_then_fires_once_quiet);
    RUN(paste_prompt_times_out_without_input);
    RUN(help_for_prints_commands_starting_with_the_words);
    RUN(runner_takes_commands_and_keeps_the_prompt_until_done);
    RUN(input_waits_while_work_is_out_then_quick_commands_answer);
    RUN(a_line_half_typed_when_the_work_ends_is_kept);
    RUN(ctrl_c_drops_what_was_typed_ahead);
    RUN(typed_ahead_input_waits_when_the_room_is_full);
    RUN(a_pin_goes_to_the_runner_and_leaves_no_copy);
    RUN(inline_reads_collect_and_the_burst_end_is_handed_over);
    RUN(a_runner_that_cannot_take_work_says_so);
    return unit_summary();
}
