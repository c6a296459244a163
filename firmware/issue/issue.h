/*
 * firmware/issue — what the appliance signs on request (docs/requirements.md R8, R10, R12):
 * sub-enrollment certificates for licensing servers, rights account certificates (RACs) for users,
 * publishing licenses and use licenses. Every signature is made by the SLC key in the token;
 * content keys are made, unwrapped and re-wrapped inside the token (firmware/token), never seen
 * here in clear.
 *
 * Each function takes a request document and writes the response document (docs/protocol.md).
 * It first checks everything it can without the token, then issues; a refusal changes nothing.
 * Certification, publishing and licensing are for an authenticated user (R16–R18): `caller` is
 * the name firmware/identity proved (canonical, as x509_user_name_canon makes it), and a request
 * for anyone else is refused -EPERM ("you are X, the request names Y", "you are X, the RAC names
 * Y"). The name comes from the caller, never from the request: a RAC's CN is `caller`.
 * Returns 0, or a negative errno the service maps to HTTP: -EINVAL malformed (400), -EPERM not
 * allowed (403), -E2BIG too large (413), -EAGAIN not serving / -EIO token trouble (503); *why is
 * always a one-line reason, *who (when not NULL) names the subject for the audit log.
 *
 * Validity (docs/certificates.md): sub-enrollment certificates one year, RACs and licenses seven
 * years, from now; never past the issuing SLC's notAfter (which never passes its own chain's).
 * Every certificate starts X509_BACKDATE_SECS before now (clients whose clocks run a little
 * behind accept it), never before the SLC's own notBefore, and names this cluster's CRL
 * (<cluster-url>/v1/crl) as its distribution point.
 *
 * Revocation (docs/identity.md "Revocation"): what is presented — a RAC, a publishing license,
 * the licensing server a request comes through — is checked by firmware/revoke's revoke_check_*
 * and refused -EPERM "revoked: ..."; the certification of an excluded user too. A licensing
 * server's sub-enrollment certificate has a serial that starts with its ACL principal's prefix
 * (firmware/acl; 8 fresh random octets follow), and the RACs it certifies carry that prefix as
 * signetVia, so revoking any certificate issued to the server refuses its next sub-enrollment,
 * renewal and forwarded certification, and every RAC certified through it — with nothing written
 * to the token when a certificate is issued.
 */
#ifndef ISSUE_H
#define ISSUE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/doc.h"
#include "crypto/x509.h"
#include "firmware/acl/acl.h"
#include "firmware/enroll/enroll.h"
#include "firmware/identity/identity.h"
#include "firmware/revoke/revoke.h"
#include "firmware/token/token.h"

#define ISSUE_SUBENROLL_DAYS 365
#define ISSUE_LICENSE_YEARS  7
#define ISSUE_WHO_MAX        (X509_CN_MAX + 1)
/* Who a deferred answer is audited for: a user's name, identity subject, fingerprint, via. */
#define ISSUE_AUDIT_WHO_MAX 384

/* Refusals are counted by the HTTP status they were answered with (the class of their reason):
 * 400, 401, 403, 413, 503, and any other. */
#define ISSUE_REFUSAL_KINDS 6
extern const int issue_refusal_status[ISSUE_REFUSAL_KINDS]; /* the last, 0: any other */

struct issue_stats {
    uint32_t subenrolled, certified, published, licensed, refused;
    uint32_t refused_by[ISSUE_REFUSAL_KINDS];
};

/* One more refusal, answered with this HTTP status. */
void issue_count_refusal(struct issue_stats *s, int status);

struct issue {
    struct token *token;
    struct enroll *enroll;
    struct acl *acl;           /* who may sub-enroll, and whose certificates were issued */
    struct identity *identity; /* who users are (issue_who) */
    struct revoke *revoke;     /* what is taken back */
    char crl_url[X509_URL_MAX + 1];
    /* Serial numbers and content ids come from the token's RNG, fetched in batches (one round
     * trip per 256 octets); each octet is used once and wiped. */
    uint8_t random[256];
    size_t random_left;
    /* The CKEK: its public key and its certificate under the current SLC, checked once per
     * (key handle, SLC) rather than per request. */
    uint8_t ckek_spki[DOC_KEY_MAX];
    size_t ckek_spki_len;
    uint8_t ckek_cert[DOC_CERT_MAX];
    size_t ckek_cert_len;
    uint32_t ckek_epoch;
    uint8_t ckek_slc_serial[20];
    size_t ckek_slc_serial_len;
    struct issue_stats stats;
};

