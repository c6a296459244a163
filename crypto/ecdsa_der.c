#include "ecdsa_der.h"

#include <errno.h>
#include <string.h>

/* DER INTEGER of an unsigned big-endian value: no leading zero bytes, but one 0x00 in front when
 * the top bit is set (X.690 §8.3: two's complement, minimal). */
static size_t der_uint(const uint8_t *v, size_t n, uint8_t *out)
{
    while (n > 1 && v[0] == 0) {
        v++;
        n--;
    }
    size_t pad = (v[0] & 0x80) ? 1 : 0;
    out[0] = 0x02;
    out[1] = (uint8_t)(n + pad);
    out[2] = 0;
    memcpy(out + 2 + pad, v, n);
    return 2 + pad + n;
}

int ecdsa_raw_to_der(const uint8_t *rs, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
    uint8_t body[ECDSA_DER_MAX];
    size_t half = len / 2, n;

    /* Each INTEGER is at most 2 + 1 + 60 bytes, so the body stays under 128: one length byte. */
    if (len == 0 || len % 2 || half > 60)
        return -EINVAL;
    n = der_uint(rs, half, body);
    n += der_uint(rs + half, half, body + n);
    if (cap < n + 2)
        return -ENOBUFS;
    out[0] = 0x30;
    out[1] = (uint8_t)n;
    memcpy(out + 2, body, n);
    *out_len = n + 2;
    return 0;
}
