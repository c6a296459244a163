#include "firmware/kernel/kernel.h"

#include <errno.h>

#include "fake_board.h"
#include "hal/clock.h"
#include "unit.h"

static char log_buf[256];
static size_t log_len;
static struct k_sched sched;
static int stop_after;

static void logger(struct k_task *t, const struct k_event *ev)
{
    if (log_len + 3 < sizeof(log_buf)) {
        log_buf[log_len++] = t->name[0];
        log_buf[log_len++] = (char)('0' + ev->sig % 10);
        log_buf[log_len] = '\0';
    }
    if (stop_after && --stop_after == 0)
        sched.stop = true;
}

static void reset(void)
{
    log_len = 0;
    log_buf[0] = '\0';
    stop_after = 0;
    fake_clock_set(1000);
    fake_idle_calls = 0;
    fake_idle_hook = NULL;
    k_sched_init(&sched);
}

TEST(priorities_then_fifo)
{
    struct k_task a, b;
    struct k_event qa[4], qb[4];

    reset();
    k_task_init(&sched, &a, "a", 5, logger, NULL, qa, 4);
    k_task_init(&sched, &b, "b", 1, logger, NULL, qb, 4);
    CHECK_EQ(k_post(&a, 1, 0), 0);
    CHECK_EQ(k_post(&a, 2, 0), 0);
    CHECK_EQ(k_post(&b, 3, 0), 0);
    CHECK_EQ(k_post(&b, 4, 0), 0);
    while (k_step(&sched))
        ;
    CHECK_STR(log_buf, "b3b4a1a2");
    CHECK_EQ(a.dispatched, 2);
    CHECK_EQ(sched.dispatched, 4);
    CHECK_EQ(fake_irq_depth, 0);
}

TEST(full_queue_refuses_and_counts)
{
    struct k_task a;
    struct k_event q[2];

    reset();
    k_task_init(&sched, &a, "a", 0, logger, NULL, q, 2);
    CHECK_EQ(k_post(&a, 1, 0), 0);
    CHECK_EQ(k_post(&a, 2, 0), 0);
    CHECK_EQ(k_post(&a, 3, 0), -ENOSPC);
    CHECK_EQ(a.dropped, 1);
    CHECK_EQ(a.high_water, 2);
    while (k_step(&sched))
        ;
    CHECK_STR(log_buf, "a1a2");
    /* The ring wraps: posting again after draining works in order. */
    for (int i = 4; i < 6; i++)
        CHECK_EQ(k_post(&a, (uint16_t)i, 0), 0);
    while (k_step(&sched))
        ;
    CHECK_STR(log_buf, "a1a2a4a5");
}

TEST(one_shot_timer_fires_once_when_due)
{
    struct k_task a;
    struct k_event q[4];
    struct k_timer tm;

    reset();
    k_task_init(&sched, &a, "a", 0, logger, NULL, q, 4);
    k_timer_init(&sched, &tm, &a, 7);
    k_timer_start(&tm, 50, 0);
    CHECK_EQ(k_next_timeout(&sched), 50);
    fake_clock_advance(49);
    CHECK(!k_step(&sched));
    fake_clock_advance(1);
    CHECK(k_step(&sched));
    CHECK_STR(log_buf, "a7");
    fake_clock_advance(1000);
    CHECK(!k_step(&sched));
    CHECK_EQ(k_next_timeout(&sched), UINT32_MAX);
}

TEST(periodic_timer_skips_missed_periods)
{
    struct k_task a;
    struct k_event q[8];
    struct k_timer tm;

    reset();
    k_task_init(&sched, &a, "a", 0, logger, NULL, q, 8);
    k_timer_init(&sched, &tm, &a, 1);
    k_timer_start(&tm, 10, 10);
    fake_clock_advance(10);
    CHECK(k_step(&sched));
    /* A long stall over 3.5 periods yields one event, and the phase is kept. */
    fake_clock_advance(35);
    CHECK(k_step(&sched));
    CHECK(!k_step(&sched));
    CHECK_STR(log_buf, "a1a1");
    CHECK_EQ(k_next_timeout(&sched), 5);
    k_timer_stop(&tm);
    fake_clock_advance(100);
    CHECK(!k_step(&sched));
}