void issue_init(struct issue *is, struct token *token, struct enroll *enroll, struct acl *acl,
                struct identity *identity, struct revoke *revoke);

/*
 * Who is asking, as the adapter's transport says (issue_auth.c): the operator at the console, or
 * a TLS client with the certificate chain its handshake proved. The adapters pass this in and
 * issuing decides on it (docs/identity.md); none looks at the ACL or the identity sources itself.
 */
struct issue_caller {
    bool console;                  /* the operator at the console (logged in): no certificate */
    const uint8_t *fp;             /* the TLS client certificate's SHA-256; NULL: none presented */
    const struct x509_cert *chain; /* the chain it presented, leaf first; chain_n 0: none */
    size_t chain_n;
};
/* May caller sub-enroll a licensing server (docs/requirements.md R9)? The console may (offline
 * sub-enrollment); a TLS client only when the ACL grants its certificate (deny by default: an ACL
 * not loaded or unreadable grants nobody). 0, or -EPERM with *why: "not granted: present a TLS
 * client certificate granted on the root (acl grant)" without one, "not granted" otherwise. */
int issue_granted(const struct issue *is, const struct issue_caller *caller, const char **why);
/* Who the user asking is (R16-R18): firmware/identity's identity_who over the caller's chain, or
 * over fwd[0..fwd_n) (the UserChain a request carried) when the caller is a licensing server the
 * ACL grants. 0 with *user; -EACCES no client certificate (the console is no user); -EPERM with
 * *why. */
int issue_who(struct issue *is, const struct issue_caller *caller, const struct x509_cert *fwd,
              size_t fwd_n, const x509_time *now, struct identity_user *user, const char **why);

/*
 * These call the token (a signature, content keys, random octets): the appliance calls them from
 * its token task only (firmware/app/token_task.c), one at a time, so they share scratch memory.
 */
/* A root signs a licensing server's sub-enrollment (or its renewal) request. fp: the ACL
 * principal asking (its TLS client certificate's fingerprint; refused unless granted, and when a
 * certificate issued to it is revoked), whose prefix starts the new serial; NULL for the
 * console's offline sub-enrollment (a serial of 16 random octets). */
int issue_subenroll(struct issue *is, const uint8_t *fp, const char *xml, size_t len,
                    const x509_time *now, char *out, size_t cap, size_t *olen,
                    char who[ISSUE_WHO_MAX], const char **why);
/* A root certifies the caller: PKCS#10 in (its CN must name the caller), RAC for the caller out.
 * *who is the PKCS#10's CN. via_fp: the ACL principal (licensing server) that forwarded it, NULL
 * when the user came directly: refused when a certificate issued to it is revoked, and its prefix
 * goes into the RAC as signetVia. */
int issue_certify(struct issue *is, const char *caller, const uint8_t *via_fp, const char *xml,
                  size_t len, const x509_time *now, char *out, size_t cap, size_t *olen,
                  char who[ISSUE_WHO_MAX], const char **why);
/* The check both make, for a licensing server that forwards the request instead: the PKCS#10
 * parses and its CN names the caller (-EPERM "you are X, the request names Y"). *who: the CN. */
int issue_certify_names(const char *caller, const struct doc_license *doc, char who[ISSUE_WHO_MAX],
                        const char **why);
/* Publishing: the caller's RAC and a policy in, publishing license and the author's use license
 * out. *who is the RAC's CN. */
int issue_publish(struct issue *is, const char *caller, const char *xml, size_t len,
                  const x509_time *now, char *out, size_t cap, size_t *olen,
                  char who[ISSUE_WHO_MAX], const char **why);
