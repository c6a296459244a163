/*
 * crypto/doc — the appliance's documents, in XML: the enrollment request (enrollment, renewal
 * and sub-enrollment share one format) and response (the SLC and its chain), and the license
 * documents of certification, publishing and licensing (struct doc_license).
 *
 * Written by our own small serializer; read with expat, hardened: any DOCTYPE (so no DTD, no
 * entity declarations, no external entities) is refused, as are processing instructions other
 * than the XML declaration, elements deeper than DOC_DEPTH_MAX, documents over DOC_XML_MAX
 * bytes, unknown or repeated elements and attributes, text over a field's bound, and anything
 * not UTF-8. Binary fields (keys, certificates, the PKCS#10) travel as base64 (whitespace
 * allowed); their DER is only length-checked here (one SEQUENCE whose length fills the field) —
 * what it means is crypto/x509's business.
 * docs/protocol.md defines every element with an example.
 *
 * On failure a parser's output holds nothing the caller may use, and *why is a one-line reason.
 * Functions return 0 or a negative errno (-EINVAL malformed, -ENOSPC output too small,
 * -E2BIG input over a bound, -ENOMEM).
 */
#ifndef CRYPTO_DOC_H
#define CRYPTO_DOC_H

#include <stddef.h>
#include <stdint.h>

#define DOC_XML_MAX        16384 /* a whole document, either kind */
#define DOC_DEPTH_MAX      4
#define DOC_NAME_MAX       64  /* server name: printable ASCII, no spaces at the ends */
#define DOC_URL_MAX        256 /* cluster URL: http:// or https://, printable ASCII */
#define DOC_SKU_MAX        64
#define DOC_VERSION_MAX    32
#define DOC_KEY_MAX        600   /* SubjectPublicKeyInfo DER (RSA-4096 is ~550) */
#define DOC_CSR_MAX        2048  /* PKCS#10 DER */
#define DOC_CERT_MAX       2048  /* one certificate, DER */
#define DOC_CHAIN_MAX      4     /* certificates above the SLC, up to and including the root */
#define DOC_ARMOR_TEXT_MAX 65536 /* text doc_unarmor scans: an armored DOC_XML_MAX and slack */
/* Crypto heap one parse may take (crypto_heap_limit): the largest valid document needs 7.5 KiB
 * on the 64-bit host, less on the board; a hostile one (thousands of attributes in one tag)
 * would take 230 KiB and is refused with -E2BIG instead. */
#define DOC_PARSE_HEAP_MAX 32768

/*
 * License documents (docs/protocol.md "License documents"): one struct for the six kinds; each
 * kind uses the fields its row names, the others stay empty (0 lengths). Certificates and
 * licenses are only length-checked here (one DER SEQUENCE), as above.
 *
 *   kind                   root element            fields (elements)
 *   DOC_CERTIFY_REQUEST    SignetCertifyRequest    csr (CertificateRequest), optional
 *                                                  user_chain (UserChain/Certificate)
 *   DOC_CERTIFY_RESPONSE   SignetCertifyResponse   rac (RightsAccountCertificate), chain
 *   DOC_PUBLISH_REQUEST    SignetPublishRequest    rac, chain (the RAC's), grants (Policy/Grant)
 *   DOC_PUBLISH_RESPONSE   SignetPublishResponse   pl (PublishingLicense), ul (UseLicense), chain
 *   DOC_LICENSE_REQUEST    SignetLicenseRequest    pl, rac, chain (the RAC's)
 *   DOC_LICENSE_RESPONSE   SignetLicenseResponse   ul, chain
 *
 * A chain is 1..DOC_CHAIN_MAX certificates, the issuer of the leaf first, the authority root
 * last. A Grant is <Grant user="NAME" rights="view,print"/>: user as a server name (printable,
 * 1..DOC_USER_MAX), rights as x509_grant_parse reads them; 1..DOC_GRANTS_MAX grants, users
 * distinct.
 *
 * A UserChain (docs/protocol.md; docs/requirements.md R18) is what a licensing server forwards
 * for a user who authenticated to it: 1..DOC_USER_CHAIN_MAX certificates, the user's identity
 * certificate first, then its intermediates as the user presented them. Absent, it is
 * user_chain_count 0; present, it may not be empty. Only a SignetCertifyRequest carries one.
 * struct doc_license is large (about 30 KiB): keep it static or on the heap, never on a stack.
 */
#define DOC_LICENSE_XML_MAX 32768 /* a license document (HTTP_BODY_MAX) */
#define DOC_LICENSE_MAX     4096  /* a publishing or use license, DER */
#define DOC_USER_MAX        64
#define DOC_GRANTS_MAX      16
#define DOC_USER_CHAIN_MAX  4 /* X509_USER_CHAIN_MAX: a user's TLS chain, leaf first */

