#include "kernel.h"

#include <errno.h>

#include "hal/board.h"
#include "hal/clock.h"

/* Longest idle when no timer is armed; bounds how stale anything polled from idle can get. */
#define K_IDLE_MAX_MS 1000u

void k_sched_init(struct k_sched *k)
{
    k->tasks = NULL;
    k->timers = NULL;
    k->idle_calls = 0;
    k->dispatched = 0;
    k->stop = false;
}

void k_task_init(struct k_sched *k, struct k_task *t, const char *name, uint8_t prio,
                 k_handler_fn handler, void *ctx, struct k_event *queue, uint16_t cap)
{
    struct k_task **pp = &k->tasks;

    t->name = name;
    t->handler = handler;
    t->ctx = ctx;
    t->prio = prio;
    t->queue = queue;
    t->cap = cap;
    t->head = 0;
    t->count = 0;
    t->dispatched = 0;
    t->dropped = 0;
    t->high_water = 0;
    while (*pp && (*pp)->prio <= prio)
        pp = &(*pp)->next;
    t->next = *pp;
    *pp = t;
}

int k_post(struct k_task *t, uint16_t sig, uint32_t arg)
{
    uint32_t irq = hal_irq_save();
    int ret = 0;

    if (t->count >= t->cap) {
        t->dropped++;
        ret = -ENOSPC;
        goto out;
    }
    struct k_event *ev = &t->queue[(t->head + t->count) % t->cap];
    ev->sig = sig;
    ev->arg = arg;
    t->count++;
    if (t->count > t->high_water)
        t->high_water = t->count;
out:
    hal_irq_restore(irq);
    return ret;
}

static bool k_take(struct k_task *t, struct k_event *out)
{
    uint32_t irq = hal_irq_save();
    bool got = false;

    if (t->count > 0) {
        *out = t->queue[t->head];
        t->head = (uint16_t)((t->head + 1) % t->cap);
        t->count--;
        got = true;
    }
    hal_irq_restore(irq);
    return got;
}

void k_timer_init(struct k_sched *k, struct k_timer *tm, struct k_task *task, uint16_t sig)
{
    tm->task = task;
    tm->sig = sig;
    tm->period_ms = 0;
    tm->due_ms = 0;
    tm->armed = false;
    tm->next = k->timers;
    k->timers = tm;
}

void k_timer_start(struct k_timer *tm, uint32_t delay_ms, uint32_t period_ms)
{
    tm->due_ms = hal_clock_ms() + delay_ms;
    tm->period_ms = period_ms;
    tm->armed = true;
}

void k_timer_stop(struct k_timer *tm)
{
    tm->armed = false;
}

static void k_fire_timers(struct k_sched *k, uint64_t now)
{
    for (struct k_timer *tm = k->timers; tm; tm = tm->next) {
        if (!tm->armed || tm->due_ms > now)
            continue;
        if (tm->period_ms) {
            /* Skip missed periods instead of firing a burst after a long handler. */
            uint64_t late = now - tm->due_ms;
            tm->due_ms += ((late / tm->period_ms) + 1) * tm->period_ms;
        } else {
            tm->armed = false;
        }
        (void)k_post(tm->task, tm->sig, 0);
    }
}

uint32_t k_next_timeout(const struct k_sched *k)
{
    uint64_t now = hal_clock_ms();
    uint64_t best = UINT32_MAX;

    for (const struct k_timer *tm = k->timers; tm; tm = tm->next) {
        if (!tm->armed)
            continue;
        uint64_t left = tm->due_ms > now ? tm->due_ms - now : 0;
        if (left < best)
            best = left;
    }
    return (uint32_t)best;
}

bool k_step(struct k_sched *k)
{
    struct k_event ev;

    k_fire_timers(k, hal_clock_ms());
    for (struct k_task *t = k->tasks; t; t = t->next) {
        if (k_take(t, &ev)) {
            t->dispatched++;
            k->dispatched++;
            t->handler(t, &ev);
            return true;
        }
    }
    return false;
}

static bool k_any_ready(const struct k_sched *k)
{
    for (const struct k_task *t = k->tasks; t; t = t->next)
        if (t->count)
            return true;
    return false;
}

void k_run(struct k_sched *k)
{
    while (!k->stop) {
        if (k_step(k))
            continue;
        uint32_t wait = k_next_timeout(k);
        if (wait == 0)
            continue;
        if (wait > K_IDLE_MAX_MS)
            wait = K_IDLE_MAX_MS;
        /* Check and sleep with interrupts masked so a post from an ISR cannot slip in between. */
        uint32_t irq = hal_irq_save();
        if (!k_any_ready(k)) {
            k->idle_calls++;
            hal_board_idle(wait);
        }
        hal_irq_restore(irq);
    }
}
