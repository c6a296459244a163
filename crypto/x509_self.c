#include "crypto/x509_self.h"

#include <errno.h>
#include <string.h>

#include "crypto/rng.h"
#include "mbedtls/error.h"
#include "mbedtls/oid.h"
#include "mbedtls/x509_crt.h"

int x509_self_signed(mbedtls_pk_context *key, const struct x509_self_params *p, uint8_t *out,
                     size_t cap, size_t *len)
{
    mbedtls_x509write_cert crt;
    mbedtls_asn1_sequence eku = {
        .buf = {MBEDTLS_ASN1_OID, MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH),
                (unsigned char *)(uintptr_t)MBEDTLS_OID_SERVER_AUTH},
        .next = NULL,
    };
    int ret = -EINVAL;

    if (p->serial_len == 0 || p->serial_len > 20 || (p->serial[0] & 0x80))
        return -EINVAL;
    mbedtls_x509write_crt_init(&crt);
    mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&crt, key);
    mbedtls_x509write_crt_set_issuer_key(&crt, key);
    if (mbedtls_x509write_crt_set_serial_raw(&crt, (unsigned char *)(uintptr_t)p->serial,
                                             p->serial_len) != 0 ||
        mbedtls_x509write_crt_set_subject_name(&crt, p->subject) != 0 ||
        mbedtls_x509write_crt_set_issuer_name(&crt, p->subject) != 0 ||
        mbedtls_x509write_crt_set_validity(&crt, p->not_before, p->not_after) != 0)
        goto out;
    ret = -ENOMEM;
    if (mbedtls_x509write_crt_set_basic_constraints(&crt, 0, -1) != 0 ||
        mbedtls_x509write_crt_set_key_usage(&crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE) != 0 ||
        mbedtls_x509write_crt_set_ext_key_usage(&crt, &eku) != 0 ||
        mbedtls_x509write_crt_set_subject_key_identifier(&crt) != 0)
        goto out;
    /* The writer fills the buffer from its end; the certificate is moved to the front. */
    int n = mbedtls_x509write_crt_der(&crt, out, cap, rng_random, NULL);
    if (n == MBEDTLS_ERR_ASN1_BUF_TOO_SMALL) {
        ret = -ENOSPC;
        goto out;
    }
    if (n <= 0) {
        ret = -EIO;
        goto out;
    }
    memmove(out, out + cap - (size_t)n, (size_t)n);
    *len = (size_t)n;
    ret = 0;
out:
    mbedtls_x509write_crt_free(&crt);
    return ret;
}
