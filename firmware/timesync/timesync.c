#include "timesync.h"

#include <string.h>

static int64_t distance(int64_t a, int64_t b)
{
    return a > b ? a - b : b - a;
}

void timesync_decide(const struct timesync_sample *s, unsigned n, struct timesync_verdict *v)
{
    int64_t group[8];
    unsigned best = 0, best_i = 0;

    memset(v, 0, sizeof(*v));
    v->action = TIMESYNC_NO_ANSWER;
    if (n > sizeof(group) / sizeof(group[0]))
        n = sizeof(group) / sizeof(group[0]);
    /* The largest set of answers within TIMESYNC_AGREE_MS of one of them; the first wins a tie. */
    for (unsigned i = 0; i < n; i++) {
        unsigned k = 0;
        if (!s[i].ok)
            continue;
        v->answered++;
        for (unsigned j = 0; j < n; j++)
            k += s[j].ok && distance(s[i].offset_ms, s[j].offset_ms) <= TIMESYNC_AGREE_MS;
        if (k > best) {
            best = k;
            best_i = i;
        }
    }
    if (v->answered == 0)
        return;
    v->agreeing = best;
    if (2 * best <= n) {
        v->action = TIMESYNC_DISAGREE;
        return;
    }
    /* Their median: sorted by insertion, the middle one (the lower middle of an even count). */
    unsigned m = 0;
    for (unsigned j = 0; j < n; j++) {
        if (!s[j].ok || distance(s[best_i].offset_ms, s[j].offset_ms) > TIMESYNC_AGREE_MS)
            continue;
        unsigned at = m++;
        for (; at > 0 && group[at - 1] > s[j].offset_ms; at--)
            group[at] = group[at - 1];
        group[at] = s[j].offset_ms;
    }
    v->offset_ms = group[(m - 1) / 2];
    int64_t size = distance(v->offset_ms, 0);
    v->action = size < TIMESYNC_STEP_MIN_MS    ? TIMESYNC_IN_SYNC
                : size <= TIMESYNC_STEP_MAX_MS ? TIMESYNC_STEP
                                               : TIMESYNC_CONFIRM;
}