TEST(run_idles_until_timer_then_stops)
{
    struct k_task a;
    struct k_event q[4];
    struct k_timer tm;

    reset();
    k_task_init(&sched, &a, "a", 0, logger, NULL, q, 4);
    k_timer_init(&sched, &tm, &a, 2);
    k_timer_start(&tm, 300, 300);
    stop_after = 3;
    k_run(&sched);
    CHECK_STR(log_buf, "a2a2a2");
    CHECK_EQ(fake_idle_calls, 3);
    CHECK_EQ(fake_idle_last_ms, 300);
    CHECK_EQ(fake_irq_depth, 0);
}

static struct k_task *hook_task;
static void post_from_interrupt(void)
{
    (void)k_post(hook_task, 9, 0);
}

TEST(run_wakes_for_interrupt_posts_and_caps_idle)
{
    struct k_task a;
    struct k_event q[4];

    reset();
    k_task_init(&sched, &a, "a", 0, logger, NULL, q, 4);
    hook_task = &a;
    fake_idle_hook = post_from_interrupt;
    stop_after = 1;
    k_run(&sched);
    CHECK_STR(log_buf, "a9");
    CHECK_EQ(fake_idle_calls, 1);
    CHECK(fake_idle_last_ms <= 1000); /* no timer armed: idle is capped, never forever */
}

/* ---- fibers ---- */

/* One stack per test: a fiber never ends, so under ASan its stack keeps the marks its frames left.
 */
#define FIBER_STACK (64 * 1024)
static _Alignas(16) uint8_t fiber_stacks[6][FIBER_STACK];
static uint8_t *fiber_stack;
static unsigned fiber_stacks_used;
static struct k_fiber fiber;
static bool fiber_go;
static bool seen_in_fiber, seen_outside;
static int fiber_wait_result;

static void log_sig(char who, uint16_t sig)
{
    if (log_len + 3 < sizeof(log_buf)) {
        log_buf[log_len++] = who;
        log_buf[log_len++] = (char)('0' + sig % 10);
        log_buf[log_len] = '\0';
    }
}

/* Sig 1: wait (polling its condition, as a link read does) until fiber_go, then log "F1". */
static void waiter(struct k_task *t, const struct k_event *ev)
{
    (void)t;
    seen_in_fiber = k_in_fiber() && k_current_fiber() == t;
    log_sig('f', ev->sig);
    if (ev->sig == 1) {
        while (!fiber_go)
            fiber_wait_result = k_fiber_wait(hal_clock_ms() + 1000);
        log_sig('F', ev->sig);
    }
}

static void plain_logger(struct k_task *t, const struct k_event *ev)
{
    seen_outside = !k_in_fiber();
    logger(t, ev);
}

static void fiber_reset(void)
{
    reset();
    fiber_go = false;
    seen_in_fiber = seen_outside = false;
    fiber_wait_result = 1;
    fiber_stack = fiber_stacks[fiber_stacks_used++];
}

