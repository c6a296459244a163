/* crypto/spki: SubjectPublicKeyInfo written from token attributes and read back for wrapping. */
#include "crypto/spki.h"

#include <errno.h>

#include "crypto/heap.h"
#include "unit.h"

/* A made-up odd modulus of bits bits (not a product of primes: only its form matters here). */
static void modulus(uint8_t *n, size_t bits)
{
    for (size_t i = 0; i < bits / 8; i++)
        n[i] = (uint8_t)(0x5a ^ (i * 37));
    n[0] |= 0x80;
    n[bits / 8 - 1] |= 0x01;
}

static const uint8_t f4[] = {0x01, 0x00, 0x01};

/* P-256's generator as an uncompressed point: a valid public key that holds no secret. */
static const uint8_t p256_g[65] = {
    0x04, 0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5,
    0x63, 0xa4, 0x40, 0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4,
    0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96, 0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a,
    0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e, 0x16, 0x2b, 0xce, 0x33,
    0x57, 0x6b, 0x31, 0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51, 0xf5,
};

TEST(rsa_round_trip_in_bounds)
{
    static const size_t sizes[] = {2048, 3072, 4096};
    uint8_t n[512], der[1024], n2[512], e2[8];
    size_t len = 0, n_len = 0, e_len = 0;

    for (size_t i = 0; i < 3; i++) {
        modulus(n, sizes[i]);
        CHECK_EQ(spki_from_rsa(n, sizes[i] / 8, f4, 3, der, sizeof(der), &len), 0);
        CHECK_EQ(spki_rsa_parse(der, len, n2, sizeof(n2), &n_len, e2, sizeof(e2), &e_len), 0);
        CHECK_EQ(n_len, sizes[i] / 8);
        CHECK(memcmp(n, n2, n_len) == 0);
        CHECK(e_len == 3 && memcmp(e2, f4, 3) == 0);
        CHECK_EQ(spki_rsa_parse(der, len, n2, n_len - 1, &n_len, e2, sizeof(e2), &e_len), -ENOSPC);
    }
}

TEST(refused_keys)
{
    uint8_t n[520], der[1100], n2[512], e2[8];
    size_t len = 0, n_len, e_len;

    modulus(n, 1024); /* too small for content keys */
    CHECK_EQ(spki_from_rsa(n, 128, f4, 3, der, sizeof(der), &len), 0);
    CHECK_EQ(spki_rsa_parse(der, len, n2, sizeof(n2), &n_len, e2, sizeof(e2), &e_len), -ENOTSUP);
    modulus(n, 4104); /* one byte over the largest */
    CHECK_EQ(spki_from_rsa(n, 513, f4, 3, der, sizeof(der), &len), 0);
    CHECK_EQ(spki_rsa_parse(der, len, n2, sizeof(n2), &n_len, e2, sizeof(e2), &e_len), -ENOTSUP);
    CHECK_EQ(spki_from_p256(p256_g, sizeof(p256_g), der, sizeof(der), &len), 0);
    CHECK_EQ(spki_rsa_parse(der, len, n2, sizeof(n2), &n_len, e2, sizeof(e2), &e_len), -ENOTSUP);
}

TEST(malformed_der)
{
    uint8_t n[256], der[600], n2[512], e2[8];
    size_t len = 0, n_len, e_len;

    modulus(n, 2048);
    CHECK_EQ(spki_from_rsa(n, 256, f4, 3, der, sizeof(der), &len), 0);
    der[len] = 0x00; /* a byte after the SEQUENCE */
    CHECK_EQ(spki_rsa_parse(der, len + 1, n2, sizeof(n2), &n_len, e2, sizeof(e2), &e_len), -EINVAL);
    for (size_t cut = 0; cut < len; cut += 7)
        CHECK_EQ(spki_rsa_parse(der, cut, n2, sizeof(n2), &n_len, e2, sizeof(e2), &e_len), -EINVAL);
    der[len / 2] ^= 0xff; /* inside the modulus' BIT STRING: still parses, or is refused */
    int ret = spki_rsa_parse(der, len, n2, sizeof(n2), &n_len, e2, sizeof(e2), &e_len);
    CHECK(ret == 0 || ret == -EINVAL);
    der[len / 2] ^= 0xff;
    der[0] = 0x31; /* a SET, not a SEQUENCE */
    CHECK_EQ(spki_rsa_parse(der, len, n2, sizeof(n2), &n_len, e2, sizeof(e2), &e_len), -EINVAL);
    CHECK_EQ(spki_rsa_parse(NULL, 0, n2, sizeof(n2), &n_len, e2, sizeof(e2), &e_len), -EINVAL);
}

TEST(no_heap_left_behind)
{
    struct crypto_heap_stats st;

    crypto_heap_stats(&st);
    CHECK_EQ(st.in_use, 0);
}

int main(void)
{
    RUN(rsa_round_trip_in_bounds);
    RUN(refused_keys);
    RUN(malformed_der);
    RUN(no_heap_left_behind);
    return unit_summary();
}
