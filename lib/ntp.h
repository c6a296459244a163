/*
 * lib/ntp — the SNTP client's packets (RFC 4330 / RFC 5905's on-wire format), nothing else.
 *
 * A request is 48 bytes: version 4, mode 3 (client), everything zero but the transmit timestamp,
 * which carries a random nonce instead of our time (what chrony does: the clock is not told to
 * the network, and the answer must echo the nonce as its origin timestamp, so an off-path forger
 * has to guess 64 bits). An answer is checked before any of it is used: 48 bytes or more, mode 4
 * (server), version 3 or 4, the nonce echoed, a synchronized server (leap indicator not 3,
 * stratum 1..15; stratum 0 is a kiss-o'-death, whose code is reported), non-zero receive and
 * transmit timestamps.
 */
#ifndef NTP_H
#define NTP_H

#include <stddef.h>
#include <stdint.h>

#define NTP_PACKET_LEN 48
#define NTP_PORT       123

/* The request for this nonce into out. */
void ntp_request(uint64_t nonce, uint8_t out[NTP_PACKET_LEN]);

struct ntp_answer {
    int64_t rx_ms; /* when the server received the request: Unix time in ms */
    int64_t tx_ms; /* when it sent the answer */
    uint8_t stratum;
};

/* 0 with *out; or with *why (one line): -2 when it is not an answer to this request (short,
 * not from a server, the nonce not echoed: whoever sent it, keep waiting), -1 when it is the
 * server's answer and says no (a kiss-o'-death, whose code goes into kiss[5]; unsynchronized;
 * no timestamps). */
int ntp_parse(const uint8_t *p, size_t len, uint64_t nonce, struct ntp_answer *out, char kiss[5],
              const char **why);

/*
 * What the answer says about our clock, from our clock's reading when the request left (t1_ms)
 * and when the answer came (t4_ms), both Unix ms: how far the server's time is ahead of ours, and
 * the round trip less the server's own time. RFC 5905's offset and delay.
 */
void ntp_offset(const struct ntp_answer *a, int64_t t1_ms, int64_t t4_ms, int64_t *offset_ms,
                int64_t *delay_ms);

#endif
