/*
 * tools/signet-client/revocation — is any certificate of what the client trusts revoked?
 *
 * Every certificate of a bundle (the RAC or license first, then its chain) is looked up in the
 * CRL of its issuer (the next certificate, the anchor for the last): the CRLs the user gave
 * with --crl (PEM or DER, each matched to an issuer by its signature), else the one fetched from
 * the certificate's CRL distribution point. The CRL must verify with the issuer's key and be
 * current (thisUpdate not after now, nextUpdate not before it). A certificate is revoked when its
 * serial is listed, when it is a RAC whose signetVia licensing-server serial is listed, or when it
 * is a RAC whose user the CRL excludes (ARC.8).
 *
 * Fail closed: a certificate with a distribution point whose CRL cannot be had (unreachable,
 * refused, out of date) is an error, not a pass. A certificate without one is checked against a
 * given --crl of its issuer, and otherwise has no revocation status to check (docs/client.md).
 */
#ifndef CLIENT_REVOCATION_H
#define CLIENT_REVOCATION_H

#include <stddef.h>

#include "bundle.h"
#include "crypto/x509.h"

#define REVOCATION_CRLS_MAX 8

struct revocation {
    const char *paths[REVOCATION_CRLS_MAX]; /* --crl FILE, in the order given */
    size_t count;
};

/* 0: nothing in b is revoked; -EPERM "revoked: ..." or -EIO "cannot check revocation: ..."
 * with *why (a static buffer, one line). anchor is the authority root, the last issuer. */
int revocation_check(const struct revocation *r, const struct bundle *b, struct x509_cert anchor,
                     const x509_time *now, const char **why);

#endif
