#include "lib/ntp.h"

#include "unit.h"

#define NONCE 0x0123456789abcdefull

static void put_ts(uint8_t *p, uint64_t ntp_secs, uint32_t frac)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(ntp_secs >> (24 - 8 * i));
        p[4 + i] = (uint8_t)(frac >> (24 - 8 * i));
    }
}

/* A good answer: stratum 2, received at rx and sent at tx (Unix seconds + half a second). */
static void answer(uint8_t p[NTP_PACKET_LEN], int64_t rx, int64_t tx)
{
    uint8_t req[NTP_PACKET_LEN];

    ntp_request(NONCE, req);
    memset(p, 0, NTP_PACKET_LEN);
    p[0] = 0 << 6 | 4 << 3 | 4;
    p[1] = 2;
    memcpy(p + 24, req + 40, 8); /* the nonce, echoed */
    put_ts(p + 32, (uint64_t)(rx + 2208988800LL) & 0xffffffffu, 0x80000000u);
    put_ts(p + 40, (uint64_t)(tx + 2208988800LL) & 0xffffffffu, 0x80000000u);
}

TEST(request)
{
    uint8_t req[NTP_PACKET_LEN];
    ntp_request(NONCE, req);
    CHECK_EQ(req[0], 0x23); /* version 4, client */
    for (int i = 1; i < 40; i++)
        CHECK_EQ(req[i], 0); /* nothing of our clock goes out */
    CHECK_EQ(req[40], 0x01);
    CHECK_EQ(req[47], 0xef);
}

TEST(answer_and_offset)
{
    uint8_t p[NTP_PACKET_LEN];
    struct ntp_answer a;
    char kiss[5];
    const char *why;
    int64_t off, delay;

    answer(p, 1796000000, 1796000000);
    CHECK_EQ(ntp_parse(p, sizeof(p), NONCE, &a, kiss, &why), 0);
    CHECK_EQ(a.rx_ms, 1796000000500LL);
    CHECK_EQ(a.stratum, 2);
    /* our clock a year behind, 20 ms there and back */
    int64_t t1 = (1796000000LL - 365 * 86400) * 1000 + 490;
    ntp_offset(&a, t1, t1 + 20, &off, &delay);
    CHECK_EQ(off, 365LL * 86400 * 1000);
    CHECK_EQ(delay, 20);
    /* after 2036 (era 1): 2040-01-01 */
    answer(p, 2208988800LL, 2208988800LL);
    CHECK_EQ(ntp_parse(p, sizeof(p), NONCE, &a, kiss, &why), 0);
    CHECK_EQ(a.tx_ms, 2208988800500LL);
}

TEST(what_is_refused)
{
    uint8_t p[NTP_PACKET_LEN];
    struct ntp_answer a;
    char kiss[5];
    const char *why;

    answer(p, 1796000000, 1796000000);
    CHECK_EQ(ntp_parse(p, 47, NONCE, &a, kiss, &why), -2);
    CHECK_EQ(ntp_parse(p, sizeof(p), NONCE + 1, &a, kiss, &why), -2); /* not our nonce */
    p[0] = 0 << 6 | 4 << 3 | 3;                                       /* a client's packet */
    CHECK_EQ(ntp_parse(p, sizeof(p), NONCE, &a, kiss, &why), -2);
    answer(p, 1796000000, 1796000000);
    p[0] = 3 << 6 | 4 << 3 | 4; /* unsynchronized */
    CHECK_EQ(ntp_parse(p, sizeof(p), NONCE, &a, kiss, &why), -1);
    answer(p, 1796000000, 1796000000);
    p[1] = 16;
    CHECK_EQ(ntp_parse(p, sizeof(p), NONCE, &a, kiss, &why), -1);
    answer(p, 1796000000, 1796000000);
    p[1] = 0;
    memcpy(p + 12, "RATE", 4);
    CHECK_EQ(ntp_parse(p, sizeof(p), NONCE, &a, kiss, &why), -1);
    CHECK_STR(kiss, "RATE");
    answer(p, 1796000000, 1796000000);
    memset(p + 40, 0, 8);
    CHECK_EQ(ntp_parse(p, sizeof(p), NONCE, &a, kiss, &why), -1);
}

int main(void)
{
    RUN(request);
    RUN(answer_and_offset);
    RUN(what_is_refused);
    return unit_summary();
}