TEST(parked_fiber_lets_others_run_and_keeps_its_events)
{
    struct k_task f, b;
    struct k_event qf[4], qb[4];

    fiber_reset();
    k_task_init_fiber(&sched, &f, "f", 0, waiter, NULL, qf, 4, &fiber, fiber_stack, FIBER_STACK);
    k_task_init(&sched, &b, "b", 1, plain_logger, NULL, qb, 4);
    CHECK_EQ(k_post(&f, 1, 0), 0);
    CHECK_EQ(k_post(&b, 2, 0), 0);
    CHECK_EQ(k_post(&b, 3, 0), 0);
    CHECK(k_step(&sched)); /* f takes 1 and parks */
    CHECK(fiber.parked);
    CHECK(seen_in_fiber);
    CHECK_EQ(k_post(&f, 4, 0), 0); /* queued to the parked task: waits for its handler */
    CHECK(k_step(&sched));
    CHECK(k_step(&sched));
    CHECK_STR(log_buf, "f1b2b3"); /* the more urgent task is parked; the other is dispatched */
    CHECK(seen_outside);
    CHECK(!k_step(&sched)); /* resumed, still waiting: no progress, nothing else to run */
    CHECK_EQ(fiber_wait_result, 0);
    CHECK(sched.fiber_resumes >= 3);
    fiber_go = true;
    CHECK(k_step(&sched)); /* resumed: the handler finishes, and f4 is taken in the same pass */
    CHECK_STR(log_buf, "f1b2b3F1f4");
    CHECK(!fiber.parked);
    CHECK(!k_step(&sched));
    CHECK_EQ(f.dispatched, 2);
    CHECK(!k_in_fiber());
    CHECK_EQ(k_fiber_wait(hal_clock_ms() + 10), -EPERM);
    CHECK(k_fiber_stack_intact(&f));
    CHECK(k_fiber_stack_used(&f) > 0);
    CHECK(k_fiber_stack_used(&f) < FIBER_STACK);
    CHECK_EQ(k_fiber_stack_used(&b), 0);
    CHECK_EQ(fake_irq_depth, 0);
}

static uint64_t deadline_at;
static unsigned early_resumes;

static void deadline_waiter(struct k_task *t, const struct k_event *ev)
{
    (void)t;
    (void)ev;
    deadline_at = hal_clock_ms() + 300;
    while (k_fiber_wait(deadline_at) == 0)
        early_resumes++;
    log_sig('d', (uint16_t)(hal_clock_ms() >= deadline_at));
    sched.stop = true;
}

TEST(parked_fiber_bounds_the_idle_and_resumes_at_its_deadline)
{
    struct k_task f;
    struct k_event qf[2];

    fiber_reset();
    early_resumes = 0;
    k_task_init_fiber(&sched, &f, "f", 3, deadline_waiter, NULL, qf, 2, &fiber, fiber_stack,
                      FIBER_STACK);
    CHECK_EQ(k_post(&f, 1, 0), 0);
    CHECK(k_step(&sched));
    CHECK_EQ(k_next_timeout(&sched), 300); /* no timer armed: the fiber's deadline bounds it */
    k_run(&sched);
    CHECK_STR(log_buf, "d1");
    CHECK_EQ(fake_idle_calls, 1);
    CHECK_EQ(fake_idle_last_ms, 300);
    CHECK(early_resumes <= 1); /* the pass before the idle looked once */
    CHECK_EQ(k_next_timeout(&sched), UINT32_MAX);
    CHECK_EQ(fake_irq_depth, 0);
}

static struct k_task *intruded;
static int intrude_result;

/* A plain handler that cannot go on until the fiber lets go: runs it to the end. */
static void intruder(struct k_task *t, const struct k_event *ev)
{
    fiber_go = true;
    intrude_result = k_fiber_run(intruded);
    logger(t, ev);
}

TEST(fiber_run_finishes_a_parked_handler_for_a_plain_task)
{
    struct k_task f, b;
    struct k_event qf[2], qb[2];

    fiber_reset();
    k_task_init_fiber(&sched, &f, "f", 0, waiter, NULL, qf, 2, &fiber, fiber_stack, FIBER_STACK);
    k_task_init(&sched, &b, "b", 1, intruder, NULL, qb, 2);
    intruded = &f;
    CHECK_EQ(k_fiber_run(&f), -EAGAIN); /* not parked */
    CHECK_EQ(k_post(&f, 1, 0), 0);
    CHECK_EQ(k_post(&b, 2, 0), 0);
    CHECK(k_step(&sched));
    CHECK(fiber.parked);
    CHECK(k_step(&sched)); /* the resume pass runs first (still waiting), then b */
    CHECK_EQ(intrude_result, 0);
    CHECK_STR(log_buf, "f1F1b2"); /* the fiber finished inside b's handler, before b went on */
    CHECK(!fiber.busy);
}

