/*
 * firmware/app/token_task.c — the token task: one job at a time, on the task's fiber.
 *
 * The kernel event is only a doorbell; the jobs themselves wait in an intrusive list, so the queue
 * can never overflow and a job is never lost. One job per event: a caller that has to let the link
 * go first (hsm_link.c's hsm_enter) waits for the job in hand, not for the whole backlog.
 *
 * The task is the most urgent after the house task's watchdog: the token is the appliance's
 * bottleneck, and a job's start must not wait behind a burst of network events (a job's later
 * steps resume at the start of every scheduler pass anyway). It cannot starve the others: each
 * job was submitted by one of them, and every one that uses the link parks while it waits.
 */
#include "firmware/app/token_task.h"

#include <errno.h>
#include <stddef.h>

#include "crypto/p11/p11_client.h"
#include "firmware/app/app.h"

enum token_sig { SIG_TOKEN_JOB = 1 };

static void ring(struct token_task *tt)
{
    /* One doorbell waiting is enough: each event takes a job and rings again if more wait. */
    if (tt->task.count == 0)
        (void)k_post(&tt->task, SIG_TOKEN_JOB, 0);
}

static void token_handler(struct k_task *t, const struct k_event *ev)
{
    struct token_task *tt = t->ctx;
    struct token_job *job = tt->head;

    (void)ev;
    if (!job)
        return;
    tt->head = job->next;
    if (!tt->head)
        tt->tail = NULL;
    job->next = NULL;
    tt->running = job;
    /* Each job meets a dead link's time-outs once: a job queued behind one that found the token
     * frozen tries it again (it may be back), then fails its other calls at once. */
    p11_client_begin_work();
    job->run(job);
    tt->running = NULL;
    tt->jobs_run++;
    job->queued = false;
    job->done = true;
    if (job->reply_to)
        (void)k_post(job->reply_to, job->reply_sig, job->tag);
    if (tt->head)
        ring(tt);
}

void token_task_start(struct app *app)
{
    struct token_task *tt = &app->token_task;

    tt->head = tt->tail = tt->running = NULL;
    tt->jobs_run = 0;
    k_task_init_fiber(&app->sched, &tt->task, "token", 0, token_handler, tt, tt->queue,
                      APP_TOKEN_QUEUE, &tt->fiber, tt->stack, sizeof(tt->stack));
}

int token_job_submit(struct app *app, struct token_job *job)
{
    struct token_task *tt = &app->token_task;

    if (job->queued)
        return -EBUSY;
    job->queued = true;
    job->done = false;
    job->next = NULL;
    if (tt->tail)
        tt->tail->next = job;
    else
        tt->head = job;
    tt->tail = job;
    ring(tt);
    return 0;
}

unsigned token_task_backlog(const struct app *app)
{
    unsigned n = 0;

    for (const struct token_job *j = app->token_task.head; j; j = j->next)
        n++;
    return n;
}
