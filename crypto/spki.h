/*
 * crypto/spki — a public key as DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7), from the raw
 * attributes a PKCS#11 token gives: an RSA modulus and exponent, or an uncompressed P-256 point.
 * Written by mbedTLS, so it is the same encoding mbedTLS reads back and compares.
 */
#ifndef CRYPTO_SPKI_H
#define CRYPTO_SPKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 0, -EINVAL (not a usable key), or -ENOSPC. */
int spki_from_rsa(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len, uint8_t *out,
                  size_t cap, size_t *len);
int spki_from_p256(const uint8_t *point, size_t point_len, uint8_t *out, size_t cap, size_t *len);

/* Smallest and largest RSA modulus accepted from others (a user's key for content keys). */
#define SPKI_RSA_MIN_BITS 2048
#define SPKI_RSA_MAX_BITS 4096

/*
 * The other way: an RSA public key's modulus and exponent (big-endian, no leading zeros) from
 * DER SubjectPublicKeyInfo. The DER must be exactly one SEQUENCE filling len. 0, -EINVAL (not a
 * SubjectPublicKeyInfo), -ENOTSUP (a key, but not RSA of SPKI_RSA_MIN_BITS ..
 * SPKI_RSA_MAX_BITS), -ENOSPC (n_cap or e_cap too small).
 */
int spki_rsa_parse(const uint8_t *der, size_t len, uint8_t *n, size_t n_cap, size_t *n_len,
                   uint8_t *e, size_t e_cap, size_t *e_len);

/* What a DER SubjectPublicKeyInfo (one SEQUENCE filling len) holds, for policy checks: 0 and the
 * RSA modulus size in *bits, or -EINVAL (not one, or not RSA). */
int spki_rsa_bits(const uint8_t *der, size_t len, unsigned *bits);
/* An EC key on P-256. */
bool spki_is_p256(const uint8_t *der, size_t len);

#endif
