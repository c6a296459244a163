/*
 * crypto/x509 — Signet's certificate profile: build certificates and PKCS#10 requests whose
 * signatures are made elsewhere (the token), read what our extensions say, verify chains.
 *
 * Building: the TBSCertificate is written with mbedTLS's ASN.1 writers from an x509_profile,
 * then handed to the issuer's sign callback (hash and sign in the token: RSA PKCS#1 v1.5 or
 * ECDSA, both with SHA-256). Names are written here, CN and O only, as UTF8String, so operator
 * text can never inject extra name components. Times are calendar UTC (mbedtls_x509_time): the
 * caller converts its clock; UTCTime before 2050, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5).
 *
 * Our extensions live under one private arc, Microsoft's GUID-based customer arc with Signet's
 * GUID below it (crypto/x509_oid.h, docs/certificates.md), all
 * non-critical so that standard tools (openssl verify) accept the chains; docs/certificates.md
 * lists them:
 *   ARC.1  signetRights   SEQUENCE OF OBJECT IDENTIFIER   (the rights ARC.2.n below)
 *   ARC.3  signetProduct  SEQUENCE { sku UTF8String, version UTF8String }
 *   ARC.4  signetRevocation SEQUENCE { revoker SubjectPublicKeyInfo }   (custom revocation)
 *   ARC.5  signetKind     OBJECT IDENTIFIER ARC.5.n: what a leaf is (x509_kind: RAC, publishing
 *                         license, use license, content-key encryption certificate)
 *   ARC.6  signetContent  SEQUENCE { contentId OCTET STRING (16), owner UTF8String,
 *                         wrappedKey OCTET STRING, grants SEQUENCE SIZE(1..16) OF
 *                         SEQUENCE { user UTF8String, rights BIT STRING } }   (licenses)
 *   ARC.7  signetVia      OCTET STRING (8): in a RAC that a licensing server asked for on a
 *                         user's behalf, the serial prefix of that server (the first 8 octets of
 *                         every certificate the root issued to it), so that revoking any of the
 *                         server's certificates also refuses the RACs it gave out. Read also as
 *                         16 octets (a whole serial, as firmware before prefixes wrote it: its
 *                         first 8 octets are that server's prefix, docs/certificates.md)
 *   ARC.8  signetExcludedUsers SEQUENCE OF UTF8String: a CRL extension (crypto/x509_crl.h), the
 *                         user names the cluster excludes (`revoke user NAME`)
 * The cluster URL travels as a subjectAltName URI; where the issuer's CRL is, as a
 * cRLDistributionPoints extension with one fullName URI (RFC 5280 §4.2.1.13).
 *
 * Verifying: signatures, validity at the caller's "now" for every certificate, basic
 * constraints and path length, keyUsage, and our rights: a certificate that issues a CA must
 * hold "sub-enroll", and no certificate may hold a right its issuer lacks. All functions return
 * 0 or a negative errno, with a one-line *why where there is one.
 */
#ifndef CRYPTO_X509_H
#define CRYPTO_X509_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mbedtls/x509.h"

/* Rights (docs/certificates.md). */
#define X509_RIGHT_SUBENROLL     (1u << 0) /* ARC.2.1: issue SLCs to servers below */
#define X509_RIGHT_CERTIFY       (1u << 1) /* ARC.2.2: issue rights account certificates */
#define X509_RIGHT_ISSUE_USE     (1u << 2) /* ARC.2.3: issue use licenses */
#define X509_RIGHT_ISSUE_PUBLISH (1u << 3) /* ARC.2.4: issue publishing licenses */
#define X509_RIGHTS_ALL          0xfu

/* Content rights a license grants a user: the named bits of a Grant's BIT STRING (ARC.6). */
#define X509_GRANT_VIEW    (1u << 0)
#define X509_GRANT_EDIT    (1u << 1)
#define X509_GRANT_PRINT   (1u << 2)
#define X509_GRANT_EXPORT  (1u << 3)
#define X509_GRANT_FORWARD (1u << 4)
#define X509_GRANT_OWNER   (1u << 5)
#define X509_GRANTS_ALL    0x3fu

/* Rights as text: names from {view, edit, print, export, forward, owner} separated by single
 * commas, e.g. "view,print"; each at most once, none unknown, not empty. 0 or -EINVAL. */
int x509_grant_parse(const char *text, uint32_t *rights);
/* The same, in bit order, into out[cap] (NUL-terminated). -ENOSPC when it does not fit. */
int x509_grant_format(uint32_t rights, char *out, size_t cap);

