/*
 * firmware/app/token_task.c — the token task: one job at a time, on the task's fiber.
 *
 * The kernel event is only a doorbell; the jobs themselves wait in an intrusive list, so the queue
 * can never overflow and a job is never lost. One job per event: a caller that has to let the link
 * go first (hsm_link.c's claim) waits for the job in hand, not for the whole backlog.
 */
#include "firmware/app/token_task.h"

#include <errno.h>
#include <stddef.h>

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
    k_task_init_fiber(&app->sched, &tt->task, "token", 3, token_handler, tt, tt->queue,
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
