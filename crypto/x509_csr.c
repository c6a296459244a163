/*
 * crypto/x509_csr — read what a user's PKCS#10 request asks for (certification, DESIGN.md R12).
 * The signature is checked by x509_csr_verify, against the key re-encoded here, so the two can
 * never disagree about which key was proved.
 */
#include "crypto/x509.h"

#include <errno.h>
#include <string.h>

#include "mbedtls/oid.h"
#include "mbedtls/x509_csr.h"

/* The subject's one CN, printable ASCII; false when absent, repeated or unfit. */
static bool subject_cn(const mbedtls_x509_name *n, char out[X509_CN_MAX + 1])
{
    bool found = false;

    for (; n; n = n->next) {
        if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) != 0)
            continue;
        if (found || n->val.len == 0 || n->val.len > X509_CN_MAX)
            return false;
        for (size_t i = 0; i < n->val.len; i++)
            if (n->val.p[i] < 0x20 || n->val.p[i] > 0x7e)
                return false;
        memcpy(out, n->val.p, n->val.len);
        out[n->val.len] = '\0';
        found = true;
    }
    return found && out[0] != ' ' && out[strlen(out) - 1] != ' ';
}

int x509_csr_read(const uint8_t *csr, size_t len, char cn[X509_CN_MAX + 1], uint8_t *spki,
                  size_t cap, size_t *spki_len, const char **why)
{
    mbedtls_x509_csr req;
    unsigned char key[X509_SPKI_MAX];
    int ret = -EINVAL;

    mbedtls_x509_csr_init(&req);
    *why = "not a PKCS#10 certificate request";
    if (mbedtls_x509_csr_parse_der(&req, csr, len) != 0)
        goto out;
    *why = "the request's subject needs one CN of 1-64 printable characters";
    if (!subject_cn(&req.subject, cn))
        goto out;
    *why = "the request's public key cannot be encoded";
    int n = mbedtls_pk_write_pubkey_der(&req.pk, key, sizeof(key));
    if (n <= 0 || (size_t)n > cap)
        goto out;
    memcpy(spki, key + sizeof(key) - n, (size_t)n);
    *spki_len = (size_t)n;
    ret = x509_csr_verify(csr, len, spki, *spki_len, why) == 0 ? 0 : -EINVAL;
    if (ret && strstr(*why, "proof of possession"))
        *why = "the request's signature does not verify";
out:
    mbedtls_x509_csr_free(&req);
    return ret;
}
