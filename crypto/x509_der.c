/*
 * crypto/x509_der.c — DER writers shared by certificates and CRLs (crypto/x509_der.h).
 */
#include "crypto/x509_der.h"

#include <errno.h>

#include "mbedtls/asn1.h"
#include "mbedtls/asn1write.h"
#include "mbedtls/oid.h"
#include "mbedtls/sha1.h"

int der_wrap(unsigned char **p, unsigned char *start, size_t content, unsigned char tag)
{
    size_t len = 0;
    DER_ADD(len, mbedtls_asn1_write_len(p, start, content));
    DER_ADD(len, mbedtls_asn1_write_tag(p, start, tag));
    return (int)len;
}

int der_write_time(unsigned char **p, unsigned char *start, const x509_time *t)
{
    char s[16];
    size_t n = 0;
    int v[6] = {t->year, t->mon, t->day, t->hour, t->min, t->sec};

    if (t->year < 1950 || t->year > 9999 || t->mon < 1 || t->mon > 12 || t->day < 1 ||
        t->day > 31 || t->hour > 23 || t->min > 59 || t->sec > 59 || t->hour < 0 || t->min < 0 ||
        t->sec < 0)
        return MBEDTLS_ERR_ASN1_INVALID_DATA;
    bool utc = t->year < 2050;
    for (int i = 0; i < 6; i++) {
        int x = v[i];
        if (i == 0 && !utc) {
            s[n++] = (char)('0' + x / 1000);
            s[n++] = (char)('0' + x / 100 % 10);
        }
        x %= 100;
        s[n++] = (char)('0' + x / 10);
        s[n++] = (char)('0' + x % 10);
    }
    s[n++] = 'Z';
    size_t len = 0;
    DER_ADD(len, mbedtls_asn1_write_raw_buffer(p, start, (const unsigned char *)s, n));
    DER_ADD(len,
            der_wrap(p, start, n, utc ? MBEDTLS_ASN1_UTC_TIME : MBEDTLS_ASN1_GENERALIZED_TIME));
    return (int)len;
}

int der_write_sig_alg(unsigned char **p, unsigned char *start, enum x509_key_alg alg)
{
    if (alg == X509_KEY_RSA)
        return mbedtls_asn1_write_algorithm_identifier(
            p, start, MBEDTLS_OID_PKCS1_SHA256, MBEDTLS_OID_SIZE(MBEDTLS_OID_PKCS1_SHA256), 0);
    /* RFC 5758 §3.2: ecdsa-with-SHA256 has no parameters at all, not even NULL. */
    size_t len = 0;
    DER_ADD(len, mbedtls_asn1_write_oid(p, start, MBEDTLS_OID_ECDSA_SHA256,
                                        MBEDTLS_OID_SIZE(MBEDTLS_OID_ECDSA_SHA256)));
    DER_ADD(len, der_wrap(p, start, len, DER_SEQ));
    return (int)len;
}

int der_key_identifier(const uint8_t *spki, size_t len, uint8_t id[20])
{
    unsigned char *c = (unsigned char *)(uintptr_t)spki, *end = c + len;
    size_t n;

    if (mbedtls_asn1_get_tag(&c, end, &n, DER_SEQ) != 0 || c + n != end ||
        mbedtls_asn1_get_tag(&c, end, &n, DER_SEQ) != 0) /* AlgorithmIdentifier */
        return -EINVAL;
    c += n;
    if (mbedtls_asn1_get_tag(&c, end, &n, MBEDTLS_ASN1_BIT_STRING) != 0 || n < 1 || c + n != end)
        return -EINVAL;
    return mbedtls_sha1(c + 1, n - 1, id) == 0 ? 0 : -EINVAL;
}

int der_wrap_ext(unsigned char **p, unsigned char *start, size_t value, const char *oid,
                 size_t oid_len, bool critical)
{
    size_t len = value;
    DER_ADD(len, der_wrap(p, start, value, MBEDTLS_ASN1_OCTET_STRING));
    if (critical)
        DER_ADD(len, mbedtls_asn1_write_bool(p, start, 1));
    DER_ADD(len, mbedtls_asn1_write_oid(p, start, oid, oid_len));
    DER_ADD(len, der_wrap(p, start, len, DER_SEQ));
    return (int)(len - value);
}

int der_write_octets(unsigned char **p, unsigned char *start, const uint8_t *b, size_t n)
{
    size_t len = 0;
    DER_ADD(len, mbedtls_asn1_write_raw_buffer(p, start, b, n));
    DER_ADD(len, der_wrap(p, start, n, MBEDTLS_ASN1_OCTET_STRING));
    return (int)len;
}

int der_write_aki(unsigned char **p, unsigned char *start, const uint8_t id[20])
{
    size_t len = 0;
    DER_ADD(len, mbedtls_asn1_write_raw_buffer(p, start, id, 20));
    DER_ADD(len, der_wrap(p, start, 20, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 0));
    DER_ADD(len, der_wrap(p, start, len, DER_SEQ));
    return (int)len;
}
