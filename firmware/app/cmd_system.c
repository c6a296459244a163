/* Console commands about the appliance itself: help, status, version, time, reboot. */
#include "core.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "crypto/p11/p11_client.h"
#include "firmware/app/token_work.h"
#include "firmware/app/version.h"
#include "lib/civil_time.h"
#include "hal/clock.h"
#include "hal/uart.h"
#include "hal/wdt.h"

static struct app *app_of(struct console *con)
{
    return con->user;
}

static int cmd_help(struct console *con, int argc, char **argv)
{
    if (argc > 0) {
        if (console_print_help_for(con, argc, argv) == 0)
            return 0;
        char words[CONSOLE_LINE_MAX + 1];
        size_t n = 0;
        /* The words come from one console line, so they fit in one again. */
        for (int i = 0; i < argc; i++) {
            int w = snprintf(words + n, sizeof(words) - n, "%s%s", i ? " " : "", argv[i]);
            if (w < 0 || (size_t)w >= sizeof(words) - n)
                break;
            n += (size_t)w;
        }
        console_error(con, "no command starts with '%.64s' (try help)", words);
        return -ENOENT;
    }
    console_puts(con, "Commands:\n");
    console_print_help(con);
    console_puts(con, "Keys: Backspace edits, Ctrl-C cancels the line.\n");
    return 0;
}

static int cmd_version(struct console *con, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    console_printf(con, "signet %s build %s board %s\n", SIGNET_VERSION, SIGNET_BUILD_ID,
                   hal_board_name());
    return 0;
}

static void print_wall(struct console *con, const char *label)
{
    int64_t now;
    char iso[CIVIL_ISO8601_LEN + 1];

    if (hal_clock_wall_get(&now) != 0) {
        console_printf(con, "%sunavailable (RTC read failed)\n", label);
        return;
    }
    civil_format_iso8601(now, iso);
    console_printf(con, "%s%s\n", label, iso);
}

#if SIGNET_HAS_NET
/* The HTTPS handshake fibers (tls_fibers.h): how many wait for the token, the deepest stack. */
static void print_tls_fibers(struct console *con, const struct app *app)
{
    unsigned parked = 0;
    unsigned long runs = 0, calls = 0, used = 0;

    for (size_t i = 0; i < APP_TLS_FIBERS; i++) {
        const struct tls_fiber *f = &app->tls_fibers[i];
        size_t u = k_fiber_stack_used(&f->task);
        parked += f->fiber.parked;
        runs += f->runs;
        calls += f->token_calls;
        if (u > used)
            used = (unsigned long)u;
    }
    console_printf(con,
                   "tls fibers: %u of %u waiting for the token, %lu steps, %lu token calls; "
                   "stack %lu of %lu bytes used\n",
                   parked, (unsigned)APP_TLS_FIBERS, runs, calls, used,
                   (unsigned long)sizeof(app->tls_fibers[0].stack));
}
#endif

