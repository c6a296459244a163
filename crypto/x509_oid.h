/*
 * crypto/x509_oid.h — Signet's private OID arc, DER content octets (as mbedTLS's MBEDTLS_OID_*
 * strings are).
 *
 * ARC = 2.25.121106065750351852537366942741521112631 — a UUID (5b1c2e0a-7d3f-4a61-9c8e-
 * 2f4b6d8a1e37) as an OID under 2.25 (ITU-T X.667 §6.3), which needs no registration. 20 octets:
 * 0x69 is 2.25 (2*40 + 25), the rest the UUID's 128 bits in base 128.
 */
#ifndef CRYPTO_X509_OID_H
#define CRYPTO_X509_OID_H

#define SIGNET_OID_ARC                                                                             \
    "\x69\x81\xb6\x9c\x97\x82\xcf\xd3\xfa\xa9\xc3\x9c\xc7\x8b\xe9\xb6\xec\xa8\xbc\x37"

#define SIGNET_OID_RIGHTS     SIGNET_OID_ARC "\x01" /* ARC.1 signetRights */
#define SIGNET_OID_PRODUCT    SIGNET_OID_ARC "\x03" /* ARC.3 signetProduct */
#define SIGNET_OID_REVOCATION SIGNET_OID_ARC "\x04" /* ARC.4 signetRevocation */
#define SIGNET_OID_KIND       SIGNET_OID_ARC "\x05" /* ARC.5 signetKind */
#define SIGNET_OID_CONTENT    SIGNET_OID_ARC "\x06" /* ARC.6 signetContent */

#define SIGNET_OID_RIGHT_SUBENROLL     SIGNET_OID_ARC "\x02\x01" /* ARC.2.1 */
#define SIGNET_OID_RIGHT_CERTIFY       SIGNET_OID_ARC "\x02\x02" /* ARC.2.2 */
#define SIGNET_OID_RIGHT_ISSUE_USE     SIGNET_OID_ARC "\x02\x03" /* ARC.2.3 */
#define SIGNET_OID_RIGHT_ISSUE_PUBLISH SIGNET_OID_ARC "\x02\x04" /* ARC.2.4 */
#define SIGNET_OID_RIGHT_LEN           22

/* ARC.5.n, n = enum x509_kind (1 RAC, 2 publishing license, 3 use license, 4 CKEK): the arc,
 * then n as one base-128 octet. */
#define SIGNET_OID_KIND_ARC "\x05"
#define SIGNET_OID_KIND_LEN 22

#endif
