/*
 * crypto/x509_der — the DER writing that certificates (crypto/x509.c) and CRLs (crypto/x509_crl.c)
 * share: tags around content, times, the signature algorithm, key identifiers, extensions.
 *
 * mbedTLS's ASN.1 writers fill a buffer from its end towards its start, so each structure is
 * written last field first. Every function returns the bytes it wrote or a negative mbedTLS error.
 */
#ifndef CRYPTO_X509_DER_H
#define CRYPTO_X509_DER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/x509.h"

/* Bytes written into [start, *p) by f, added to len; any error leaves the function. */
#define DER_ADD(len, f)                                                                            \
    do {                                                                                           \
        int ret_ = (f);                                                                            \
        if (ret_ < 0)                                                                              \
            return ret_;                                                                           \
        (len) += (size_t)ret_;                                                                     \
    } while (0)

#define DER_SEQ 0x30 /* MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE */

/* Tag and length in front of content bytes that are already written. */
int der_wrap(unsigned char **p, unsigned char *start, size_t content, unsigned char tag);
/* RFC 5280 §4.1.2.5 / §5.1.2.4: UTCTime through 2049, GeneralizedTime from 2050. */
int der_write_time(unsigned char **p, unsigned char *start, const x509_time *t);
/* sha256WithRSAEncryption (NULL parameters) or ecdsa-with-SHA256 (none). */
int der_write_sig_alg(unsigned char **p, unsigned char *start, enum x509_key_alg alg);
/* OCTET STRING */
int der_write_octets(unsigned char **p, unsigned char *start, const uint8_t *b, size_t n);
/* AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING } */
int der_write_aki(unsigned char **p, unsigned char *start, const uint8_t id[20]);
/* Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
 * around an extnValue of `value` bytes already written; returns the bytes it added. */
int der_wrap_ext(unsigned char **p, unsigned char *start, size_t value, const char *oid,
                 size_t oid_len, bool critical);

/* One extension: its value written by value_writer, then wrapped (oid: an MBEDTLS_OID string). */
#define DER_EXT(p, start, len, value_writer, oid, critical)                                        \
    do {                                                                                           \
        size_t v_ = 0;                                                                             \
        DER_ADD(v_, value_writer);                                                                 \
        DER_ADD(v_, der_wrap_ext(p, start, v_, oid, sizeof(oid) - 1, critical));                   \
        (len) += v_;                                                                               \
    } while (0)

/* RFC 5280 §4.2.1.2 method 1: SHA-1 over the subjectPublicKey BIT STRING's bits of a DER
 * SubjectPublicKeyInfo. 0 or -EINVAL. */
int der_key_identifier(const uint8_t *spki, size_t len, uint8_t id[20]);

#endif
