/*
 * firmware/app/tls_fibers.c — the HTTPS handshake fibers (tls_fibers.h, docs/hsm-link.md).
 *
 * The fibers are the least urgent tasks: they take no events, only k_fiber_call from the net task,
 * and a parked one is resumed on every scheduler pass after the token task, so a job the token
 * task has just finished is seen in the same pass.
 */
#include "firmware/app/tls_fibers.h"

#include <errno.h>
#include <stddef.h>

#include "firmware/app/app.h"
#include "hal/clock.h"
#include "net/tls.h"

/* How long a parked fiber sleeps at most before it looks at its job again (it is resumed on
 * every scheduler pass anyway; this bounds the idle). */
#define TLS_FIBER_POLL_MS 50u

static struct tls_fiber *fiber_of(struct token_job *job)
{
    return (struct tls_fiber *)(void *)((char *)job - offsetof(struct tls_fiber, job));
}

/* Token task: the call the parked handshake step asked for. */
static void token_call(struct token_job *job)
{
    struct tls_fiber *f = fiber_of(job);
    struct app *app = f->app;

    if (f->random) {
        f->rv = token_random(&app->token, f->out, f->out_len);
        return;
    }
    f->rv = token_sign_digest(&app->token, &app->token.tls, f->digest, f->digest_len, f->out,
                              &f->out_len);
}

/* Submit f's job and park until it is done. No deadline of our own: the job is f's, it cannot be
 * abandoned, and the link's time-outs bound it (a frozen token fails it, docs/hsm-link.md). */
static CK_RV on_token(struct tls_fiber *f)
{
    f->rv = CKR_FUNCTION_FAILED;
    if (token_job_submit(f->app, &f->job) != 0)
        return CKR_FUNCTION_FAILED;
    f->token_calls++;
    while (!f->job.done)
        (void)k_fiber_wait(hal_clock_ms() + TLS_FIBER_POLL_MS);
    return f->rv;
}

CK_RV app_tls_fiber_sign(struct tls_fiber *f, const uint8_t *digest, size_t len, uint8_t *rs,
                         size_t *rs_len)
{
    f->random = false;
    f->digest = digest;
    f->digest_len = len;
    f->out = rs;
    f->out_len = *rs_len;
    CK_RV rv = on_token(f);
    *rs_len = f->out_len;
    return rv;
}

CK_RV app_tls_fiber_random(struct tls_fiber *f, uint8_t *out, size_t len)
{
    f->random = true;
    f->digest = NULL;
    f->digest_len = 0;
    f->out = out;
    f->out_len = len;
    return on_token(f);
}

struct tls_fiber *app_tls_fiber_current(struct app *app)
{
    struct k_task *t = k_current_fiber();

    for (size_t i = 0; t && i < APP_TLS_FIBERS; i++)
        if (t == &app->tls_fibers[i].task)
            return &app->tls_fibers[i];
    return NULL;
}

static void fiber_handler(struct k_task *t, const struct k_event *ev)
{
    struct tls_fiber *f = t->ctx;
    bool wake;

    (void)ev;
    f->runs++;
    wake = tls_conn_run(f->conn);
    f->conn = NULL;
    /* The net task's tick calls tls_wake too: a full queue only delays the wake. */
    if (wake)
        (void)k_post(&f->app->net_task, APP_SIG_TLS_WAKE, 0);
}

/* net/tls's runner: c's steps on a free fiber, now. */
static bool run_steps(void *ctx, struct tls_conn *c)
{
    struct app *app = ctx;

    /* Already on a fiber (a token job's own client session): there they may wait as they are. */
    if (k_in_fiber()) {
        if (tls_conn_run(c))
            (void)k_post(&app->net_task, APP_SIG_TLS_WAKE, 0);
        return true;
    }
    for (size_t i = 0; i < APP_TLS_FIBERS; i++) {
        struct tls_fiber *f = &app->tls_fibers[i];
        if (f->fiber.busy)
            continue;
        f->conn = c;
        if (k_fiber_call(&f->task, 1, 0) == 0)
            return true;
        f->conn = NULL;
    }
    return false;
}

void app_tls_fibers_start(struct app *app)
{
    static const struct tls_runner ops = {.start = run_steps};
    struct tls_runner r = ops;

    for (size_t i = 0; i < APP_TLS_FIBERS; i++) {
        struct tls_fiber *f = &app->tls_fibers[i];
        f->app = app;
        f->conn = NULL;
        f->job = (struct token_job){.run = token_call};
        k_task_init_fiber(&app->sched, &f->task, "tls", 4, fiber_handler, f, f->queue, 1, &f->fiber,
                          f->stack, sizeof(f->stack));
    }
    r.ctx = app;
    tls_set_runner(&r);
}
