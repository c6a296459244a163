#include "cmd.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "firmware/app/token_work.h"
#include "firmware/app/version.h"
#include "hal/clock.h"
#include "hal/eth.h"
#include "hal/uart.h"
#include "hal/wdt.h"

enum console_sig { SIG_CONSOLE_RX = 1, SIG_CONSOLE_TICK, SIG_CONSOLE_DONE };
enum house_sig { SIG_WDT_KICK = 1, SIG_EXPIRY_CHECK, SIG_AUTO_LOGIN, SIG_REVOKE_TICK };

static void console_out(void *ctx, const char *buf, size_t len)
{
    (void)ctx;
    (void)hal_uart_write_all(HAL_UART_CONSOLE, buf, len);
}

/* Interrupt context: only note that bytes are waiting. */
static void console_rx_notify(void *ctx)
{
    struct app *app = ctx;
    if (app->console_task.count == 0)
        (void)k_post(&app->console_task, SIG_CONSOLE_RX, 0);
}

/* The console is privileged exactly while the token holds an operator login. */
static bool token_logged_in(void *user)
{
    struct app *app = user;
    return app->token.logged_in;
}

static void console_handler(struct k_task *t, const struct k_event *ev)
{
    struct app *app = t->ctx;
    char buf[APP_CONSOLE_CHUNK];

    if (ev->sig == SIG_CONSOLE_DONE) {
        console_work_done(&app->con);
        return;
    }
    /* Held up longer than two ticks (a long handler of another task): what reached the ring
     * meanwhile must not look like input after a pause. */
    uint64_t now = hal_clock_ms();
    if (now - app->console_seen_ms > 2 * CONSOLE_TICK_MS)
        console_continue_burst(&app->con, now);
    app->console_seen_ms = now;
    /* The tick reads too: a notification that found a tick queued was not posted. Work just
     * handed to the token keeps what follows it waiting in the UART, in order. */
    int n =
        console_wants_input(&app->con, now) ? hal_uart_read(HAL_UART_CONSOLE, buf, sizeof(buf)) : 0;
    if (n > 0) {
        /* A chunk left over from a full read was waiting already: other tasks running in
         * between must not make it look like a pause in the input (a new burst). */
        uint64_t cap = app->console_rx_ms + CONSOLE_QUIET_MS / 4;
        app->console_rx_ms = (app->console_rx_more && now > cap) ? cap : now;
        app->console_rx_more = (size_t)n == sizeof(buf);
        console_feed(&app->con, buf, (size_t)n, app->console_rx_ms);
        /* What was typed may have been a PIN: leave no copy on the stack. */
        memset(buf, 0, sizeof(buf));
        __asm__ volatile("" ::"r"(buf) : "memory");
    } else {
        app->console_rx_more = false;
    }
    /* Bytes still waiting in the ring are part of the burst: the input is not quiet yet. */
    if (ev->sig == SIG_CONSOLE_TICK && !app->console_rx_more)
        console_tick(&app->con, hal_clock_ms());
    /* Bounded work per event: a long paste yields to other tasks between chunks. */
    if (app->console_rx_more)
        (void)k_post(t, SIG_CONSOLE_RX, 0);
}

#if SIGNET_HAS_NET
#include "net/http.h"
#include "net/http_client.h"
#include "net/net.h"
#include "net/net_port.h"
#include "net/tls.h"

/* Interrupt context: frames are waiting in the driver. Posted once until handled — by its own
 * flag, not by an empty queue: a tick or a token answer queued first must not swallow it. */
static void eth_rx_notify(void *ctx)
{
    struct app *app = ctx;
    if (!app->net_rx_kicked) {
        app->net_rx_kicked = true;
        (void)k_post(&app->net_task, APP_SIG_NET_RX, 0);
    }
}

/* Interrupt context: the token answered: a scheduler pass resumes the token task's parked fiber. */
static void hsm_rx_notify(void *ctx)
{
    app_kick_net_poll(ctx);
}

static void net_handler(struct k_task *t, const struct k_event *ev)
{
    struct app *app = t->ctx;

    if (ev->sig == APP_SIG_TLS_WAKE) {
        tls_wake();
    } else if (ev->sig == APP_SIG_NET_POLL) {
        app->net_poll_kicked = false;
        app_net_poll(app);
    } else if (ev->sig == APP_SIG_NET_RX) {
        app->net_rx_kicked = false;
        /* Frames left over: come back after the other tasks, as the console does. */
        if (net_input())
            eth_rx_notify(app);
    } else {
        net_tick();
        tls_wake(); /* in case a handshake fiber's wake found the queue full */
        http_tick((uint32_t)hal_clock_ms());
        http_client_tick((uint32_t)hal_clock_ms());
        app_crl_fetch_tick(app);
        app_time_tick(app);
        app_forward_tick(app);
        app_net_poll(app); /* a token that never answers: the link's time-out ends it */
    }
}

