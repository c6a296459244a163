/*
 * crypto/spki — a public key as DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7), from the raw
 * attributes a PKCS#11 token gives: an RSA modulus and exponent, or an uncompressed P-256 point.
 * Written by mbedTLS, so it is the same encoding mbedTLS reads back and compares.
 */
#ifndef CRYPTO_SPKI_H
#define CRYPTO_SPKI_H

#include <stddef.h>
#include <stdint.h>

/* 0, -EINVAL (not a usable key), or -ENOSPC. */
int spki_from_rsa(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len, uint8_t *out,
                  size_t cap, size_t *len);
int spki_from_p256(const uint8_t *point, size_t point_len, uint8_t *out, size_t cap, size_t *len);

#endif
