/*
 * crypto/mbedtls_config.h — the parts of mbedTLS 3.6 Signet builds, the same on both boards.
 *
 * The firmware holds no private key: every signature is made in the token. ECDSA signing is
 * therefore replaced (MBEDTLS_ECDSA_SIGN_ALT, crypto/token_pk.c) by a call into the token, and
 * the only entropy source is the token's RNG (MBEDTLS_ENTROPY_HARDWARE_ALT, crypto/rng.c).
 * What is left is what TLS 1.2/1.3 with an ECDSA P-256 key (as server, and as client with a
 * client certificate), X.509 parsing and writing need. Each setting says why; anything not listed
 * is off.
 */
#ifndef SIGNET_MBEDTLS_CONFIG_H
#define SIGNET_MBEDTLS_CONFIG_H

/* ---- platform ---- */
#include <stddef.h>
#define MBEDTLS_PLATFORM_C
/* Every allocation is counted and capped (crypto/heap.c). */
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_PLATFORM_CALLOC_MACRO crypto_calloc
#define MBEDTLS_PLATFORM_FREE_MACRO   crypto_free
void *crypto_calloc(size_t n, size_t size);
void crypto_free(void *p);
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_OID_C
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ERROR_C

/* ---- randomness: only the token's RNG, whitened by mbedTLS's entropy pool and a CTR_DRBG ---- */
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_ENTROPY_HARDWARE_ALT
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_CTR_DRBG_C

/* ---- hashes and ciphers TLS 1.2/1.3 suites and X.509 need ---- */
#define MBEDTLS_MD_C
#define MBEDTLS_SHA224_C /* comes with SHA-256 */
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA384_C /* TLS_AES_256_GCM_SHA384, ECDSA with SHA-384 client certificates */
#define MBEDTLS_SHA512_C
#define MBEDTLS_SHA1_C /* only to parse older client certificates; never used to sign */
#define MBEDTLS_CIPHER_C
#define MBEDTLS_AES_C
/* On an x86-64 build (the host board) AES and GCM's carry-less multiply in the CPU's
 * instructions, chosen at run time when the CPU has them: TLS records were a fifth of the host
 * board's CPU per sub-enrollment in software (docs/performance.md). Other targets: nothing. */
#if defined(__x86_64__)
#define MBEDTLS_AESNI_C
#endif
#define MBEDTLS_GCM_C
#define MBEDTLS_CHACHA20_C /* TLS_CHACHA20_POLY1305_SHA256, which clients without AES-NI prefer */
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C
#define MBEDTLS_HKDF_C /* the TLS 1.3 key schedule */

/* ---- public keys ---- */
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED  /* our keys; ECDHE */
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED  /* client certificates on P-384 */
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED /* x25519: what TLS 1.3 clients offer first */
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECDSA_SIGN_ALT /* signing happens in the token (crypto/token_pk.c) */
#define MBEDTLS_RSA_C          /* verify RSA client certificates and (later) RSA chains */
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_PKCS1_V21
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PK_WRITE_C

/* ---- X.509 ---- */
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_RSASSA_PSS_SUPPORT  /* TLS 1.3 clients sign with RSA-PSS from RSA keys */
#define MBEDTLS_X509_CSR_PARSE_C         /* proofs of possession (PKCS#10) in enrollment requests */
#define MBEDTLS_X509_MAX_INTERMEDIATE_CA 4

/* ---- PSA: TLS 1.3 runs its key schedule and ECDHE through it ---- */
#define MBEDTLS_PSA_CRYPTO_C

/* ---- TLS server, and the client net/http_client uses towards a root (mutual TLS) ---- */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_CLI_C /* presents our certificate; the server's is not verified */
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_PROTO_TLS1_3
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED
#define MBEDTLS_SSL_TLS1_3_COMPATIBILITY_MODE    /* what OpenSSL and curl clients expect */
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED /* TLS 1.2 with our ECDSA key */
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE        /* the client certificate's fingerprint, for the ACL */
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_SERVER_NAME_INDICATION /* accepted and ignored: one identity */
#define MBEDTLS_SSL_ALPN                   /* we answer http/1.1 when asked */
/* Records from peers may be full size (16 KiB: OpenSSL and curl negotiate no smaller fragment
 * length); ours are at most 4 KiB. No MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH: with unequal in and
 * out sizes, mbedTLS 3.6 cuts a TLS 1.2 session's receive buffer after the handshake to the
 * smaller of the two even when no fragment length was negotiated, and then refuses the peer's
 * full-size records (a request body over 4 KiB lost its connection). */
#define MBEDTLS_SSL_IN_CONTENT_LEN  16384
#define MBEDTLS_SSL_OUT_CONTENT_LEN 4096
#define MBEDTLS_SSL_MAX_FRAGMENT_LENGTH
/* No renegotiation, no tickets, no session cache: every connection is a fresh handshake (a TLS 1.3
 * server's NewSessionTicket is read and ignored). */

#endif
