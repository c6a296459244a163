#include "crypto/ecdsa_der.h"

#include <errno.h>

#include "unit.h"

TEST(minimal_integers_and_sign_padding)
{
    uint8_t rs[64], der[ECDSA_DER_MAX];
    size_t n = 0;

    memset(rs, 0, sizeof(rs));
    rs[31] = 0x01; /* r = 1: leading zeros dropped */
    rs[32] = 0x80; /* s has its top bit set: a 0x00 goes in front */
    rs[63] = 0x02;
    CHECK_EQ(ecdsa_raw_to_der(rs, 64, der, sizeof(der), &n), 0);
    CHECK_EQ(n, 2 + 3 + 2 + 33);
    CHECK(der[0] == 0x30 && der[1] == n - 2);
    CHECK(der[2] == 0x02 && der[3] == 1 && der[4] == 0x01);
    CHECK(der[5] == 0x02 && der[6] == 33 && der[7] == 0x00 && der[8] == 0x80);
    CHECK_EQ(der[n - 1], 0x02);
}

TEST(zero_and_bad_sizes)
{
    uint8_t rs[130] = {0}, der[ECDSA_DER_MAX];
    size_t n;

    CHECK_EQ(ecdsa_raw_to_der(rs, 64, der, sizeof(der), &n), 0);
    CHECK(n == 8 && der[3] == 1 && der[4] == 0); /* zero is one 0x00 byte */
    CHECK_EQ(ecdsa_raw_to_der(rs, 63, der, sizeof(der), &n), -EINVAL);
    CHECK_EQ(ecdsa_raw_to_der(rs, 0, der, sizeof(der), &n), -EINVAL);
    CHECK_EQ(ecdsa_raw_to_der(rs, 130, der, sizeof(der), &n), -EINVAL);
    memset(rs, 0xff, 64);
    CHECK_EQ(ecdsa_raw_to_der(rs, 64, der, 10, &n), -ENOBUFS);
    CHECK_EQ(ecdsa_raw_to_der(rs, 64, der, sizeof(der), &n), 0);
    CHECK_EQ(n, 72); /* the largest P-256 signature */
}

int main(void)
{
    RUN(minimal_integers_and_sign_padding);
    RUN(zero_and_bad_sizes);
    return unit_summary();
}
