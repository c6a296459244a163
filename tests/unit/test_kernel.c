#include "firmware/kernel/kernel.h"

#include <errno.h>

#include "fake_board.h"
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

int main(void)
{
    RUN(priorities_then_fifo);
    RUN(full_queue_refuses_and_counts);
    RUN(one_shot_timer_fires_once_when_due);
    RUN(periodic_timer_skips_missed_periods);
    RUN(run_idles_until_timer_then_stops);
    RUN(run_wakes_for_interrupt_posts_and_caps_idle);
    return unit_summary();
}
