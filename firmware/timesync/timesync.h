/*
 * firmware/timesync — whether what the time servers say moves the clock: the one decision.
 *
 * Every certificate's validity comes from the clock, so a time server is believed only as far as
 * it has to be:
 * - A majority of the configured servers must agree (within TIMESYNC_AGREE_MS of each other):
 *   one of one, two of two, two of three. A single liar among several is outvoted, and with
 *   several configured a lone answer moves nothing (configure three so that one may fail).
 * - The agreed offset is their median. Under TIMESYNC_STEP_MIN_MS the clock is in sync as the
 *   whole-second RTC can be, and stays.
 * - Up to TIMESYNC_STEP_MAX_MS (1 day) the clock is stepped.
 * - Beyond, it is not moved until the operator confirms on the console: a dead RTC battery and
 *   a lying server look alike from here, and only a person can tell them apart.
 */
#ifndef TIMESYNC_H
#define TIMESYNC_H

#include <stdbool.h>
#include <stdint.h>

#define TIMESYNC_AGREE_MS    2000
#define TIMESYNC_STEP_MIN_MS 2000
#define TIMESYNC_STEP_MAX_MS (86400LL * 1000)

struct timesync_sample {
    bool ok;
    int64_t offset_ms; /* the server's time minus ours */
};

enum timesync_action {
    TIMESYNC_NO_ANSWER, /* no server answered */
    TIMESYNC_DISAGREE,  /* no majority of the configured servers agrees */
    TIMESYNC_IN_SYNC,   /* agreed, and the clock is right */
    TIMESYNC_STEP,      /* agreed: step by offset_ms */
    TIMESYNC_CONFIRM,   /* agreed, but the step is larger than a day: the operator decides */
};

struct timesync_verdict {
    enum timesync_action action;
    int64_t offset_ms; /* the agreed offset (IN_SYNC, STEP, CONFIRM) */
    unsigned agreeing; /* how many servers agree on it */
    unsigned answered;
};

/* What the samples of one round (one per configured server) mean for the clock. */
void timesync_decide(const struct timesync_sample *s, unsigned n, struct timesync_verdict *v);

#endif
