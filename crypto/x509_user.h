/*
 * crypto/x509_user — users' identity certificates, issued by an organisation's own user CA
 * (smart card, PIV, S/MIME, device certificates; docs/identity.md). These follow no profile of
 * ours: this module reads them as RFC 5280 says and decides nothing about trust in a source,
 * which is firmware/identity's job; it answers "does this chain verify up to that anchor, is the
 * leaf meant for client authentication, and which one user does it name".
 *
 * A user's name is the leaf's one subjectAltName rfc822Name, or else its one Microsoft UPN
 * otherName (1.3.6.1.4.1.311.20.2.3, a UTF8String), of the form local@domain: printable ASCII,
 * no space, exactly one '@', both parts non-empty, at most X509_CN_MAX characters in all (a RAC's
 * CN holds it). Names compare exactly in the local part and case-insensitively in the domain
 * (x509_user_name_equal); x509_user_name_canon lowercases the domain.
 *
 * All functions return 0 or a negative errno, with a one-line *why where there is one.
 */
#ifndef CRYPTO_X509_USER_H
#define CRYPTO_X509_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/x509.h"

#define X509_USER_CHAIN_MAX   4   /* a presented chain: the leaf and up to 3 intermediates */
#define X509_SUBJECT_TEXT_MAX 128 /* a subject DN as printable text (audit, identity list) */
#define X509_FP_LEN           32  /* SHA-256 of a certificate's DER */
#define X509_USER_WHY_MAX     96  /* a refusal's text when it holds a date */

/* What a verified identity certificate says. */
struct x509_user {
    char name[X509_CN_MAX + 1];              /* canonical: domain lowercased */
    char subject[X509_SUBJECT_TEXT_MAX + 1]; /* the leaf's subject, for the audit log */
    uint8_t fp[X509_FP_LEN];                 /* SHA-256 of the leaf's DER */
    char why[X509_USER_WHY_MAX];             /* a refusal's text, when *why is not a literal */
    /* The latest notBefore and the earliest notAfter on the verified path, leaf to anchor: the
     * verdict holds for any "now" between them (firmware/identity remembers it that long). */
    x509_time valid_from, valid_until;
};

/*
 * Verify leaf, through chain[0..n) (the leaf's issuer first, in any case at most
 * X509_USER_CHAIN_MAX - 1), up to anchor (an identity source's certificate, trusted as it is:
 * whether it is self-signed or an intermediate of a larger PKI does not matter). Checks:
 * every signature (RSA PKCS#1 v1.5 or ECDSA with SHA-256/384/512; SHA-1 refused), every
 * certificate valid at now (anchor included), each issuer a CA (basicConstraints cA) with
 * keyCertSign where keyUsage is present, path length constraints; the leaf not a CA, keyUsage
 * digitalSignature where keyUsage is present, extendedKeyUsage clientAuth or
 * anyExtendedKeyUsage where extendedKeyUsage is present; exactly one user name as above.
 * 0 with *out filled, or -EPERM with *why ("expired on 2026-01-01", "not issued by a trusted
 * identity source", "not meant for client authentication (extendedKeyUsage)", "names no user
 * (no rfc822Name or UPN in subjectAltName)", "names more than one user", ...). -EINVAL when the
 * leaf does not parse. A reason with a date lives in out->why: *why is good while *out is (on a
 * refusal everything else in *out is zero). The reasons read after "identity certificate ".
 */
int x509_user_verify(struct x509_cert leaf, const struct x509_cert *chain, size_t n,
                     struct x509_cert anchor, const x509_time *now, struct x509_user *out,
                     const char **why);

/* The subject DN of any parseable certificate as printable text ("CN=alice, O=Contoso"),
 * non-printable bytes shown as '?', cut at cap - 1; and its SHA-256. For audit lines about
 * certificates that were refused, too. -EINVAL when it does not parse (subject then "?"). */
int x509_user_describe(const uint8_t *der, size_t len, char *subject, size_t cap,
                       uint8_t fp[X509_FP_LEN]);

/* An identity source candidate: parses, is a CA (basicConstraints cA; keyCertSign where
 * keyUsage is present), valid at now. Its subject text and notAfter for `identity list`. */
int x509_user_ca_check(const uint8_t *der, size_t len, const x509_time *now, char *subject,
                       size_t cap, x509_time *not_after, const char **why);

/* Is text a user name as above? */
bool x509_user_name_ok(const char *text);
/* a and b name the same user: local parts equal, domains equal ignoring ASCII case. */
bool x509_user_name_equal(const char *a, const char *b);
/* The domain part of a well-formed name (after the '@'), or NULL. */
const char *x509_user_domain(const char *name);
/* Lowercase the domain part in place. */
void x509_user_name_canon(char *name);

#endif
