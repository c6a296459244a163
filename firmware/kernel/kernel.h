/*
 * firmware/kernel — a run-to-completion scheduler.
 *
 * A task is a handler plus a FIFO of events. The scheduler repeatedly takes the oldest event of the
 * most urgent (lowest prio number) task that has one and calls its handler, which runs to
 * completion: handlers never block, they post events or start timers to continue later. Software
 * timers post an event to their task when due. When nothing is ready the board idles (WFI on the
 * appliance) until an interrupt or the next timer. k_post() is safe from interrupt handlers; every
 * other call is for task context only. All storage is supplied by the caller: nothing allocates.
 *
 * Fibers: a task made with k_task_init_fiber runs its handler on its own stack, and that handler
 * may park (k_fiber_wait) instead of finishing: the scheduler then keeps dispatching the other
 * tasks. A parked fiber is resumed on every scheduler pass (after each event dispatched or idle
 * wake) to look again at whatever it waits for, and at its deadline at the latest; the idle sleep
 * never outlasts the earliest fiber deadline. Its task takes no new event until the handler
 * returns: events posted meanwhile wait in its queue, in order.
 */
#ifndef KERNEL_H
#define KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hal/context.h"

struct k_event {
    uint16_t sig; /* what happened; meaning is private to the receiving task */
    uint32_t arg;
};

struct k_task;
struct k_sched;

/* A fiber task's own stack and where it stands; all of it owned by the task's creator. */
struct k_fiber {
    struct hal_context ctx;
    struct k_sched *sched;
    uint8_t *stack;
    size_t stack_size;
    struct k_event ev;    /* the event its handler is running for */
    bool busy;            /* a handler is in progress (running or parked) */
    bool parked;          /* in k_fiber_wait */
    uint64_t deadline_ms; /* while parked: resumed by then at the latest */
    uint32_t parks;
};

typedef void (*k_handler_fn)(struct k_task *task, const struct k_event *ev);

struct k_task {
    const char *name;
    k_handler_fn handler;
    void *ctx;    /* the task's own state, for the handler */
    uint8_t prio; /* 0 is most urgent */
    struct k_event *queue;
    uint16_t cap;
    volatile uint16_t head;
    volatile uint16_t count;
    uint32_t dispatched;
    uint32_t dropped; /* posts refused because the queue was full */
    uint16_t high_water;
    struct k_fiber *fiber; /* NULL: the handler runs on the scheduler's stack */
    struct k_task *next;
};

struct k_timer {
    struct k_task *task;
    uint16_t sig;
    uint32_t period_ms; /* 0: one-shot */
    uint64_t due_ms;
    bool armed;
    struct k_timer *next;
};

struct k_sched {
    struct k_task *tasks; /* sorted by prio */
    struct k_timer *timers;
    uint32_t idle_calls;
    uint32_t dispatched;
    uint32_t fiber_resumes;
    struct hal_context main_ctx; /* where the scheduler (or k_fiber_run's caller) was left */
    bool stop;                   /* k_run returns when set; for tests */
};

void k_sched_init(struct k_sched *k);

/* Register a task with caller-owned queue storage of cap events. */
void k_task_init(struct k_sched *k, struct k_task *t, const char *name, uint8_t prio,
                 k_handler_fn handler, void *ctx, struct k_event *queue, uint16_t cap);

/*
 * The same, with the handler on its own stack of stack_size bytes (at least
 * HAL_CONTEXT_STACK_MIN), so that it may park in k_fiber_wait. f and stack belong to the task.
 */
void k_task_init_fiber(struct k_sched *k, struct k_task *t, const char *name, uint8_t prio,
                       k_handler_fn handler, void *ctx, struct k_event *queue, uint16_t cap,
                       struct k_fiber *f, void *stack, size_t stack_size);

/* The fiber task whose handler is running now, or NULL outside fibers (a caller may park only
 * when it is non-NULL). */
struct k_task *k_current_fiber(void);
static inline bool k_in_fiber(void)
{
    return k_current_fiber() != NULL;
}

/*
 * Park the running fiber until the next scheduler pass, or deadline_ms at the latest. Returns 0
 * when resumed before the deadline, -ETIMEDOUT once it has passed (without parking if it already
 * had), -EPERM outside a fiber (the caller must not wait at all then).
 */
int k_fiber_wait(uint64_t deadline_ms);

/*
 * Resume t's parked fiber from task context outside fibers, and return once it parks again or its
 * handler returns: for a caller that cannot go on before the fiber has let go of something (a link
 * mid-exchange). 0, -EAGAIN t is not parked, -EPERM called from a fiber.
 */
int k_fiber_run(struct k_task *t);

/*
 * Dispatch (sig, arg) to t's idle fiber handler now, from task context outside fibers, and return
 * once it parks or returns: for a caller that hands work to a fiber and wants it done at once when
 * nothing makes it wait (the TLS handshake steps, firmware/app/tls_fibers.c). The event bypasses
 * t's queue. 0, -EBUSY t's handler is in progress, -EINVAL t is not a fiber task, -EPERM called
 * from a fiber.
 */
int k_fiber_call(struct k_task *t, uint16_t sig, uint32_t arg);

/* Bytes of t's fiber stack ever used (its high-water mark); 0 for a plain task. */
size_t k_fiber_stack_used(const struct k_task *t);
/* False once the guard words at the far end of t's fiber stack were overwritten. The scheduler
 * checks after every switch back and resets the board (HAL_RESET_FAULT) if so: what lies beyond
 * the stack is corrupt. */
bool k_fiber_stack_intact(const struct k_task *t);

/* Queue an event; -ENOSPC when the task's queue is full (the event is dropped and counted). */
int k_post(struct k_task *t, uint16_t sig, uint32_t arg);

void k_timer_init(struct k_sched *k, struct k_timer *tm, struct k_task *task, uint16_t sig);
/* (Re)arm: first expiry after delay_ms, then every period_ms (0: once). */
void k_timer_start(struct k_timer *tm, uint32_t delay_ms, uint32_t period_ms);
void k_timer_stop(struct k_timer *tm);

/* Resume the parked fibers once, fire due timers and dispatch at most one event; returns true if
 * an event was dispatched or a parked handler finished. */
bool k_step(struct k_sched *k);

/* Milliseconds until the next armed timer or parked fiber's deadline (UINT32_MAX when none). */
uint32_t k_next_timeout(const struct k_sched *k);

/* Dispatch forever, idling the board when nothing is ready, until k->stop is set. */
void k_run(struct k_sched *k);

#endif