#define X509_SERIAL_LEN 16 /* 16 random bytes from the token (docs/architecture.md) */
#define X509_CN_MAX     64
#define X509_URL_MAX    256
#define X509_TEXT_MAX   64 /* SKU, version */
#define X509_SPKI_MAX   600
#define X509_NAME_MAX   256 /* an issuer/subject Name, DER */

typedef mbedtls_x509_time x509_time;

/* Every certificate and license anyone in the hierarchy issues starts this long before the
 * issuing instant, so that relying parties whose clocks run a few minutes behind accept it at
 * once; never before the issuer's own notBefore (docs/certificates.md, "Validity rules"). */
#define X509_BACKDATE_SECS 300

/* A sub-enrollment certificate's serial is its licensing server's prefix (chosen once per ACL
 * grant, firmware/acl) followed by fresh random octets: revoking one of them can be matched to
 * the server, and to what it forwarded, by the prefix alone (docs/certificates.md "Serials"). */
#define X509_SERIAL_PREFIX_LEN 8

/* Make 16 random bytes a DER-minimal positive serial: first octet in 0x40..0x7f. Only the first
 * octet changes, so a prefix made with it stays the prefix of the serial. */
static inline void x509_serial_fix(uint8_t serial[X509_SERIAL_LEN])
{
    serial[0] = (uint8_t)((serial[0] & 0x3f) | 0x40);
}

enum x509_key_alg { X509_KEY_RSA, X509_KEY_EC };

/* What a leaf certificate is (ARC.5); CAs and the HTTPS certificate are X509_KIND_NONE. */
enum x509_kind {
    X509_KIND_NONE = 0,
    X509_KIND_RAC,        /* ARC.5.1 rights account certificate: a user's RSA key and name */
    X509_KIND_PUBLISHING, /* ARC.5.2 publishing license: policy + key wrapped to the CKEK */
    X509_KIND_USE,        /* ARC.5.3 use license: one grant + key wrapped to a RAC's key */
    X509_KIND_CKEK,       /* ARC.5.4 the server's content-key encryption key (unwrap only) */
};

#define X509_CONTENT_ID_LEN 16
#define X509_GRANTS_MAX     16
#define X509_WRAPPED_MAX    512 /* RSA-OAEP output for keys up to 4096 bits */

struct x509_grant {
    char user[X509_CN_MAX + 1]; /* the CN of the user's RAC */
    uint32_t rights;            /* X509_GRANT_* */
};

/* ARC.6, in publishing and use licenses. A PL holds the policy (1..16 grants) and the content
 * key wrapped to the CKEK; a UL holds exactly one grant (its holder's) and the key wrapped to
 * the holder's RAC key. */
struct x509_content {
    uint8_t id[X509_CONTENT_ID_LEN];
    char owner[X509_CN_MAX + 1]; /* the author: CN of the RAC that published */
    const uint8_t *wrapped;      /* RSA-OAEP (SHA-1, MGF1-SHA1) ciphertext of the AES-256 key */
    size_t wrapped_len;          /* 1..X509_WRAPPED_MAX */
    size_t grant_count;
    struct x509_grant grants[X509_GRANTS_MAX];
};

/*
 * The issuer: its key's algorithm, its Name (DER, as in its own certificate; for a self-signed
 * certificate, NULL to use the subject being built), its SubjectPublicKeyInfo (for the
 * authority key identifier) and a callback that signs the TBS bytes: SHA-256 and the key's
 * algorithm, DER ECDSA-Sig-Value for EC. 0 or a negative errno.
 */
typedef int (*x509_sign_fn)(void *ctx, const uint8_t *tbs, size_t len, uint8_t *sig, size_t cap,
                            size_t *sig_len);
struct x509_issuer {
    enum x509_key_alg alg;
    const uint8_t *name;
    size_t name_len;
    const uint8_t *spki;
    size_t spki_len;
    x509_sign_fn sign;
    void *ctx;
};

/* What goes into a certificate. Strings are NUL-terminated; NULL or "" leaves a field out. */
struct x509_profile {
    const char *cn, *org;
    uint8_t serial[X509_SERIAL_LEN]; /* first octet 0x01..0x7f (DER: positive, minimal) */
    x509_time not_before, not_after;
    const uint8_t *spki; /* the subject's public key, DER SubjectPublicKeyInfo */
    size_t spki_len;
    bool ca;
    int path_len; /* with ca: -1 for no limit */
    uint32_t rights;
    const char *cluster_url; /* subjectAltName URI */
    const char *sku, *version;
    const uint8_t *revoker_spki; /* custom revocation */
    size_t revoker_spki_len;
    bool server_auth; /* extendedKeyUsage serverAuth + clientAuth: the appliance's TLS identity */
    enum x509_kind kind;                /* ARC.5 when not NONE; keyUsage follows the kind */
    const struct x509_content *content; /* ARC.6: publishing and use licenses only */
    const char *crl_url;                /* cRLDistributionPoints fullName URI (NULL/"": none) */
    const uint8_t *via_prefix; /* ARC.7, X509_SERIAL_PREFIX_LEN bytes: RACs only (NULL: none) */
};

