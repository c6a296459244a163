/*
 * tests/unit/soft_key.h — a key pair in OpenSSL's memory for one test run, and the x509_issuer
 * sign callback (crypto/x509.h) that signs with it: the token's part in the unit tests of the
 * certificate and CRL writers. No key outlives the process.
 */
#ifndef SOFT_KEY_H
#define SOFT_KEY_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/x509.h"

struct soft_key {
    EVP_PKEY *pkey;
    enum x509_key_alg alg;
    uint8_t spki[X509_SPKI_MAX];
    size_t spki_len;
};

static inline void key_new(struct soft_key *k, enum x509_key_alg alg)
{
    k->alg = alg;
    k->pkey = alg == X509_KEY_RSA ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
    unsigned char *p = k->spki;
    int n = i2d_PUBKEY(k->pkey, &p);
    k->spki_len = n > 0 ? (size_t)n : 0;
}

static inline int soft_sign(void *ctx, const uint8_t *tbs, size_t len, uint8_t *sig, size_t cap,
                            size_t *sig_len)
{
    struct soft_key *k = ctx;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    size_t n = cap;
    int ok = EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k->pkey) == 1 &&
             EVP_DigestSign(md, sig, &n, tbs, len) == 1;
    EVP_MD_CTX_free(md);
    *sig_len = n;
    return ok ? 0 : -1;
}

#endif
