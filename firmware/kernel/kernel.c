#include "kernel.h"

#include <errno.h>
#include <string.h>

#include "hal/board.h"
#include "hal/clock.h"

/* Longest idle when no timer is armed; bounds how stale anything polled from idle can get. */
#define K_IDLE_MAX_MS 1000u

/* A fiber stack is painted at creation; the paint left at its far end shows how deep it went, and
 * the first K_GUARD_BYTES must never lose it. Both boards' stacks grow down. */
#define K_STACK_PAINT 0xa5u
#define K_GUARD_BYTES 16u

/* The fiber task running now. One CPU runs one context at a time: this is the CPU's, not a
 * scheduler's, and the only way for a callee deep in a handler to learn whether it may park. */
static struct k_task *k_current;

void k_sched_init(struct k_sched *k)
{
    k->tasks = NULL;
    k->timers = NULL;
    k->idle_calls = 0;
    k->dispatched = 0;
    k->fiber_resumes = 0;
    memset(&k->main_ctx, 0, sizeof(k->main_ctx));
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
    t->fiber = NULL;
    while (*pp && (*pp)->prio <= prio)
        pp = &(*pp)->next;
    t->next = *pp;
    *pp = t;
}

static void k_fiber_main(void *arg)
{
    struct k_task *t = arg;
    struct k_fiber *f = t->fiber;

    for (;;) {
        t->handler(t, &f->ev);
        f->busy = false;
        hal_context_switch(&f->ctx, &f->sched->main_ctx);
    }
}

void k_task_init_fiber(struct k_sched *k, struct k_task *t, const char *name, uint8_t prio,
                       k_handler_fn handler, void *ctx, struct k_event *queue, uint16_t cap,
                       struct k_fiber *f, void *stack, size_t stack_size)
{
    k_task_init(k, t, name, prio, handler, ctx, queue, cap);
    memset(f, 0, sizeof(*f));
    f->sched = k;
    f->stack = stack;
    f->stack_size = stack_size;
    memset(stack, K_STACK_PAINT, stack_size);
    hal_context_make(&f->ctx, stack, stack_size, k_fiber_main, t);
    t->fiber = f;
}

struct k_task *k_current_fiber(void)
{
    return k_current;
}

bool k_fiber_stack_intact(const struct k_task *t)
{
    if (!t->fiber)
        return true;
    for (size_t i = 0; i < K_GUARD_BYTES; i++)
        if (t->fiber->stack[i] != K_STACK_PAINT)
            return false;
    return true;
}

size_t k_fiber_stack_used(const struct k_task *t)
{
    size_t untouched = 0;

    if (!t->fiber)
        return 0;
    while (untouched < t->fiber->stack_size && t->fiber->stack[untouched] == K_STACK_PAINT)
        untouched++;
    return t->fiber->stack_size - untouched;
}

/* Run t's fiber until it parks or its handler returns. */
static void k_fiber_enter(struct k_task *t)
{
    struct k_fiber *f = t->fiber;

    k_current = t;
    hal_context_switch(&f->sched->main_ctx, &f->ctx);
    k_current = NULL;
    /* Beyond the guard is someone else's memory: nothing that follows could be trusted. */
    if (!k_fiber_stack_intact(t))
        hal_board_reset(HAL_RESET_FAULT);
}

int k_fiber_wait(uint64_t deadline_ms)
{
    struct k_task *t = k_current;

    if (!t)
        return -EPERM;
    if (hal_clock_ms() >= deadline_ms)
        return -ETIMEDOUT;
    struct k_fiber *f = t->fiber;
    f->deadline_ms = deadline_ms;
    f->parked = true;
    f->parks++;
    hal_context_switch(&f->ctx, &f->sched->main_ctx);
    f->parked = false;
    return hal_clock_ms() >= deadline_ms ? -ETIMEDOUT : 0;
}

int k_fiber_run(struct k_task *t)
{
    if (k_current)
        return -EPERM;
    if (!t->fiber || !t->fiber->parked)
        return -EAGAIN;
    t->fiber->sched->fiber_resumes++;
    k_fiber_enter(t);
    return 0;
}

int k_fiber_call(struct k_task *t, uint16_t sig, uint32_t arg)
{
    if (k_current)
        return -EPERM;
    if (!t->fiber)
        return -EINVAL;
    if (t->fiber->busy)
        return -EBUSY;
    t->dispatched++;
    t->fiber->sched->dispatched++;
    t->fiber->ev = (struct k_event){sig, arg};
    t->fiber->busy = true;
    k_fiber_enter(t);
    return 0;
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
    for (const struct k_task *t = k->tasks; t; t = t->next) {
        if (!t->fiber || !t->fiber->parked)
            continue;
        uint64_t left = t->fiber->deadline_ms > now ? t->fiber->deadline_ms - now : 0;
        if (left < best)
            best = left;
    }
    return (uint32_t)best;
}

/* Let every parked fiber look again at what it waits for; true if a handler finished. */
static bool k_resume_parked(struct k_sched *k)
{
    bool finished = false;

    for (struct k_task *t = k->tasks; t; t = t->next) {
        if (!t->fiber || !t->fiber->parked)
            continue;
        k->fiber_resumes++;
        k_fiber_enter(t);
        if (!t->fiber->busy)
            finished = true;
    }
    return finished;
}

/* A fiber task takes no new event while its handler is parked. */
static bool k_can_take(const struct k_task *t)
{
    return !t->fiber || !t->fiber->busy;
}

bool k_step(struct k_sched *k)
{
    struct k_event ev;
    bool finished = k_resume_parked(k);

    k_fire_timers(k, hal_clock_ms());
    for (struct k_task *t = k->tasks; t; t = t->next) {
        if (k_can_take(t) && k_take(t, &ev)) {
            t->dispatched++;
            k->dispatched++;
            if (t->fiber) {
                t->fiber->ev = ev;
                t->fiber->busy = true;
                k_fiber_enter(t);
            } else {
                t->handler(t, &ev);
            }
            return true;
        }
    }
    return finished;
}

static bool k_any_ready(const struct k_sched *k)
{
    for (const struct k_task *t = k->tasks; t; t = t->next)
        if (t->count && k_can_take(t))
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
