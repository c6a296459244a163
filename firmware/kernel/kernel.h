/*
 * firmware/kernel — a run-to-completion scheduler.
 *
 * A task is a handler plus a FIFO of events. The scheduler repeatedly takes the oldest event of the
 * most urgent (lowest prio number) task that has one and calls its handler, which runs to
 * completion: handlers never block, they post events or start timers to continue later. Software
 * timers post an event to their task when due. When nothing is ready the board idles (WFI on the
 * appliance) until an interrupt or the next timer. k_post() is safe from interrupt handlers; every
 * other call is for task context only. All storage is supplied by the caller: nothing allocates.
 */
#ifndef KERNEL_H
#define KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct k_event {
    uint16_t sig; /* what happened; meaning is private to the receiving task */
    uint32_t arg;
};

struct k_task;
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
    bool stop; /* k_run returns when set; for tests */
};

void k_sched_init(struct k_sched *k);

/* Register a task with caller-owned queue storage of cap events. */
void k_task_init(struct k_sched *k, struct k_task *t, const char *name, uint8_t prio,
                 k_handler_fn handler, void *ctx, struct k_event *queue, uint16_t cap);

/* Queue an event; -ENOSPC when the task's queue is full (the event is dropped and counted). */
int k_post(struct k_task *t, uint16_t sig, uint32_t arg);

void k_timer_init(struct k_sched *k, struct k_timer *tm, struct k_task *task, uint16_t sig);
/* (Re)arm: first expiry after delay_ms, then every period_ms (0: once). */
void k_timer_start(struct k_timer *tm, uint32_t delay_ms, uint32_t period_ms);
void k_timer_stop(struct k_timer *tm);

/* Fire due timers and dispatch at most one event; returns true if an event was dispatched. */
bool k_step(struct k_sched *k);

/* Milliseconds until the next armed timer is due (UINT32_MAX when none). */
uint32_t k_next_timeout(const struct k_sched *k);

/* Dispatch forever, idling the board when nothing is ready, until k->stop is set. */
void k_run(struct k_sched *k);

#endif
