/*
 * tests/fuzz/fuzz_csr.c — arbitrary bytes as a PKCS#10 request (RFC 2986): the proof of
 * possession an enrollment carries and the certification request a user sends.
 *
 * x509_csr_read takes the request apart; when it accepts one, x509_csr_verify must accept the
 * same request for the key it returned (the two read the same DER and check the same
 * self-signature) and refuse it for another key. When it refuses, x509_csr_verify is still run
 * on the input against a fixed key so its own reading of hostile bytes is exercised. The input
 * sits in a buffer exactly as long as itself so ASan sees any read past it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/x509.h"

static bool one_line(const char *why)
{
    return why && why[0] && !strchr(why, '\n');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Some P-256 SubjectPublicKeyInfo: the structure is what matters, not the point. */
    static const uint8_t other[91] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                      0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                      0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04};
    char cn[X509_CN_MAX + 1];
    uint8_t spki[X509_SPKI_MAX];
    size_t spki_len = 0;
    const char *why = NULL;
    uint8_t *buf = malloc(size ? size : 1);

    if (!buf)
        return 0;
    memcpy(buf, data, size);
    if (x509_csr_read(buf, size, cn, spki, sizeof(spki), &spki_len, &why) == 0) {
        const char *nul = memchr(cn, '\0', sizeof(cn));
        size_t n = nul ? (size_t)(nul - cn) : sizeof(cn);
        if (n == 0 || n > X509_CN_MAX || cn[0] == ' ' || cn[n - 1] == ' ' || spki_len == 0 ||
            spki_len > sizeof(spki))
            abort();
        for (size_t i = 0; i < n; i++)
            if (cn[i] < 0x20 || cn[i] > 0x7e)
                abort();
        if (x509_csr_verify(buf, size, spki, spki_len, &why) != 0)
            abort();
        if (x509_csr_verify(buf, size, other, sizeof(other), &why) == 0 || !one_line(why))
            abort();
    } else {
        if (!one_line(why))
            abort();
        why = NULL;
        if (x509_csr_verify(buf, size, other, sizeof(other), &why) != 0 && !one_line(why))
            abort();
    }
    free(buf);
    return 0;
}
