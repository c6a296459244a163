/*
 * crypto/ecdsa_der — PKCS#11 returns an ECDSA signature as r || s (two equal-width big-endian
 * integers); X.509 and every verifier want the DER ECDSA-Sig-Value, SEQUENCE { INTEGER r,
 * INTEGER s } (RFC 3279 §2.2.3). This converts one to the other.
 */
#ifndef ECDSA_DER_H
#define ECDSA_DER_H

#include <stddef.h>
#include <stdint.h>

/* Up to 60-byte halves (P-256, P-384) the sequence keeps a one-byte length: 2 + 2 x (3 + 60). */
#define ECDSA_DER_MAX 128

/* 0, or -EINVAL for an odd or oversized input, -ENOBUFS when out is too small. */
int ecdsa_raw_to_der(const uint8_t *rs, size_t len, uint8_t *out, size_t cap, size_t *out_len);

#endif
