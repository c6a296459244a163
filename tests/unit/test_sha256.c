#include "crypto/sha256.h"

#include <stdlib.h>

#include "unit.h"

static const char *hex(const uint8_t *d)
{
    static char s[65];
    for (int i = 0; i < 32; i++)
        sprintf(s + 2 * i, "%02x", d[i]);
    return s;
}

TEST(fips_180_examples)
{
    uint8_t d[32];

    sha256("", 0, d);
    CHECK_STR(hex(d), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sha256("abc", 3, d);
    CHECK_STR(hex(d), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha256(two, strlen(two), d);
    CHECK_STR(hex(d), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(million_a_in_odd_pieces)
{
    struct sha256 c;
    uint8_t d[32], chunk[997];

    memset(chunk, 'a', sizeof(chunk));
    sha256_init(&c);
    size_t left = 1000000;
    while (left) {
        size_t n = left < sizeof(chunk) ? left : sizeof(chunk);
        sha256_update(&c, chunk, n);
        left -= n;
    }
    sha256_final(&c, d);
    CHECK_STR(hex(d), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(padding_boundaries_agree_with_one_shot)
{
    uint8_t buf[130], a[32], b[32];
    struct sha256 c;

    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 7);
    for (size_t n = 50; n < sizeof(buf); n++) {
        sha256(buf, n, a);
        sha256_init(&c);
        sha256_update(&c, buf, n / 3);
        sha256_update(&c, buf + n / 3, n - n / 3);
        sha256_final(&c, b);
        CHECK(memcmp(a, b, 32) == 0);
    }
}

int main(void)
{
    RUN(fips_180_examples);
    RUN(million_a_in_odd_pieces);
    RUN(padding_boundaries_agree_with_one_shot);
    return unit_summary();
}
