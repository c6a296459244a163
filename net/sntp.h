/*
 * net/sntp — ask time servers what time it is (docs/network.md "Network time").
 *
 * One round at a time: every server (HOST[:PORT], HOST an address or a name looked up by
 * net/resolve) is asked once over UDP (lib/ntp's packets), and done() gets one sample per server
 * when all have answered or SNTP_ROUND_MS has passed. A sample says how far the server's clock is
 * ahead of ours, or why there is none. Nothing here changes the clock: whether to believe the
 * samples is the firmware's decision (firmware/timesync). Runs in the net task.
 */
#ifndef SNTP_H
#define SNTP_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/hostname.h"

#define SNTP_SERVERS  3
#define SNTP_SPEC_MAX (HOSTNAME_MAX + 6) /* HOST:PORT */
/* The round's bound: a name lookup (up to 10 s, net/resolve) and then 2 s for the answer. */
#define SNTP_ROUND_MS  12000u
#define SNTP_ANSWER_MS 2000u
/* An answer whose round trip, less the server's own time, exceeds this is not used: its offset
 * could be wrong by half of it. */
#define SNTP_DELAY_MAX_MS 1000

struct sntp_sample {
    bool ok;
    int64_t offset_ms; /* the server's time minus ours */
    int64_t delay_ms;
    uint8_t stratum;
    char why[SNTP_SPEC_MAX + 120]; /* !ok: one line, naming the server */
};

typedef void (*sntp_done_fn)(void *ctx, const struct sntp_sample *s, unsigned n);

/* "HOST[:PORT]" (port 123 unless given): 0 with host and port, or -1. */
int sntp_parse_server(const char *spec, char host[HOSTNAME_MAX + 1], uint16_t *port);

/* Start a round over n (1..SNTP_SERVERS) servers: 0, or -EBUSY (one is out), -EINVAL (a server
 * sntp_parse_server refuses). done() is called exactly once, later, from the net task. */
int sntp_poll(const char (*servers)[SNTP_SPEC_MAX], unsigned n, sntp_done_fn done, void *ctx);

/* Time-outs; call every tick. */
void sntp_tick(uint32_t now_ms);

#endif
