/*
 * crypto/x509_crl — X.509 v2 certificate revocation lists of Signet's hierarchy (RFC 5280 §5):
 * build one whose signature is made elsewhere (the token), read and verify one, and look a serial
 * up in it without a linear scan (docs/certificates.md, "Revocation").
 *
 * What Signet writes, and so what it reads back:
 *   TBSCertList: version v2; signature as the issuer's key (sha256WithRSAEncryption or
 *   ecdsa-with-SHA256); issuer = the issuer certificate's subject Name; thisUpdate, nextUpdate
 *   (UTCTime before 2050, GeneralizedTime after, as certificates); revokedCertificates only when
 *   there are any; crlExtensions: authorityKeyIdentifier (the SHA-1 of the issuer's key, as our
 *   certificates carry), cRLNumber, and when users are excluded the non-critical ARC.8
 *   signetExcludedUsers SEQUENCE OF UTF8String (crypto/x509.h). An entry: userCertificate (our
 *   serials are X509_SERIAL_LEN bytes, first octet 0x40..0x7f), revocationDate, and a reasonCode
 *   entry extension unless the reason is unspecified.
 * The outer structure (tbs, algorithm, signature) is a certificate's: x509_assemble (crypto/x509.h)
 * assembles a CRL too.
 *
 * Reading is for hostile input: the DER is parsed with hard limits (X509_CRL_DER_MAX bytes,
 * X509_CRL_ENTRIES_MAX entries, X509_CRL_EXCLUDED_MAX names), v2 only, a cRLNumber and a
 * nextUpdate required, any critical extension refused (we understand none that must be), every
 * serial of X509_SERIAL_LEN bytes, no serial twice. Functions return 0 or a negative errno with a
 * one-line *why.
 */
#ifndef CRYPTO_X509_CRL_H
#define CRYPTO_X509_CRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/x509.h"

#define X509_CRL_ENTRIES_MAX  16384
#define X509_CRL_EXCLUDED_MAX 128
/* An entry is at most 53 bytes of DER; the excluded names and the rest fit in what is left. */
#define X509_CRL_DER_MAX (1024u * 1024u)

/* RFC 5280 §5.3.1 CRLReason codes: the ones an operator may give, and "none given". */
enum x509_crl_reason {
    X509_CRL_REASON_UNSPECIFIED = 0, /* written as no reasonCode at all */
    X509_CRL_REASON_KEY_COMPROMISE = 1,
    X509_CRL_REASON_AFFILIATION_CHANGED = 3,
    X509_CRL_REASON_SUPERSEDED = 4,
    X509_CRL_REASON_CESSATION_OF_OPERATION = 5,
};

/* "keyCompromise", "affiliationChanged", "superseded", "cessationOfOperation" (exactly as RFC
 * 5280 spells them, case-sensitive) into *reason; -EINVAL with *why otherwise. */
int x509_crl_reason_parse(const char *name, enum x509_crl_reason *reason, const char **why);
/* The name, or "unspecified". Codes read from others' CRLs that we never write (2, 6..10) get
 * their RFC 5280 names too; anything else "unknown". */
const char *x509_crl_reason_name(int reason);

struct x509_crl_entry {
    uint8_t serial[X509_SERIAL_LEN];
    x509_time revoked_at;
    uint8_t reason; /* enum x509_crl_reason; read: any code 0..10 */
};

/* Entries sorted by serial (memcmp order), so x509_crl_search can halve. */
void x509_crl_sort(struct x509_crl_entry *entries, size_t n);
/* The first entry (in that order) whose serial starts with prefix[plen] (plen <= 16), or NULL.
 * O(log n): those entries are adjacent, the first at the lower bound of the prefix. */
const struct x509_crl_entry *x509_crl_search_prefix(const struct x509_crl_entry *entries, size_t n,
                                                    const uint8_t *prefix, size_t plen);
/* The entry for serial in entries[n] sorted by x509_crl_sort, or NULL. O(log n). */
const struct x509_crl_entry *x509_crl_search(const struct x509_crl_entry *entries, size_t n,
                                             const uint8_t serial[X509_SERIAL_LEN]);

/* What a CRL says. */
struct x509_crl_profile {
    uint64_t number; /* cRLNumber, 1.. (RFC 5280: increases with every CRL the issuer makes) */
    x509_time this_update, next_update;
    const struct x509_crl_entry *entries; /* written in the order given */
    size_t count;                         /* 0..X509_CRL_ENTRIES_MAX */
    const char (*excluded)[X509_CN_MAX + 1];
    size_t excluded_count; /* 0..X509_CRL_EXCLUDED_MAX; 0: no ARC.8 extension */
};

/* The TBSCertList for issuer (its name, key algorithm and SPKI as crypto/x509.h's x509_issuer;
 * sign is not used), written at the end of out[cap]: it starts at out + cap - *tbs_len. Then
 * x509_assemble(issuer, out, cap, *tbs_len, sig, sig_len, &len) makes the CRL at the front of
 * out. -EINVAL a bad profile, -ENOSPC. */
int x509_crl_tbs_build(const struct x509_crl_profile *p, const struct x509_issuer *issuer,
                       uint8_t *out, size_t cap, size_t *tbs_len);

/* A CRL read and verified. entries points at the caller's array of entries_cap; after reading it
 * holds count entries sorted by serial. */
struct x509_crl {
    uint64_t number;
    x509_time this_update, next_update;
    struct x509_crl_entry *entries;
    size_t entries_cap;
    size_t count;
    size_t excluded_count;
    char excluded[X509_CRL_EXCLUDED_MAX][X509_CN_MAX + 1];
};

/*
 * Parse der[len] and verify it was issued by `issuer` (a certificate, DER): the CRL's issuer Name
 * equals the certificate's subject, its signature verifies with the certificate's key under
 * x509_signature_profile's algorithms, and the certificate may sign CRLs (keyUsage cRLSign when
 * the certificate has a keyUsage). Times are not judged here: the caller compares nextUpdate
 * with its clock. On failure *out is unspecified and *why says what was wrong: "not a CRL",
 * "not issued by <CN>", "bad signature", "more than 16384 entries", "a critical extension is
 * not understood", ... (-EINVAL; -E2BIG over the limits).
 */
int x509_crl_read(const uint8_t *der, size_t len, struct x509_cert issuer, struct x509_crl *out,
                  const char **why);

/* The entry revoking serial, or NULL (binary search). */
const struct x509_crl_entry *x509_crl_find(const struct x509_crl *crl,
                                           const uint8_t serial[X509_SERIAL_LEN]);
/* The CRL's ARC.8 names the user (compared as x509_user_name_equal: domain case-insensitive). */
bool x509_crl_excludes(const struct x509_crl *crl, const char *name);

/* DER CRL as PEM ("-----BEGIN X509 CRL-----", 64-column base64) into out[cap], NUL-terminated;
 * and back: the first X509 CRL block in text (whatever surrounds it). -ENOSPC, -EINVAL. */
int x509_crl_pem_write(const uint8_t *der, size_t len, char *out, size_t cap, size_t *olen);
int x509_crl_pem_read(const char *text, size_t len, uint8_t *der, size_t cap, size_t *der_len);

#endif
