/*
 * crypto/x509_self — a self-signed X.509 v3 certificate for a key that lives in the token.
 *
 * Used for the HTTPS server's own certificate: basicConstraints CA:FALSE, keyUsage
 * digitalSignature, extendedKeyUsage serverAuth, subject key identifier; SHA-256 with the key's
 * algorithm. The signature is made through the key context (crypto/token_pk), i.e. by the token.
 */
#ifndef CRYPTO_X509_SELF_H
#define CRYPTO_X509_SELF_H

#include <stddef.h>
#include <stdint.h>

#include "mbedtls/pk.h"

struct x509_self_params {
    const char *subject;   /* RFC 4514-style, e.g. "CN=signet,O=Signet" */
    const uint8_t *serial; /* RFC 5280 §4.1.2.2: positive, at most 20 octets */
    size_t serial_len;
    const char *not_before; /* "YYYYMMDDhhmmss", UTC */
    const char *not_after;
};

/* DER into out[cap]; 0, -EINVAL (bad parameters), -ENOSPC, or -EIO (the token did not sign). */
int x509_self_signed(mbedtls_pk_context *key, const struct x509_self_params *p, uint8_t *out,
                     size_t cap, size_t *len);

#endif
