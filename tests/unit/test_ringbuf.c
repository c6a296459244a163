#include "hal/ringbuf.h"

#include "unit.h"

TEST(put_get_full_empty)
{
    uint8_t mem[8], c;
    struct ringbuf r;

    ringbuf_init(&r, mem, sizeof(mem));
    CHECK_EQ(ringbuf_get(&r, &c), -1);
    for (int i = 0; i < 8; i++)
        CHECK_EQ(ringbuf_put(&r, (uint8_t)i), 0);
    CHECK_EQ(ringbuf_put(&r, 99), -1);
    CHECK_EQ(ringbuf_free(&r), 0);
    for (int i = 0; i < 8; i++) {
        CHECK_EQ(ringbuf_get(&r, &c), 0);
        CHECK_EQ(c, i);
    }
    CHECK_EQ(ringbuf_used(&r), 0);
}

TEST(indices_wrap_past_uint32_max)
{
    uint8_t mem[16], out[16];
    struct ringbuf r;

    ringbuf_init(&r, mem, sizeof(mem));
    r.head = r.tail = UINT32_MAX - 5;
    CHECK_EQ(ringbuf_write(&r, (const uint8_t *)"0123456789abcdefXYZ", 19), 16);
    CHECK_EQ(ringbuf_used(&r), 16);
    CHECK_EQ(ringbuf_read(&r, out, 10), 10);
    CHECK(memcmp(out, "0123456789", 10) == 0);
    CHECK_EQ(ringbuf_write(&r, (const uint8_t *)"ghij", 4), 4);
    CHECK_EQ(ringbuf_read(&r, out, sizeof(out)), 10);
    CHECK(memcmp(out, "abcdefghij", 10) == 0);
}

int main(void)
{
    RUN(put_get_full_empty);
    RUN(indices_wrap_past_uint32_max);
    return unit_summary();
}