enum doc_license_kind {
    DOC_CERTIFY_REQUEST,
    DOC_CERTIFY_RESPONSE,
    DOC_PUBLISH_REQUEST,
    DOC_PUBLISH_RESPONSE,
    DOC_LICENSE_REQUEST,
    DOC_LICENSE_RESPONSE,
};

struct doc_grant {
    char user[DOC_USER_MAX + 1];
    uint32_t rights; /* X509_GRANT_* (crypto/x509.h) */
};

struct doc_license {
    enum doc_license_kind kind;
    uint8_t csr[DOC_CSR_MAX];
    size_t csr_len;
    uint8_t rac[DOC_CERT_MAX];
    size_t rac_len;
    uint8_t pl[DOC_LICENSE_MAX];
    size_t pl_len;
    uint8_t ul[DOC_LICENSE_MAX];
    size_t ul_len;
    size_t grant_count;
    struct doc_grant grants[DOC_GRANTS_MAX];
    size_t chain_count;
    uint8_t chain[DOC_CHAIN_MAX][DOC_CERT_MAX];
    size_t chain_len[DOC_CHAIN_MAX];
    size_t user_chain_count; /* SignetCertifyRequest only; 0: absent */
    uint8_t user_chain[DOC_USER_CHAIN_MAX][DOC_CERT_MAX];
    size_t user_chain_len[DOC_USER_CHAIN_MAX];
};

/* Write d (its kind's fields must all be present and in bounds: -EINVAL otherwise). */
int doc_license_write(const struct doc_license *d, char *out, size_t cap, size_t *len);
/* Parse a document that must be of kind expect (another root element: -EINVAL, "expected
 * SignetLicenseRequest"). Up to DOC_LICENSE_XML_MAX bytes. */
int doc_license_parse(const char *xml, size_t len, enum doc_license_kind expect,
                      struct doc_license *d, const char **why);

enum doc_request_kind { DOC_ENROLLMENT = 0, DOC_RENEWAL, DOC_SUBENROLLMENT };
enum doc_revocation { DOC_REVOCATION_STANDARD = 0, DOC_REVOCATION_CUSTOM };

struct doc_request {
    enum doc_request_kind kind;
    char server_name[DOC_NAME_MAX + 1];
    char cluster_url[DOC_URL_MAX + 1];
    char sku[DOC_SKU_MAX + 1];
    char version[DOC_VERSION_MAX + 1];
    enum doc_revocation revocation;
    uint8_t revoker_key[DOC_KEY_MAX]; /* custom revocation: the revoking party's SPKI */
    size_t revoker_key_len;           /* 0 with standard revocation */
    uint8_t public_key[DOC_KEY_MAX];  /* the SLC key's SubjectPublicKeyInfo */
    size_t public_key_len;
    uint8_t pop[DOC_CSR_MAX]; /* PKCS#10 request signed by that key: proof of possession */
    size_t pop_len;
};

struct doc_response {
    uint8_t slc[DOC_CERT_MAX];
    size_t slc_len;
    size_t chain_count; /* 1..DOC_CHAIN_MAX: the SLC's issuer first, the authority root last */
    uint8_t chain[DOC_CHAIN_MAX][DOC_CERT_MAX];
    size_t chain_len[DOC_CHAIN_MAX];
};

/* XML out: NUL-terminated in out[cap], *len without the NUL. */
int doc_request_write(const struct doc_request *r, char *out, size_t cap, size_t *len);
int doc_response_write(const struct doc_response *r, char *out, size_t cap, size_t *len);

/* XML in. The request kind comes from the document; every field is checked against its bound
 * and form (names printable, URL scheme, revocation type matches the presence of a key). */
int doc_request_parse(const char *xml, size_t len, struct doc_request *r, const char **why);
int doc_response_parse(const char *xml, size_t len, struct doc_response *r, const char **why);

/* The armor of docs/protocol.md, for the console: "-----BEGIN <label>-----", base64 in
 * 64-column lines, "-----END <label>-----", each line ending in "\n"; NUL-terminated in
 * out[cap] like the XML. Labels used: "SIGNET ENROLLMENT REQUEST", "SIGNET RENEWAL REQUEST",
 * "SIGNET ENROLLMENT RESPONSE", and for PEM "CERTIFICATE" and "PUBLIC KEY" (a label is 1..40
 * capitals, digits and single inner spaces; anything else is -EINVAL). */
int doc_armor(const char *label, const uint8_t *data, size_t len, char *out, size_t cap,
              size_t *olen);
/*
 * Find the block with this label in text (lines may end in \n or \r\n; text before BEGIN and
 * after END is ignored; spaces at line ends tolerated) and decode it into out[cap]. Refused:
 * missing or mismatched BEGIN/END, a line over 76 characters, an empty line inside the block,
 * invalid or truncated base64 (-EINVAL), decoded data over cap or text over DOC_ARMOR_TEXT_MAX
 * (-E2BIG).
 */
int doc_unarmor(const char *text, size_t len, const char *label, uint8_t *out, size_t cap,
                size_t *olen, const char **why);

#endif