TEST(fiber_call_runs_an_idle_handler_at_once)
{
    struct k_task f, b;
    struct k_event qf[2], qb[2];

    fiber_reset();
    k_task_init_fiber(&sched, &f, "f", 0, waiter, NULL, qf, 2, &fiber, fiber_stack, FIBER_STACK);
    k_task_init(&sched, &b, "b", 1, logger, NULL, qb, 2);
    CHECK_EQ(k_fiber_call(&b, 1, 0), -EINVAL); /* not a fiber task */
    CHECK_EQ(k_fiber_call(&f, 2, 0), 0);       /* nothing to wait for: done on return */
    CHECK_STR(log_buf, "f2");
    CHECK(!fiber.busy);
    CHECK_EQ(k_fiber_call(&f, 1, 0), 0); /* parks: back here while it waits */
    CHECK(fiber.parked);
    CHECK_EQ(k_fiber_call(&f, 2, 0), -EBUSY);
    CHECK_EQ(k_post(&b, 3, 0), 0);
    CHECK(k_step(&sched)); /* the others go on meanwhile */
    CHECK_STR(log_buf, "f2f1b3");
    fiber_go = true;
    CHECK(k_step(&sched)); /* the scheduler's pass finishes it */
    CHECK_STR(log_buf, "f2f1b3F1");
    CHECK(!fiber.busy);
    CHECK_EQ(f.dispatched, 2);
    CHECK_EQ(f.count, 0); /* the calls bypassed the queue */
}

static uintptr_t deep_frame;

static void deep(struct k_task *t, const struct k_event *ev)
{
    volatile uint8_t buf[8192];

    (void)t;
    deep_frame = (uintptr_t)__builtin_frame_address(0);
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i + ev->sig);
    log_sig('s', buf[100]);
}

TEST(fiber_stack_high_water_and_guard)
{
    struct k_task f;
    struct k_event qf[2];

    fiber_reset();
    fake_resets = 0;
    k_task_init_fiber(&sched, &f, "f", 0, deep, NULL, qf, 2, &fiber, fiber_stack, FIBER_STACK);
    CHECK(k_fiber_stack_used(&f) < 128); /* the first frame only */
    CHECK_EQ(k_post(&f, 1, 0), 0);
    CHECK(k_step(&sched));
    CHECK(k_fiber_stack_used(&f) >= 8192);
    /* SysV ABI: a frame is 16-byte aligned (SSE spills fault otherwise); the unit build keeps
     * frame pointers, so the frame address is that alignment. */
    CHECK_EQ(deep_frame % 16, 0);
    CHECK(k_fiber_stack_used(&f) < FIBER_STACK / 2);
    CHECK(k_fiber_stack_intact(&f));
    CHECK_EQ(fake_resets, 0);
    /* An overflow reaching the far end: the next switch back resets the board. */
    fiber_stack[3] = 0;
    CHECK(!k_fiber_stack_intact(&f));
    CHECK_EQ(k_post(&f, 2, 0), 0);
    if (setjmp(fake_reset_jmp) == 0)
        (void)k_step(&sched);
    CHECK_EQ(fake_resets, 1);
    CHECK(!k_in_fiber());
}

int main(void)
{
    RUN(priorities_then_fifo);
    RUN(full_queue_refuses_and_counts);
    RUN(one_shot_timer_fires_once_when_due);
    RUN(periodic_timer_skips_missed_periods);
    RUN(run_idles_until_timer_then_stops);
    RUN(run_wakes_for_interrupt_posts_and_caps_idle);
    RUN(parked_fiber_lets_others_run_and_keeps_its_events);
    RUN(parked_fiber_bounds_the_idle_and_resumes_at_its_deadline);
    RUN(fiber_run_finishes_a_parked_handler_for_a_plain_task);
    RUN(fiber_call_runs_an_idle_handler_at_once);
    RUN(fiber_stack_high_water_and_guard);
    return unit_summary();
}
