/*
 * tools/signet-authority/authority — the enrollment authority's root and what it issues
 * (docs/certificates.md is the profile).
 *
 * The root key pair lives in the token under CKA_ID AUTHORITY_KEY_ID; the self-signed root
 * certificate is stored beside it as a certificate object with the same CKA_ID. Every signature
 * is made in the token; every random number (serials, the mbedTLS entropy pool) comes from it.
 *
 * Issuing takes an enrollment or renewal request — XML, or armored — as hostile input: the
 * document must parse, its proof of possession must be signed by exactly the enclosed key, the
 * key must be RSA 2048..4096 or EC P-256, and the SLC never outlives the authority root. Each
 * certificate issued is verified against the root before it leaves.
 *
 * Functions return 0 or a negative errno with *why a one-line reason:
 *   -EINVAL  the request is malformed or does not prove possession of its key  (HTTP 400)
 *   -EPERM   the request is well formed but refused: sub-enrollment, weak key (HTTP 403)
 *   -E2BIG   the request is larger than any valid one                          (HTTP 413)
 *   -EEXIST  init: the token already holds a root
 *   -ENOENT  the token holds no root (or only part of one)
 *   -EIO     the token failed, or the authority cannot issue (its root expired)
 *   -ENOENT  revoke: not a serial this authority issued
 *   -EEXIST  revoke: already revoked
 *
 * Every SLC issued is recorded in the token's issuance log (ledger.h) before the response
 * leaves; `revoke` marks an entry of it, `crl` signs what it holds (docs/authority.md).
 */
#ifndef AUTHORITY_H
#define AUTHORITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/doc.h"
#include "crypto/x509.h"
#include "crypto/x509_crl.h"
#include "hsm.h"
#include "ledger.h"

#define AUTHORITY_KEY_ID     "signet-authority-root"
#define AUTHORITY_KEY_LABEL  "Signet enrollment authority root"
#define AUTHORITY_CN         "Signet Enrollment Authority"
#define AUTHORITY_ORG        "Signet"
#define AUTHORITY_SLC_ORG    "Signet root cluster"
#define AUTHORITY_ROOT_YEARS 20  /* default root lifetime */
#define AUTHORITY_YEARS_MAX  50  /* well inside X.509's GeneralizedTime */
#define AUTHORITY_SLC_DAYS   365 /* docs/requirements.md R10: an SLC is valid one year */
#define AUTHORITY_DAYS_MAX   3650
#define AUTHORITY_KEY_BITS   2048
/* A request file: XML, or armored text with whatever was pasted around it (doc_unarmor scans
 * at most this much); an armored response is 4/3 of DOC_XML_MAX plus line ends. */
#define AUTHORITY_REQUEST_MAX   DOC_ARMOR_TEXT_MAX
#define AUTHORITY_RESPONSE_MAX  (2 * DOC_XML_MAX)
#define AUTHORITY_WHY_MAX       192
#define AUTHORITY_CRL_HOURS     168 /* default CRL lifetime: a week */
#define AUTHORITY_CRL_HOURS_MAX (24 * 366)

struct authority {
    struct hsm *hsm;
    CK_OBJECT_HANDLE key; /* the root private key, once loaded with it */
    uint8_t root[DOC_CERT_MAX];
    size_t root_len;
    struct x509_info info; /* what the root says; points into root */
    const char *crl_url;   /* cRLDistributionPoints of the SLCs issued (NULL: none) */
    struct ledger ledger;  /* as last read from or written to the token */
    char why[AUTHORITY_WHY_MAX];
};

/* What the log or the operator is told about a certificate just made. */
struct authority_issued {
    enum doc_request_kind kind; /* issue only */
    char cn[X509_CN_MAX + 1];
    char serial[2 * X509_SERIAL_LEN + 1]; /* hex */
    char not_after[24];                   /* ISO 8601 UTC */
    bool clamped;                         /* notAfter was cut to the root's */
};

/* Make every random number mbedTLS draws come from this token (crypto/rng). 0 or -EIO. */
int authority_rng_bind(struct hsm *h);

/* init: generate the root key pair in the (logged-in) token, self-sign the root certificate
 * valid for years from now, store it beside the key. With force, an existing root is destroyed
 * first; without, -EEXIST. On success a holds the new root and *res describes it. */
int authority_create(struct authority *a, struct hsm *h, const char *cn, unsigned years, bool force,
                     struct authority_issued *res, const char **why);

/* Load the stored root certificate, and with with_key the private key's handle too (needs a
 * logged-in session). */
int authority_load(struct authority *a, struct hsm *h, bool with_key, const char **why);

/*
 * Issue an SLC for the request in[len] (XML, or an armored ENROLLMENT/RENEWAL REQUEST), valid
 * from now for days (clamped to the root's notAfter). The response (SLC + [root]) goes into
 * out[cap] as XML, or armored as SIGNET ENROLLMENT RESPONSE with armor, NUL-terminated; *olen
 * without the NUL. out[cap] must hold AUTHORITY_RESPONSE_MAX.
 */
int authority_issue(struct authority *a, const char *in, size_t len, unsigned days, bool armor,
                    char *out, size_t cap, size_t *olen, struct authority_issued *res,
                    const char **why);

/* Revoke serial (one this authority issued) for reason: recorded in the token. */
int authority_revoke(struct authority *a, const uint8_t serial[X509_SERIAL_LEN],
                     enum x509_crl_reason reason, const char **why);

/* What a CRL just made says. */
struct authority_crl_info {
    uint64_t number;
    size_t entries;
    uint64_t generation;  /* of the issuance log it reflects */
    char next_update[24]; /* ISO 8601 UTC */
};

/* Sign a CRL of every serial revoked, valid hours from now (thisUpdate backdated as
 * certificates are), its number raised in the token first, into out[cap] (DER; at least
 * X509_CRL_DER_MAX). Verified against the root before it is returned. */
int authority_crl(struct authority *a, unsigned hours, uint8_t *out, size_t cap, size_t *len,
                  struct authority_crl_info *info, const char **why);

/* The issuance log's generation in the token now (to tell whether a CRL made earlier is still
 * current). */
int authority_log_generation(struct authority *a, uint64_t *generation, const char **why);

/* The root as PEM into out[cap]. */
int authority_root_pem(const struct authority *a, char *out, size_t cap, size_t *olen);

#endif
