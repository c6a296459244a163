#include "ntp.h"

#include <string.h>

/* Seconds from 1900-01-01 (NTP's era 0) to 1970-01-01. */
#define NTP_UNIX_DELTA 2208988800u

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
    return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

/* An NTP timestamp as Unix ms. The 32-bit seconds wrap in 2036 (era 1): values below 2^31 are
 * taken as era 1, which is right from 1968 to 2104. */
static int64_t unix_ms(uint64_t ts)
{
    uint32_t secs = (uint32_t)(ts >> 32);
    int64_t s = (int64_t)secs - NTP_UNIX_DELTA;

    if (secs < 0x80000000u)
        s += (int64_t)1 << 32;
    return s * 1000 + (int64_t)(((ts & 0xffffffffu) * 1000) >> 32);
}

void ntp_request(uint64_t nonce, uint8_t out[NTP_PACKET_LEN])
{
    memset(out, 0, NTP_PACKET_LEN);
    out[0] = 0 << 6 | 4 << 3 | 3; /* no leap warning, version 4, client */
    for (int i = 0; i < 8; i++)
        out[40 + i] = (uint8_t)(nonce >> (56 - 8 * i));
}

int ntp_parse(const uint8_t *p, size_t len, uint64_t nonce, struct ntp_answer *out, char kiss[5],
              const char **why)
{
    kiss[0] = '\0';
    *why = "a short answer";
    if (len < NTP_PACKET_LEN)
        return -2;
    unsigned leap = p[0] >> 6, version = (p[0] >> 3) & 7, mode = p[0] & 7;
    *why = "not a server's answer";
    if (mode != 4 || version < 3 || version > 4)
        return -2;
    *why = "an answer to another request (the nonce is not echoed)";
    if (get_be64(p + 24) != nonce)
        return -2;
    if (p[1] == 0) {
        for (int i = 0; i < 4; i++)
            kiss[i] = (p[12 + i] >= 0x20 && p[12 + i] < 0x7f) ? (char)p[12 + i] : '?';
        kiss[4] = '\0';
        *why = "the server refuses to answer (kiss-o'-death)";
        return -1;
    }
    *why = "the server is not synchronized";
    if (leap == 3 || p[1] > 15)
        return -1;
    uint64_t rx = get_be64(p + 32), tx = get_be64(p + 40);
    *why = "the answer has no timestamps";
    if (rx == 0 || tx == 0)
        return -1;
    out->rx_ms = unix_ms(rx);
    out->tx_ms = unix_ms(tx);
    out->stratum = p[1];
    return 0;
}

void ntp_offset(const struct ntp_answer *a, int64_t t1_ms, int64_t t4_ms, int64_t *offset_ms,
                int64_t *delay_ms)
{
    *offset_ms = ((a->rx_ms - t1_ms) + (a->tx_ms - t4_ms)) / 2;
    *delay_ms = (t4_ms - t1_ms) - (a->tx_ms - a->rx_ms);
}
