/*
 * crypto/x509_oid.h — Signet's private OID arc, DER content octets (as mbedTLS's MBEDTLS_OID_*
 * strings are).
 *
 * ARC = 1.2.840.113556.1.8000.2554.23324.11786.32063.19041.40078.3099501.9051703: Microsoft's
 * GUID-based customer arc 1.2.840.113556.1.8000.2554, below it Signet's GUID
 * 5b1c2e0a-7d3f-4a61-9c8e-2f4b6d8a1e37 with its 32 hex digits cut 4-4-4-4-4-6-6 and each piece
 * written in decimal (docs/certificates.md). Every subidentifier fits in 24 bits, so every X.509
 * stack reads it (a 2.25.<UUID> arc did not: GnuTLS and python-cryptography keep an arc in a
 * machine word). 33 octets.
 */
#ifndef CRYPTO_X509_OID_H
#define CRYPTO_X509_OID_H

#define SIGNET_OID_ARC                                                                             \
    "\x2a\x86\x48\x86\xf7\x14\x01\xbe\x40\x93\x7a\x81\xb6\x1c\xdc\x0a\x81\xfa\x3f\x81\x94\x61\x82" \
    "\xb9\x0e\x81\xbd\x96\x6d\x84\xa8\xbc\x37"
#define SIGNET_OID_ARC_LEN 33
_Static_assert(sizeof(SIGNET_OID_ARC) - 1 == SIGNET_OID_ARC_LEN, "the arc's length");

#define SIGNET_OID_RIGHTS     SIGNET_OID_ARC "\x01" /* ARC.1 signetRights */
#define SIGNET_OID_PRODUCT    SIGNET_OID_ARC "\x03" /* ARC.3 signetProduct */
#define SIGNET_OID_REVOCATION SIGNET_OID_ARC "\x04" /* ARC.4 signetRevocation */
#define SIGNET_OID_KIND       SIGNET_OID_ARC "\x05" /* ARC.5 signetKind */
#define SIGNET_OID_CONTENT    SIGNET_OID_ARC "\x06" /* ARC.6 signetContent */
#define SIGNET_OID_VIA        SIGNET_OID_ARC "\x07" /* ARC.7 signetVia (RACs) */
#define SIGNET_OID_EXCLUDED   SIGNET_OID_ARC "\x08" /* ARC.8 signetExcludedUsers (CRLs) */

#define SIGNET_OID_RIGHT_SUBENROLL     SIGNET_OID_ARC "\x02\x01" /* ARC.2.1 */
#define SIGNET_OID_RIGHT_CERTIFY       SIGNET_OID_ARC "\x02\x02" /* ARC.2.2 */
#define SIGNET_OID_RIGHT_ISSUE_USE     SIGNET_OID_ARC "\x02\x03" /* ARC.2.3 */
#define SIGNET_OID_RIGHT_ISSUE_PUBLISH SIGNET_OID_ARC "\x02\x04" /* ARC.2.4 */
#define SIGNET_OID_RIGHT_LEN           (SIGNET_OID_ARC_LEN + 2)

/* ARC.5.n, n = enum x509_kind (1 RAC, 2 publishing license, 3 use license, 4 CKEK): the arc,
 * then n as one base-128 octet. */
#define SIGNET_OID_KIND_ARC "\x05"
#define SIGNET_OID_KIND_LEN (SIGNET_OID_ARC_LEN + 2)

#endif
