/*
 * firmware/identity — who a user is (docs/requirements.md R16–R18, docs/identity.md).
 *
 * An identity source is an organisation's user CA certificate that the operator trusts, with the
 * name domains it may vouch for (`identity import DOMAIN[,DOMAIN...]`). Users prove who they are
 * with a TLS client certificate from such a source; the name comes from that certificate, never
 * from a request. No source trusted: nobody is a user (deny by default, as the ACL).
 *
 * The sources live in the token as the private data object "signet-identity", replaced
 * crash-safely like the ACL (token_data_write), so cluster members that share the token share
 * them; this module keeps a copy in RAM, read at login and rewritten with every change (only once
 * the token holds the new list). Functions return 0 or a negative errno with a one-line *why.
 */
#ifndef IDENTITY_H
#define IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/doc.h"
#include "crypto/x509.h"
#include "crypto/x509_user.h"
#include "firmware/acl/acl.h"
#include "firmware/token/token.h"

#define IDENTITY_SOURCES_MAX 8  /* and all of them within TOKEN_DATA_MAX */
#define IDENTITY_DOMAINS_MAX 8  /* per source */
#define IDENTITY_DOMAIN_MAX  62 /* a name is at most X509_CN_MAX: "a@" + domain */

struct identity_source {
    uint8_t cert[DOC_CERT_MAX]; /* the CA certificate, DER */
    size_t cert_len;
    uint8_t fp[X509_FP_LEN]; /* its SHA-256: what `identity list` shows, `identity remove` takes */
    char subject[X509_SUBJECT_TEXT_MAX + 1];
    x509_time not_after;
    size_t domain_count;
    char domains[IDENTITY_DOMAINS_MAX][IDENTITY_DOMAIN_MAX + 1]; /* lowercase */
};

/* A user's TLS chain verified lately (identity_who): its SHA-256, and who it proved. */
#define IDENTITY_SEEN_MAX 8
struct identity_user;
struct identity_seen {
    bool used;
    uint32_t last; /* for replacing the least recently used */
    uint8_t chain[X509_FP_LEN];
    struct x509_user cert;
};

struct identity {
    struct token *token;
    bool loaded;
    bool damaged; /* the record did not decode: loaded, no source; identity import rewrites it */
    size_t count;
    struct identity_source sources[IDENTITY_SOURCES_MAX];
    /* Forgotten whenever the sources are loaded or changed. */
    struct identity_seen seen[IDENTITY_SEEN_MAX];
    uint32_t seen_clock;
};

void identity_init(struct identity *ids, struct token *token);
/* Read the sources from the token (needs login). A damaged record is refused (-EINVAL) and no
 * source counts as trusted: denying is the safe side. It still counts as loaded (with damaged
 * set) so that an import can rewrite it; -EIO (the token did not answer) leaves RAM as it was. */
int identity_load(struct identity *ids, const char **why);

/* "contoso.example,fabrikam.example" into lowercase domains; each a DNS name (letters, digits,
 * '-', dots between labels, 1..IDENTITY_DOMAIN_MAX), distinct, 1..IDENTITY_DOMAINS_MAX.
 * -EINVAL with *why otherwise. */
int identity_parse_domains(const char *text,
                           char out[IDENTITY_DOMAINS_MAX][IDENTITY_DOMAIN_MAX + 1], size_t *count,
                           const char **why);
/* Trust a user CA (DER) for these domains (x509_user_ca_check at now). Importing a source that
 * is already trusted replaces its domains. -ENOSPC when full, -EINVAL a bad certificate, -EIO
 * the token failed (nothing changed). */
int identity_import(struct identity *ids, const uint8_t *der, size_t len, const char *domains,
                    const x509_time *now, const char **why);
/* -ENOENT when no source has that fingerprint. */
int identity_remove(struct identity *ids, const uint8_t fp[X509_FP_LEN], const char **why);

/* A user, as proven. */
struct identity_user {
    struct x509_user cert;      /* name, subject, fingerprint of the identity certificate */
    char via[ACL_NAME_MAX + 1]; /* "" direct; else the granted licensing server that
                                 * authenticated the user and forwarded the request */
};

/*
 * The one decision of who a user request is for.
 *  tls[0..tls_n): the chain the TLS client presented (leaf first; tls_n 0: none), and tls_fp its
 *                 leaf's fingerprint;
 *  fwd[0..fwd_n): a user's chain (leaf first) that a licensing server forwarded in the request
 *                 body (fwd_n 0: none). Honoured only when the TLS client is a licensing server
 *                 granted in acl: then the user is who fwd names, verified here against our own
 *                 sources, and out->via names the server.
 * Otherwise the user is who the TLS chain names, verified against a source whose domains hold
 * that name. Returns 0 with *out; -EACCES (HTTP 401) no client certificate; -EPERM (403) with
 * *why: "no identity source is trusted", "not issued by a trusted identity source", "expired
 * on ...", "alice@fabrikam.example is outside the domains its identity source vouches for",
 * "a user chain is taken only from a granted licensing server", and x509_user_verify's reasons.
 * *why is one line and names no secret.
 *
 * Verifying a chain costs an RSA or ECDSA verification per certificate (~0.3 ms for RSA-2048,
 * as much as the appliance's own share of issuing a certificate), so a direct user's verified
 * TLS chain is remembered (IDENTITY_SEEN_MAX, by the SHA-256 of its bytes) and taken again
 * while the sources are unchanged and now lies within the validity of every certificate on its
 * path. That is safe because the chain is public: what proves the caller is the TLS handshake,
 * in which every connection proves the leaf's key anew (no session is resumed, net/tls.h).
 * Forwarded chains (which also depend on the ACL) and refusals are never remembered.
 */
int identity_who(struct identity *ids, const struct acl *acl, const struct x509_cert *tls,
                 size_t tls_n, const uint8_t tls_fp[X509_FP_LEN], const struct x509_cert *fwd,
                 size_t fwd_n, const x509_time *now, struct identity_user *out, const char **why);

#endif
