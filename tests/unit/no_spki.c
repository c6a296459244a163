/* tests/unit/no_spki.c — firmware/token builds SPKIs for public keys (crypto/spki); tests that
 * never ask for one link these instead of crypto/spki.c and its mbedTLS. */
#include "crypto/spki.h"

int spki_from_rsa(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len, uint8_t *out,
                  size_t cap, size_t *len)
{
    (void)n, (void)n_len, (void)e, (void)e_len, (void)out, (void)cap, (void)len;
    return -1;
}

int spki_from_p256(const uint8_t *point, size_t point_len, uint8_t *out, size_t cap, size_t *len)
{
    (void)point, (void)point_len, (void)out, (void)cap, (void)len;
    return -1;
}