/* Licensing: publishing license and the caller's RAC in, the caller's use license out (granted
 * when the policy names the RAC's CN, compared as x509_user_name_equal does). */
int issue_license(struct issue *is, const char *caller, const char *xml, size_t len,
                  const x509_time *now, char *out, size_t cap, size_t *olen,
                  char who[ISSUE_WHO_MAX], const char **why);

/*
 * The same in two halves, so that the checks run where the request arrives (the net task) while
 * the token works on another request, and only the token's part waits in the token task.
 * issue_license_check needs no token: 0 with *r (all the token part needs, copied: the request
 * may go), a refusal as issue_license's, or -EINPROGRESS when the CKEK is not loaded yet (call
 * issue_license in the token task instead). It keeps its own scratch, apart from the functions
 * above. issue_license_sign re-wraps and signs (token task).
 */
struct issue_license_req {
    char cn[X509_CN_MAX + 1];
    uint8_t spki[X509_SPKI_MAX]; /* the RAC's key, which the content key is wrapped to */
    size_t spki_len;
    uint8_t wrapped[TOKEN_WRAPPED_MAX]; /* the content key, wrapped to the CKEK */
    size_t wrapped_len;
    uint8_t id[X509_CONTENT_ID_LEN];
    char owner[X509_CN_MAX + 1];
    struct x509_grant grant;
    uint8_t ckek_spki[DOC_KEY_MAX]; /* the CKEK the publishing license was checked against */
    size_t ckek_spki_len;
};
int issue_license_check(struct issue *is, const char *caller, const char *xml, size_t len,
                        const x509_time *now, struct issue_license_req *r, char who[ISSUE_WHO_MAX],
                        const char **why);
int issue_license_sign(struct issue *is, const struct issue_license_req *r, const x509_time *now,
                       char *out, size_t cap, size_t *olen, const char **why);

/*
 * Sub-enrollment and certification in two halves as well. The check halves make every check
 * issue_subenroll and issue_certify make, without the token (the net task calls them; they keep
 * their own scratch, shared with issue_license_check): 0 with *r (all the certificate needs,
 * copied), or the same refusal. issue_certify_check takes the request already parsed: the
 * adapter reads it for the UserChain. issue_cert_sign stamps a serial, builds, signs and writes
 * the response (token task); -EAGAIN when the SLC changed since the check.
 */
struct issue_cert_req {
    bool rac;                    /* a user's RAC; else a licensing server's certificate */
    char cn[X509_CN_MAX + 1];    /* the server's name, or the user's as proven */
    uint8_t spki[X509_SPKI_MAX]; /* the subject's key, checked */
    size_t spki_len;
    bool has_prefix; /* the server's: its serial's prefix, or a RAC's signetVia */
    uint8_t prefix[X509_SERIAL_PREFIX_LEN];
    char cluster_url[DOC_URL_MAX + 1]; /* a server's only */
    char sku[DOC_SKU_MAX + 1];
    char version[DOC_VERSION_MAX + 1];
    uint8_t slc_serial[20]; /* the SLC it was checked under */
    size_t slc_serial_len;
};
int issue_subenroll_check(struct issue *is, const uint8_t *fp, const char *xml, size_t len,
                          const x509_time *now, struct issue_cert_req *r, char who[ISSUE_WHO_MAX],
                          const char **why);
int issue_certify_check(struct issue *is, const char *caller, const uint8_t *via_fp,
                        const struct doc_license *doc, const x509_time *now,
                        struct issue_cert_req *r, char who[ISSUE_WHO_MAX], const char **why);
int issue_cert_sign(struct issue *is, const struct issue_cert_req *r, const x509_time *now,
                    char *out, size_t cap, size_t *olen, const char **why);

/* The CKEK exists (made when missing) and its certificate under the current SLC is in the
 * token; *cert points at it. Needs an installed SLC. */
int issue_ckek_ready(struct issue *is, const x509_time *now, const uint8_t **cert, size_t *len,
                     const char **why);

#endif