/* Every HTTP endpoint module's routes, then the listeners. */
static int start_http(struct app *app)
{
    int ret = service_start(app);

#if SIGNET_TEST_HOOKS
    if (!ret)
        ret = app_test_forward_start(app);
#endif
    if (!ret)
        ret = service_sign_start(app);
    if (!ret)
        ret = service_crl_start(app);
    if (!ret)
        ret = service_metrics_start(app);
    if (!ret)
        ret = http_server_start(HTTP_PLAIN_PORT, false);
    if (!ret)
        ret = http_server_start(HTTP_TLS_PORT, true);
    return ret;
}

static void start_network(struct app *app)
{
    k_task_init(&app->sched, &app->net_task, "net", 1, net_handler, app, app->net_queue,
                APP_NET_QUEUE);
    k_timer_init(&app->sched, &app->net_timer, &app->net_task, APP_SIG_NET_TICK);
    app_tls_fibers_start(app);
    hal_eth_set_notify(eth_rx_notify, app);
    hal_uart_set_notify(HAL_UART_HSM, hsm_rx_notify, app);
    /* Until the token's RNG is reachable (tls_setup.c reseeds), at least differ per boot. */
    int64_t wall = 0;
    (void)hal_clock_wall_get(&wall);
    uint64_t boot_seed[3] = {app->boot_count, (uint64_t)wall, hal_clock_ms()};
    net_port_seed((const uint8_t *)boot_seed, sizeof(boot_seed));
    struct net_config cfg;
    bool bad = false;
    app_net_config_load(app, &cfg, &bad);
    if (bad)
        console_puts(&app->con, "warning: stored network setting unreadable; using DHCP\n");
    app->net_status = net_init(&cfg);
    if (app->net_status == 0) {
        app_net_dns_load(app);
        app_time_load(app);
        app_forward_load(app);
        app_metrics_load(app);
        k_timer_start(&app->net_timer, NET_TICK_MS, NET_TICK_MS);
        app->http_status = start_http(app);
    }
    (void)console_add_commands(&app->con, app_net_cmds, app_net_cmd_count);
    (void)console_add_commands(&app->con, app_crl_fetch_cmds, app_crl_fetch_cmd_count);
#if SIGNET_TEST_HOOKS
    (void)console_add_commands(&app->con, app_test_cmds, app_test_cmd_count);
#endif
}
#endif

/* The CRL is signed by the house task, never by the one answering requests: signing a large one
 * takes a while. revoke_tick decides whether anything is due. */
static void revoke_house_tick(struct app *app)
{
    x509_time now;

    if (!app->token.logged_in || !app->revoke.loaded || !app_now(app, &now, NULL))
        return;
    bool failing = app->revoke.crl_retry_at != 0;
    revoke_tick(&app->revoke, &now);
    /* Once per run of failures, not every minute of them. */
    if (!failing && app->revoke.crl_retry_at)
        app_audit(app, "warning: could not sign the CRL (the token refused); trying again every "
                       "60 s, the previous CRL stays in force");
    else if (failing && !app->revoke.crl_retry_at)
        app_audit(app, "the CRL is signed again");
}

/* The house task's timers only submit; the token task does the work, so that a token slow to
 * answer holds up nothing but the job (and the watchdog keeps being kicked, here, on time). */

static void refresh_job(struct token_job *job)
{
    app_refresh_state(APP_OF(job, refresh_job));
}

static void auto_login_job(struct token_job *job)
{
    app_auto_login_try(APP_OF(job, auto_login_job));
}

static void revoke_job(struct token_job *job)
{
    revoke_house_tick(APP_OF(job, revoke_job));
}

static void house_handler(struct k_task *t, const struct k_event *ev)
{
    struct app *app = t->ctx;

    /* -EBUSY: the last one is still running or queued; a timer tick is not worth two. */
    if (ev->sig == SIG_WDT_KICK)
        hal_wdt_kick();
    else if (ev->sig == SIG_EXPIRY_CHECK)
        (void)token_job_submit(app, &app->refresh_job);
    else if (ev->sig == SIG_AUTO_LOGIN)
        (void)token_job_submit(app, &app->auto_login_job);
    else if (ev->sig == SIG_REVOKE_TICK)
        (void)token_job_submit(app, &app->revoke_job);
}

static void count_boot(struct app *app)
{
    uint8_t raw[4] = {0};
    size_t len = 0;
    uint32_t n = 0;

    app->nv_status = nvstore_mount(&app->nv);
    if (app->nv_status)
        return;
    if (nvstore_read(&app->nv, NV_KEY_BOOT_COUNT, raw, sizeof(raw), &len) == 0 && len == 4)
        n = (uint32_t)raw[0] | (uint32_t)raw[1] << 8 | (uint32_t)raw[2] << 16 |
            (uint32_t)raw[3] << 24;
    n++;
    raw[0] = (uint8_t)n;
    raw[1] = (uint8_t)(n >> 8);
    raw[2] = (uint8_t)(n >> 16);
    raw[3] = (uint8_t)(n >> 24);
    app->nv_status = nvstore_write(&app->nv, NV_KEY_BOOT_COUNT, raw, sizeof(raw));
    app->boot_count = n;
}