static int cmd_status(struct console *con, int argc, char **argv)
{
    struct app *app = app_of(con);
    uint64_t up = (hal_clock_ms() - app->boot_ms) / 1000;
    struct hal_uart_stats us;
    unsigned ntasks = 0;

    (void)argc;
    (void)argv;
    console_printf(con, "board:     %s\n", hal_board_name());
    console_printf(con, "version:   %s (build %s)\n", SIGNET_VERSION, SIGNET_BUILD_ID);
    console_printf(con, "uptime:    %lud %02u:%02u:%02u\n", (unsigned long)(up / 86400),
                   (unsigned)(up / 3600 % 24), (unsigned)(up / 60 % 60), (unsigned)(up % 60));
    console_printf(con, "boot:      #%lu (reset: %s)\n", (unsigned long)app->boot_count,
                   app_reset_reason_name(app->reset_reason));
    print_wall(con, "time:      ");
#if SIGNET_HAS_NET
    char ntp_line[512];
    app_time_describe(ntp_line, sizeof(ntp_line));
    console_printf(con, "ntp:       %s\n", ntp_line);
#endif
    console_printf(con, "watchdog:  %s, %u ms\n", hal_wdt_kind(), (unsigned)APP_WDT_TIMEOUT_MS);
    if (app->nv_status)
        console_printf(con, "nv store:  unavailable (%d)\n", app->nv_status);
    else
        console_printf(con, "nv store:  bank %lu gen %lu, %lu/%lu bytes, %u records\n",
                       (unsigned long)app->nv.active, (unsigned long)app->nv.generation,
                       (unsigned long)nvstore_used(&app->nv), (unsigned long)app->nv.geo.block_size,
                       (unsigned)app->nv.nkeys);
    char audit_line[200];
    app_audit_describe(app, audit_line, sizeof(audit_line));
    console_printf(con, "audit:     %s\n", audit_line);
#if SIGNET_HAS_NET
    app_forward_describe(app, audit_line, sizeof(audit_line));
    console_printf(con, "forward:   %s\n", audit_line);
#endif
    const char *audit_warn = app_audit_warning(app);
    if (audit_warn)
        console_printf(con, "warning:   %s\n", audit_warn);
    struct p11_link_stats ls;
    p11_client_stats(&ls);
    console_printf(con,
                   "token link: %s, %lu connects, %lu calls, %lu lost (%lu timeouts), "
                   "%lu failed at once\n",
                   ls.up ? "up" : "down", (unsigned long)ls.connects, (unsigned long)ls.calls,
                   (unsigned long)ls.failures, (unsigned long)ls.timeouts,
                   (unsigned long)ls.failed_at_once);
    console_printf(con, "login:     %s%s\n", app->token.logged_in ? "yes" : "no",
                   app->token.relogins ? " (re-logged in after link loss)" : "");
    console_printf(con, "auto-login: %s%s\n", app->auto_login ? "on" : "off",
                   app->auto_login_pending ? " (waiting for the token)" : "");
    x509_time now;
    if (app_now(app, &now, NULL)) {
        enum enroll_state st = enroll_state(&app->enroll, &now);
        /* Logged in but not loaded (a link loss cut a read short): have it read again, by the
         * token task; status itself never waits for the token. */
        const char *why = NULL;
        if (st == ENROLL_UNKNOWN && app->token.logged_in)
            why = app_state_reload(app);
        if (st != ENROLL_UNKNOWN)
            console_printf(con, "enrollment: %s\n", enroll_state_name(st));
        else if (app->token.logged_in && why)
            console_printf(con,
                           "enrollment: unknown (the token is unreachable: %s; reading it "
                           "again)\n",
                           why);
        else if (app->token.logged_in)
            console_puts(con, "enrollment: unknown (reading it from the token)\n");
        else
            console_puts(con, "enrollment: unknown (log in to read it from the token)\n");
        if (app->enroll.loaded && app->enroll.slc.slc_len && !enroll_slc_current(&app->enroll))
            console_puts(con, "SLC:       the stored one is for a replaced key; enroll again\n");
        else if (app->enroll.loaded && app->enroll.slc.slc_len) {
            char until[21];
            long days = enroll_days_left(&app->enroll, &now);
            enroll_time_text(&app->enroll.info.not_after, until);
            console_printf(con, "SLC:       valid until %.10s (%ld days left)\n", until, days);
            if (days < ENROLL_RENEW_WARN_DAYS)
                console_printf(con, "warning:   the SLC %s; renew it\n",
                               days < 0 ? "has expired" : "expires soon");
        }
        /* docs/requirements.md R20: revoked from above (or a licensing server without a good
         * root CRL): firmware/revoke decides, status only says so. */
        const char *block = "";
        if (revoke_blocks_serving(&app->revoke, &now, &block))
            console_printf(con, "serving:   no: %s\n", block);
    }
    hal_uart_stats(HAL_UART_CONSOLE, &us);
    console_printf(con, "console:   %lu lines, %lu errors, %lu rx overruns\n",
                   (unsigned long)con->lines, (unsigned long)con->errors,
                   (unsigned long)us.rx_overruns);
    for (const struct k_task *t = app->sched.tasks; t; t = t->next)
        ntasks++;
    console_printf(con, "kernel:    %u tasks, %lu events, %lu idles\n", ntasks,
                   (unsigned long)app->sched.dispatched, (unsigned long)app->sched.idle_calls);
    const struct token_task *tt = &app->token_task;
    console_printf(con, "token task: %s, %u queued, %lu done; stack %lu of %lu bytes used\n",
                   !tt->running       ? "idle"
                   : tt->fiber.parked ? "a job waiting for the token"
                                      : "a job running",
                   token_task_backlog(app), (unsigned long)tt->jobs_run,
                   (unsigned long)k_fiber_stack_used(&tt->task), (unsigned long)sizeof(tt->stack));
#if SIGNET_HAS_NET
    print_tls_fibers(con, app);
#endif
    return 0;
}

static int cmd_time_show(struct console *con, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    print_wall(con, "");
#if SIGNET_HAS_NET
    char ntp_line[512];
    app_time_describe(ntp_line, sizeof(ntp_line));
    console_printf(con, "ntp: %s\n", ntp_line);
#endif
    return 0;
}

/* The clock decides which certificates are valid: every change and refusal is audited, with the
 * time it replaced. */
static int cmd_time_set(struct console *con, int argc, char **argv)
{
    struct app *app = app_of(con);
    char was[CIVIL_ISO8601_LEN + 1] = "unreadable";
    int64_t secs, old;

    (void)argc;
    if (hal_clock_wall_get(&old) == 0)
        civil_format_iso8601(old, was);
    if (civil_parse_iso8601(argv[0], strlen(argv[0]), &secs) != 0) {
        console_error(con, "bad time '%.32s' (expected YYYY-MM-DDTHH:MM:SSZ, UTC)", argv[0]);
        app_audit(app, "time set: refused: bad time '%.32s'", argv[0]);
        return -1;
    }
    if (hal_clock_wall_set(secs) != 0) {
        console_error(con, "the RTC cannot hold %s", argv[0]);
        app_audit(app, "time set: refused: the RTC cannot hold %s", argv[0]);
        return -1;
    }
    app_audit(app, "time set %s (was %s)", argv[0], was);
    print_wall(con, "time set: ");
    return 0;
}

static int cmd_reboot(struct console *con, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    console_puts(con, "rebooting\n");
    hal_board_reset(HAL_RESET_SOFTWARE);
}

const struct console_cmd app_system_cmds[] = {
    {"help", "[COMMAND]", "list commands, or those starting with COMMAND's words", cmd_help, 0,
     CONSOLE_ARGS_MAX - 1, CONSOLE_QUICK},
    {"status", "", "appliance state at a glance", cmd_status, 0, 0, CONSOLE_QUICK},
    {"version", "", "firmware version and build", cmd_version, 0, 0, CONSOLE_QUICK},
    {"time show", "", "wall-clock time (UTC)", cmd_time_show, 0, 0, CONSOLE_QUICK},
    {"time set", "ISO8601", "set the RTC, e.g. 2026-11-25T12:00:00Z", cmd_time_set, 1, 1,
     CONSOLE_NEEDS_LOGIN},
    /* No login: it is the way out when the token cannot be reached, and it changes nothing kept
     * (the RAM PIN goes; with auto-login on the next boot logs in again). */
    {"reboot", "", "restart the appliance", cmd_reboot, 0, 0, 0},
};
const unsigned app_system_cmd_count = sizeof(app_system_cmds) / sizeof(app_system_cmds[0]);
