/*
 * firmware/app/token_task — the task that owns the token link: jobs in, completions out.
 *
 * A job is a caller-owned struct token_job whose run() the token task calls on its own stack (a
 * kernel fiber, firmware/kernel): run() may call token_* freely, and while the token is slow to
 * answer the link's wait parks the fiber instead of holding the scheduler, so the console, the
 * network and the house task go on (docs/hsm-link.md). Jobs run one at a time, in the order
 * submitted. When run() returns, the job is marked done and, if reply_to is set, (reply_sig, tag)
 * is posted to it. The job's memory, and whatever run() reads or fills in, belongs to the token
 * task from submit until done: the caller keeps state for the request in the job (embed it),
 * never in a static. Nothing allocates.
 */
#ifndef TOKEN_TASK_H
#define TOKEN_TASK_H

#include <stdbool.h>
#include <stdint.h>

#include "firmware/kernel/kernel.h"
#include "signet_config.h"

struct token_job {
    void (*run)(struct token_job *job); /* runs in the token fiber; may call token_* */
    struct k_task *reply_to;            /* NULL: no completion event */
    uint16_t reply_sig;
    uint32_t tag; /* the completion event's arg */
    bool queued;  /* submitted and not done yet */
    bool done;    /* run() has returned since the last submit */
    struct token_job *next;
};

struct token_task {
    struct k_task task;
    struct k_event queue[APP_TOKEN_QUEUE];
    struct k_fiber fiber;
    struct token_job *head, *tail;
    struct token_job *running;
    uint32_t jobs_run;
    _Alignas(16) uint8_t stack[APP_TOKEN_STACK];
};

struct app;

/* Create the task (least urgent of all: it only ever waits for the token). */
void token_task_start(struct app *app);

/* Queue job (run set); 0, or -EBUSY while it is still queued or running (nothing changed). */
int token_job_submit(struct app *app, struct token_job *job);

/* Jobs waiting behind the one running. */
unsigned token_task_backlog(const struct app *app);

#endif