static void print_banner(struct app *app)
{
    struct console *con = &app->con;

    console_puts(con, "\n");
    console_printf(con, "Signet %s - HSM-backed signing appliance\n", SIGNET_VERSION);
    console_printf(con, "board %s, build %s, boot #%lu (reset: %s)\n", hal_board_name(),
                   SIGNET_BUILD_ID, (unsigned long)app->boot_count,
                   app_reset_reason_name(app->reset_reason));
    if (app->nv_status)
        console_printf(con, "warning: NV store unavailable (%d); settings will not persist\n",
                       app->nv_status);
    else if (app->nv.formatted)
        console_puts(con, "NV store was empty or unreadable: formatted\n");
    console_puts(con, "Type 'help' for commands.\n");
}

void app_main(struct app *app)
{
    memset(app, 0, sizeof(*app));
    app->boot_ms = hal_clock_ms();
    app->reset_reason = hal_board_reset_reason();

    k_sched_init(&app->sched);
    k_task_init(&app->sched, &app->house_task, "house", 0, house_handler, app, app->house_queue,
                APP_HOUSE_QUEUE);
    k_task_init(&app->sched, &app->console_task, "console", 2, console_handler, app,
                app->console_queue, APP_CONSOLE_QUEUE);
    token_task_start(app);
    app->refresh_job.run = refresh_job;
    app->auto_login_job.run = auto_login_job;
    app->revoke_job.run = revoke_job;
    app->audit_seal_job.run = app_audit_seal_job;
    k_timer_init(&app->sched, &app->wdt_timer, &app->house_task, SIG_WDT_KICK);
    k_timer_init(&app->sched, &app->expiry_timer, &app->house_task, SIG_EXPIRY_CHECK);
    k_timer_init(&app->sched, &app->revoke_timer, &app->house_task, SIG_REVOKE_TICK);
    k_timer_init(&app->sched, &app->console_timer, &app->console_task, SIG_CONSOLE_TICK);

    console_init(&app->con, console_out, NULL);
    app->con.user = app;
    app->con.privileged_fn = token_logged_in;
    app_set_notice(app, cmd_notice, &app->con);
    (void)console_add_commands(&app->con, app_system_cmds, app_system_cmd_count);
    (void)console_add_commands(&app->con, app_token_cmds, app_token_cmd_count);
    (void)console_add_commands(&app->con, app_enroll_cmds, app_enroll_cmd_count);
    (void)console_add_commands(&app->con, app_sign_cmds, app_sign_cmd_count);
    (void)console_add_commands(&app->con, app_identity_cmds, app_identity_cmd_count);
    (void)console_add_commands(&app->con, app_revoke_cmds, app_revoke_cmd_count);
    (void)console_add_commands(&app->con, app_audit_cmds, app_audit_cmd_count);
    app_console_runner_start(app, SIG_CONSOLE_DONE);

    (void)hal_uart_open(HAL_UART_CONSOLE);
    count_boot(app);
    print_banner(app);
    /* The link itself is opened on first use: a missing token must not delay the console. */
    app_hsm_link_setup();
    token_init(&app->token);
    audit_init(&app->audit, app->nv_status ? NULL : &app->nv, NV_KEY_AUDIT_STATE, NV_KEY_AUDIT_BASE,
               AUDIT_OLD_SLOTS);
    enroll_init(&app->enroll, &app->token, "Signet", SIGNET_VERSION);
    acl_init(&app->acl, &app->token);
    identity_init(&app->identity, &app->token);
    issue_init(&app->issue, &app->token, &app->enroll, &app->acl, &app->identity, &app->revoke);
    revoke_init(&app->revoke, &app->token, &app->enroll);
    app->expiry_warned_day = -1;
    k_timer_start(&app->expiry_timer, APP_STATE_REFRESH_MS, APP_STATE_REFRESH_MS);
    k_timer_start(&app->revoke_timer, APP_REVOKE_TICK_MS, APP_REVOKE_TICK_MS);
#if SIGNET_HAS_NET
    start_network(app);
#endif
    /* After the network: a boot login sets up HTTPS as an operator's login does. */
    app_auto_login_start(app, SIG_AUTO_LOGIN);

    if (hal_wdt_start(APP_WDT_TIMEOUT_MS) == 0)
        k_timer_start(&app->wdt_timer, APP_WDT_KICK_MS, APP_WDT_KICK_MS);

    hal_uart_set_notify(HAL_UART_CONSOLE, console_rx_notify, app);
    console_prompt(&app->con);
    k_timer_start(&app->console_timer, CONSOLE_TICK_MS, CONSOLE_TICK_MS);
    /* Bytes typed before the notify hook was set would otherwise wait for the next keystroke. */
    (void)k_post(&app->console_task, SIG_CONSOLE_RX, 0);
    k_run(&app->sched);
}