/* DER certificate into out[cap]. -EINVAL bad profile, -ENOSPC, -EIO the issuer did not sign. */
int x509_build(const struct x509_profile *p, const struct x509_issuer *issuer, uint8_t *out,
               size_t cap, size_t *len);
/* The same in halves, for a signature made while the caller goes on: the to-be-signed part,
 * written at the end of out[cap] (it starts at out + cap - *tbs_len; issuer->sign is not used);
 * then, given its signature, the certificate assembled at the front of out. */
int x509_tbs_build(const struct x509_profile *p, const struct x509_issuer *issuer, uint8_t *out,
                   size_t cap, size_t *tbs_len);
int x509_assemble(const struct x509_issuer *issuer, uint8_t *out, size_t cap, size_t tbs_len,
                  const uint8_t *sig, size_t sig_len, size_t *len);

/* PKCS#10 request (RFC 2986) for spki with subject CN=cn, signed by the issuer callback (the
 * key itself): the proof of possession an enrollment request carries. */
int x509_csr_build(const char *cn, const uint8_t *spki, size_t spki_len,
                   const struct x509_issuer *key, uint8_t *out, size_t cap, size_t *len);

/* The PKCS#10 is well formed, signed by its own key, and that key is spki. */
int x509_csr_verify(const uint8_t *csr, size_t len, const uint8_t *spki, size_t spki_len,
                    const char **why);

/* What a certificate says, read from its DER. Pointers point into der. */
struct x509_info {
    char cn[X509_CN_MAX + 1];
    uint8_t serial[20];
    size_t serial_len;
    x509_time not_before, not_after;
    bool ca;
    int path_len; /* -1: none */
    uint32_t rights;
    char cluster_url[X509_URL_MAX + 1];
    char sku[X509_TEXT_MAX + 1], version[X509_TEXT_MAX + 1];
    const uint8_t *spki; /* the public key, DER SubjectPublicKeyInfo */
    size_t spki_len;
    const uint8_t *subject; /* Name, DER */
    size_t subject_len;
    const uint8_t *revoker_spki;
    size_t revoker_spki_len;
    enum x509_kind kind;
    bool has_content;
    struct x509_content content;    /* content.wrapped points into der */
    char crl_url[X509_URL_MAX + 1]; /* "" when there is no (URI) distribution point */
    bool has_via;
    uint8_t via[X509_SERIAL_LEN]; /* ARC.7, when has_via: a prefix (8) or a whole serial (16) */
    size_t via_len;
};
int x509_read(const uint8_t *der, size_t len, struct x509_info *out, const char **why);

/*
 * Verify leaf against the trust anchor through intermediates (leaf's issuer first; the anchor
 * itself may be included last). Every certificate must be valid at now; the leaf must hold
 * required_rights. 0, or -EPERM with *why saying what failed.
 */
struct x509_cert {
    const uint8_t *der;
    size_t len;
};
int x509_chain_verify(struct x509_cert leaf, const struct x509_cert *chain, size_t n,
                      struct x509_cert anchor, const x509_time *now, uint32_t required_rights,
                      const char **why);

/* What a PKCS#10 request asks for: its subject CN (printable ASCII, 1..X509_CN_MAX) and its
 * public key as DER SubjectPublicKeyInfo, once its self-signature verified.
 * -EINVAL with *why otherwise. */
int x509_csr_read(const uint8_t *csr, size_t len, char cn[X509_CN_MAX + 1], uint8_t *spki,
                  size_t cap, size_t *spki_len, const char **why);

/* What every chain verified here may be signed with, Signet's own and users' identity chains
 * (crypto/x509_user) alike: SHA-256, -384 or -512 (no SHA-1); RSA PKCS#1 v1.5 of at least 2048
 * bits (no RSASSA-PSS) or ECDSA on P-256 or P-384. */
struct mbedtls_x509_crt_profile;
extern const struct mbedtls_x509_crt_profile x509_signature_profile;

/* -1, 0, 1 as a is before, equal to, after b. */
int x509_time_cmp(const x509_time *a, const x509_time *b);

#endif
