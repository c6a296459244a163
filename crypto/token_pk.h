/*
 * crypto/token_pk — mbedTLS keys whose private half lives in the token.
 *
 * token_pk_p256() makes an mbedTLS P-256 key context that holds the public point and, in place
 * of the private scalar, a small key reference. mbedTLS is built with MBEDTLS_ECDSA_SIGN_ALT, so
 * every ECDSA signature it makes — a TLS handshake's CertificateVerify, a certificate being
 * written — arrives at this module's mbedtls_ecdsa_sign(), which asks the token through the
 * registered callback. The firmware holds no private scalar, and a context whose reference is
 * unknown cannot sign at all.
 */
#ifndef CRYPTO_TOKEN_PK_H
#define CRYPTO_TOKEN_PK_H

#include <stddef.h>
#include <stdint.h>

#include "mbedtls/pk.h"

#define TOKEN_PK_P256_RS 64 /* r || s, 32 bytes each */

/* Sign a digest in the token: r || s into rs. 0 or a negative errno. */
typedef int (*token_pk_sign_fn)(void *ctx, const uint8_t *digest, size_t len,
                                uint8_t rs[TOKEN_PK_P256_RS]);

/*
 * Set up pk (initialised by the caller) as the P-256 key with this uncompressed public point
 * (0x04 || X || Y), signing through fn(ctx, ...). 0 or a negative errno (-EINVAL: not a valid
 * point on P-256; -ENOSPC: too many token keys).
 */
int token_pk_p256(mbedtls_pk_context *pk, const uint8_t *point, size_t len, token_pk_sign_fn fn,
                  void *ctx);

#endif
