/*
 * firmware/app/token_work.c — the appliance's own token work, handed to the token task as jobs.
 *
 * Three pieces of work used to wait for the token inside whoever asked: a console command (or
 * the PIN or paste it read), `status` reading the state again after a link loss, and `/health`
 * probing a link that is down. Each is now a token job (firmware/app/token_task.h): the asker
 * goes on at once and reads the outcome later, so a slow or frozen token freezes neither the
 * console nor the health check (docs/hsm-link.md, "No handler waits").
 */
#include "firmware/app/token_work.h"

#include <stddef.h>

#include "crypto/p11/p11_client.h"
#include "firmware/app/app.h"
#include "firmware/app/core.h"
#include "hal/clock.h"

/* ---- the console's commands ---- */

static void console_job_run(struct token_job *job)
{
    console_work_run(&APP_OF(job, console_job)->con);
}

static int console_runner(struct console *con, void *ctx)
{
    struct app *app = ctx;

    (void)con;
    app->console_job.run = console_job_run;
    app->console_job.reply_to = &app->console_task;
    app->console_job.reply_sig = app->console_done_sig;
    return token_job_submit(app, &app->console_job);
}

void app_console_runner_start(struct app *app, uint16_t done_sig)
{
    app->console_done_sig = done_sig;
    console_set_runner(&app->con, console_runner, app);
}

/* ---- reading the state again ---- */

static void reload_job_run(struct token_job *job)
{
    struct app *app = APP_OF(job, reload_job);
    const char *why = "";

    app->reload_failed = app_load_state(app, &why) != 0;
    app->reload_why = why;
}

const char *app_state_reload(struct app *app)
{
    if (!app->reload_job.queued) {
        app->reload_job.run = reload_job_run;
        (void)token_job_submit(app, &app->reload_job);
    }
    return app->reload_failed ? app->reload_why : NULL;
}

/* ---- probing a link that is down ---- */

static void probe_job_run(struct token_job *job)
{
    struct app *app = APP_OF(job, probe_job);
    CK_TOKEN_INFO info;
    struct p11_link_stats ls;

    (void)token_get_info(&app->token, &info);
    p11_client_stats(&ls);
    /* Down again: look less often, up to APP_RELINK_MAX_MS, so a dead token costs little. */
    if (!ls.up)
        app->probe_wait_ms =
            app->probe_wait_ms < APP_RELINK_MAX_MS / 2 ? 2 * app->probe_wait_ms : APP_RELINK_MAX_MS;
}

bool app_link_up(struct app *app)
{
    struct p11_link_stats ls;
    uint64_t now = hal_clock_ms();

    p11_client_stats(&ls);
    if (ls.up) {
        app->probe_wait_ms = APP_RELINK_MS;
        return true;
    }
    if (app->probe_wait_ms == 0)
        app->probe_wait_ms = APP_RELINK_MS;
    if (app->probe_job.queued || (app->probe_at && now - app->probe_at < app->probe_wait_ms))
        return false;
    app->probe_at = now;
    app->probe_job.run = probe_job_run;
    (void)token_job_submit(app, &app->probe_job);
    return false;
}
