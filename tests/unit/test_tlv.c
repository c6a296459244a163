#include "lib/tlv.h"

#include <errno.h>
#include <string.h>

#include "unit.h"

TEST(round_trip)
{
    uint8_t buf[64];
    size_t len = 0;
    struct tlv_reader r;
    uint8_t tag;
    const uint8_t *v;
    size_t n;

    CHECK_EQ(tlv_put(buf, sizeof(buf), &len, 1, "root1", 5), 0);
    CHECK_EQ(tlv_put(buf, sizeof(buf), &len, 2, "", 0), 0);
    CHECK_EQ(tlv_put(buf, sizeof(buf), &len, 9, "xyz", 3), 0);
    CHECK_EQ(len, 3u + 5 + 3 + 3 + 3);
    tlv_reader_init(&r, buf, len);
    CHECK(tlv_next(&r, &tag, &v, &n) && tag == 1 && n == 5 && memcmp(v, "root1", 5) == 0);
    CHECK(tlv_next(&r, &tag, &v, &n) && tag == 2 && n == 0);
    CHECK(tlv_next(&r, &tag, &v, &n) && tag == 9 && n == 3);
    CHECK(!tlv_next(&r, &tag, &v, &n) && !r.bad);
}

TEST(full_buffer_refuses_and_keeps_length)
{
    uint8_t buf[8];
    size_t len = 0;

    CHECK_EQ(tlv_put(buf, sizeof(buf), &len, 1, "abcde", 5), 0);
    CHECK_EQ(tlv_put(buf, sizeof(buf), &len, 2, "", 0), -ENOSPC);
    CHECK_EQ(len, 8u);
}

TEST(truncation_at_every_length_is_damage)
{
    uint8_t buf[32];
    size_t len = 0;
    struct tlv_reader r;
    uint8_t tag;
    const uint8_t *v;
    size_t n;

    CHECK_EQ(tlv_put(buf, sizeof(buf), &len, 1, "0123456789", 10), 0);
    for (size_t cut = 1; cut < len; cut++) {
        tlv_reader_init(&r, buf, cut);
        CHECK(!tlv_next(&r, &tag, &v, &n));
        CHECK(r.bad);
    }
    buf[1] = 0xff; /* a length running past the end */
    tlv_reader_init(&r, buf, len);
    CHECK(!tlv_next(&r, &tag, &v, &n) && r.bad);
}

int main(void)
{
    RUN(round_trip);
    RUN(full_buffer_refuses_and_keeps_length);
    RUN(truncation_at_every_length_is_damage);
    return unit_summary();
}
