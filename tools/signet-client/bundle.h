/*
 * tools/signet-client/bundle — a certificate or license with the chain above it, as the user's
 * files hold them: PEM "CERTIFICATE" blocks one after another, the leaf first, its issuer next,
 * the authority root last (what `openssl verify -untrusted` and `openssl x509` read). A file of
 * one DER certificate is read too. Each certificate is only length-checked here (one DER
 * SEQUENCE, at most DOC_LICENSE_MAX bytes): what it says is crypto/x509's business.
 */
#ifndef CLIENT_BUNDLE_H
#define CLIENT_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/doc.h"
#include "crypto/x509.h"

#define BUNDLE_MAX      (1 + DOC_CHAIN_MAX)
#define BUNDLE_TEXT_MAX (BUNDLE_MAX * (DOC_LICENSE_MAX * 4 / 3 + DOC_LICENSE_MAX / 48 + 64))

struct bundle {
    size_t count; /* 1..BUNDLE_MAX once read */
    uint8_t der[BUNDLE_MAX][DOC_LICENSE_MAX];
    size_t len[BUNDLE_MAX];
};

/* 0, or -EINVAL/-E2BIG with a one-line *why. */
int bundle_read(const uint8_t *text, size_t len, struct bundle *b, const char **why);
/* PEM text of the bundle, NUL-terminated in out[cap]. 0 or -ENOSPC. */
int bundle_pem(const struct bundle *b, char *out, size_t cap, size_t *len);

/* Fill b from a leaf and a document's chain. 0 or -EINVAL. */
int bundle_set(struct bundle *b, const uint8_t *leaf, size_t leaf_len,
               const uint8_t (*chain)[DOC_CERT_MAX], const size_t *chain_len, size_t chain_count);

/* The certificates above the leaf, as x509_chain_verify takes them. */
size_t bundle_chain(const struct bundle *b, struct x509_cert chain[DOC_CHAIN_MAX]);

#endif
