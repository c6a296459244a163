/*
 * tests/fuzz/fuzz_spki.c — arbitrary bytes as a DER SubjectPublicKeyInfo (a user's key in a
 * certification request, a revoker's key in a certificate) and as a raw P-256 point.
 *
 * spki_rsa_parse, spki_rsa_bits and spki_is_p256 read the same bytes and must agree: a key
 * spki_rsa_parse accepts is RSA of SPKI_RSA_MIN_BITS..SPKI_RSA_MAX_BITS by spki_rsa_bits and not
 * P-256; its modulus and exponent, written back by spki_from_rsa, read back the same. The bytes
 * also go to spki_from_p256 as a point. Buffers are exactly as long as the input so ASan sees any
 * read past it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/spki.h"

#define N_MAX (SPKI_RSA_MAX_BITS / 8)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t n[N_MAX], e[16], n2[N_MAX], e2[16], out[1200];
    size_t n_len = 0, e_len = 0, n2_len = 0, e2_len = 0, out_len = 0;
    unsigned bits = 0;
    uint8_t *buf = malloc(size ? size : 1);

    if (!buf)
        return 0;
    memcpy(buf, data, size);
    int ret = spki_rsa_parse(buf, size, n, sizeof(n), &n_len, e, sizeof(e), &e_len);
    int bits_ret = spki_rsa_bits(buf, size, &bits);
    bool p256 = spki_is_p256(buf, size);
    if (ret != 0 && ret != -EINVAL && ret != -ENOTSUP && ret != -ENOSPC)
        abort();
    if (p256 && bits_ret == 0)
        abort(); /* one key cannot be both */
    if (ret == 0) {
        if (bits_ret != 0 || bits < SPKI_RSA_MIN_BITS || bits > SPKI_RSA_MAX_BITS ||
            n_len != (bits + 7) / 8 || n_len > sizeof(n) || e_len == 0 || e_len > sizeof(e) ||
            n[0] == 0 || e[0] == 0)
            abort();
        if (spki_from_rsa(n, n_len, e, e_len, out, sizeof(out), &out_len) != 0 ||
            spki_rsa_parse(out, out_len, n2, sizeof(n2), &n2_len, e2, sizeof(e2), &e2_len) != 0 ||
            n2_len != n_len || e2_len != e_len || memcmp(n, n2, n_len) != 0 ||
            memcmp(e, e2, e_len) != 0)
            abort();
    }
    if (spki_from_p256(buf, size, out, sizeof(out), &out_len) == 0 && !spki_is_p256(out, out_len))
        abort();
    free(buf);
    return 0;
}
