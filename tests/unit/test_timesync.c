#include "firmware/timesync/timesync.h"

#include "unit.h"

#define DAY (86400LL * 1000)

static struct timesync_verdict decide(const struct timesync_sample *s, unsigned n)
{
    struct timesync_verdict v;
    timesync_decide(s, n, &v);
    return v;
}

TEST(one_server_is_believed_within_a_day)
{
    struct timesync_sample s[1] = {{true, 300}};
    CHECK_EQ(decide(s, 1).action, TIMESYNC_IN_SYNC);
    s[0].offset_ms = -5000;
    CHECK_EQ(decide(s, 1).action, TIMESYNC_STEP);
    CHECK_EQ(decide(s, 1).offset_ms, -5000);
    s[0].offset_ms = DAY;
    CHECK_EQ(decide(s, 1).action, TIMESYNC_STEP);
    s[0].offset_ms = DAY + 1;
    CHECK_EQ(decide(s, 1).action, TIMESYNC_CONFIRM); /* a year off, or 2 days: the operator */
    s[0].offset_ms = -2 * DAY;
    CHECK_EQ(decide(s, 1).action, TIMESYNC_CONFIRM);
    s[0].ok = false;
    CHECK_EQ(decide(s, 1).action, TIMESYNC_NO_ANSWER);
}

TEST(a_single_liar_does_not_move_the_clock)
{
    /* two of three agree that the clock is right; the third says 2 days */
    struct timesync_sample s[3] = {{true, 100}, {true, 2 * DAY}, {true, -400}};
    struct timesync_verdict v = decide(s, 3);
    CHECK_EQ(v.action, TIMESYNC_IN_SYNC);
    CHECK_EQ(v.agreeing, 2);
    /* two configured, they disagree: nothing moves */
    CHECK_EQ(decide(s, 2).action, TIMESYNC_DISAGREE);
    /* two configured, one answers: not a majority */
    struct timesync_sample one[2] = {{true, 50000}, {false, 0}};
    CHECK_EQ(decide(one, 2).action, TIMESYNC_DISAGREE);
    CHECK_EQ(decide(one, 2).answered, 1);
    /* three configured, one answers */
    struct timesync_sample lone[3] = {{false, 0}, {true, 7000}, {false, 0}};
    CHECK_EQ(decide(lone, 3).action, TIMESYNC_DISAGREE);
}

TEST(the_agreed_offset_is_the_median)
{
    struct timesync_sample s[3] = {{true, 10000}, {true, 11500}, {true, 9000}};
    struct timesync_verdict v = decide(s, 3);
    CHECK_EQ(v.action, TIMESYNC_STEP);
    CHECK_EQ(v.agreeing, 3);
    CHECK_EQ(v.offset_ms, 10000);
    /* two agree and the liar is left out of the median */
    struct timesync_sample t[3] = {{true, -DAY * 300}, {true, 4000}, {true, 5000}};
    v = decide(t, 3);
    CHECK_EQ(v.action, TIMESYNC_STEP);
    CHECK_EQ(v.agreeing, 2);
    CHECK_EQ(v.offset_ms, 4000);
}

int main(void)
{
    RUN(one_server_is_believed_within_a_day);
    RUN(a_single_liar_does_not_move_the_clock);
    RUN(the_agreed_offset_is_the_median);
    return unit_summary();
}
