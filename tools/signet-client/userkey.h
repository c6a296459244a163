/*
 * tools/signet-client/userkey — the user's RSA key, with OpenSSL's libcrypto: this is the
 * user's own machine, and the key is an ordinary file (PKCS#8 PEM, mode 0600, unencrypted —
 * as an ssh key without a passphrase; docs/client.md "Trust model").
 *
 * What the key does: it makes the PKCS#10 request a rights account certificate (RAC) is issued
 * for, and it unwraps the content key of a use license (RSA-OAEP with SHA-1 and MGF1-SHA-1,
 * docs/certificates.md ARC.6). The functions here keep OpenSSL's types out of the rest of the
 * tool. They return 0 or a negative errno, with a one-line *why where one is given.
 */
#ifndef CLIENT_USERKEY_H
#define CLIENT_USERKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define USERKEY_BITS     2048
#define USERKEY_BITS_MAX 4096
#define USERKEY_PEM_MAX  4096 /* a PKCS#8 PEM RSA-4096 private key is ~3.3 KB */

struct userkey;

/* A new RSA-2048 key as PKCS#8 PEM in pem[cap]. */
int userkey_generate(char *pem, size_t cap, size_t *len, const char **why);
/* An RSA private key (2048..4096 bits) from PEM; encrypted keys are refused, never prompted. */
int userkey_load(const uint8_t *pem, size_t len, struct userkey **out, const char **why);
void userkey_free(struct userkey *k);

/* The public half as DER SubjectPublicKeyInfo. */
int userkey_spki(const struct userkey *k, uint8_t *out, size_t cap, size_t *len);
/* PKCS#10 (RFC 2986) for the key with subject CN=cn (UTF8String), signed SHA-256, as DER. */
int userkey_csr(const struct userkey *k, const char *cn, uint8_t *out, size_t cap, size_t *len,
                const char **why);
/* The key's public half is spki. */
bool userkey_holds(const struct userkey *k, const uint8_t *spki, size_t len);
/* RSA-OAEP (SHA-1, MGF1-SHA-1) decryption of wrapped; the result must be exactly key_len
 * bytes. The caller wipes key. */
int userkey_unwrap(const struct userkey *k, const uint8_t *wrapped, size_t len, uint8_t *key,
                   size_t key_len, const char **why);

/* Two SubjectPublicKeyInfo DER encodings hold the same public key. */
bool spki_same(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len);

/* Wipe a secret (OPENSSL_cleanse: not optimised away). */
void wipe(void *p, size_t len);

/* Random bytes from OpenSSL's DRBG (seeded by the operating system). */
int random_bytes(uint8_t *out, size_t len);

#endif
