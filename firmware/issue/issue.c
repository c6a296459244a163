#include "issue.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "crypto/spki.h"
#include "crypto/x509_user.h"
#include "lib/civil_time.h"

/* Scratch for one call at a time: every issue_* call runs in the token task, one job after the
 * other (firmware/app/token_task.c), whether an HTTP request or the console asked for it. */
static struct doc_request req;
static struct doc_response resp;
static struct doc_license in, out_doc;
static struct x509_info subject_info, license_info;
/* The check halves' own (issue_*_check), as they run in the net task while a token job may be
 * parked in the middle of using the ones above. */
static struct doc_license check_in;
static struct x509_info check_rac_info, check_pl_info;
static struct doc_request check_req;
/* What issue_subenroll and issue_certify checked, for their own token half. */
static struct issue_cert_req cert_req;
_Static_assert(DOC_NAME_MAX <= X509_CN_MAX, "a server name is a certificate's CN");
_Static_assert(sizeof(cert_req.slc_serial) >= sizeof(((struct x509_info *)0)->serial),
               "an SLC serial does not fit");
static char why_buf[160];

void issue_init(struct issue *is, struct token *token, struct enroll *enroll, struct acl *acl,
                struct identity *identity, struct revoke *revoke)
{
    memset(is, 0, sizeof(*is));
    is->token = token;
    is->enroll = enroll;
    is->acl = acl;
    is->identity = identity;
    is->revoke = revoke;
}

static bool same_bytes(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    return alen == blen && memcmp(a, b, alen) == 0;
}

/* "<what>: <why>" in a static buffer, for reasons that need their context. */
static const char *because(const char *what, const char *why)
{
    snprintf(why_buf, sizeof(why_buf), "%s: %s", what, why);
    return why_buf;
}

static void set_who(char who[ISSUE_WHO_MAX], const char *name)
{
    if (who)
        snprintf(who, ISSUE_WHO_MAX, "%s", name);
}

/*
 * The request is for the authenticated caller: `named` (a PKCS#10's or a RAC's CN) is the
 * caller's name. Refused otherwise with both names, so the user sees whom the appliance took
 * them for; `what` says where the other name came from ("request", "RAC").
 */
static int for_caller(const char *caller, const char *named, const char *what, const char **why)
{
    if (!caller || !caller[0]) {
        *why = "no authenticated user";
        return -EPERM;
    }
    if (x509_user_name_equal(caller, named))
        return 0;
    snprintf(why_buf, sizeof(why_buf), "you are %s, the %s names %s", caller, what, named);
    *why = why_buf;
    return -EPERM;
}

/* n (<= 16) random bytes from the token, fetched in batches: a serial number (or its part after
 * a prefix) or a content id. A batch's tail too short for n is dropped, never reused. */
static int take_random(struct issue *is, uint8_t *out, size_t n)
{
    if (is->random_left < n) {
        memset(is->random, 0, sizeof(is->random));
        is->random_left = 0;
        if (token_random(is->token, is->random, sizeof(is->random)) != CKR_OK)
            return -EIO;
        is->random_left = sizeof(is->random);
    }
    is->random_left -= n;
    memcpy(out, is->random + is->random_left, n);
    memset(is->random + is->random_left, 0, n);
    return 0;
}

/* RSA of the sizes we accept from others (content keys are wrapped to such keys). */
static bool rsa_in_bounds(const uint8_t *spki, size_t len)
{
    unsigned bits;
    return spki_rsa_bits(spki, len, &bits) == 0 && bits >= SPKI_RSA_MIN_BITS &&
           bits <= SPKI_RSA_MAX_BITS;
}

/* Serving, and holding the right the operation needs. */
static int may_issue(struct issue *is, const x509_time *now, uint32_t right, const char *role,
                     const char **why)
{
    *why = "not enrolled";
    if (!enroll_serving(is->enroll, now))
        return -EAGAIN;
    *why = role;
    if (!(is->enroll->info.rights & right))
        return -EPERM;
    return 0;
}

static int64_t secs_of(const x509_time *t)
{
    struct civil_time c = {t->year,          (uint8_t)t->mon, (uint8_t)t->day,
                           (uint8_t)t->hour, (uint8_t)t->min, (uint8_t)t->sec};
    return civil_to_epoch(&c);
}

/* notBefore: X509_BACKDATE_SECS before now, so that a client whose clock runs a few minutes
 * behind takes a certificate fresh from us; never before the issuing SLC's own notBefore, which
 * a verifier would refuse as a validity the issuer does not cover. */
static x509_time backdated(const struct issue *is, const x509_time *now)
{
    x509_time start = enroll_time_at(secs_of(now) - X509_BACKDATE_SECS);

    if (x509_time_cmp(&start, &is->enroll->info.not_before) < 0)
        start = is->enroll->info.not_before;
    return start;
}

/* From now for days (or years), never past the issuing SLC's notAfter; backdated. */
static void validity(struct issue *is, const x509_time *now, unsigned days, unsigned years,
                     struct x509_profile *p)
{
    x509_time end = *now;

    if (days) {
        end = enroll_time_at(secs_of(now) + (int64_t)days * 86400);
    } else {
        end.year += (int)years;
        if (end.mon == 2 && end.day == 29)
            end.day = 28; /* no 29 February in the target year, necessarily */
    }
    if (x509_time_cmp(&end, &is->enroll->info.not_after) > 0)
        end = is->enroll->info.not_after;
    p->not_before = backdated(is, now);
    p->not_after = end;
}

/* "<cluster-url>/v1/crl", where this cluster serves its CRL (firmware/app/service_crl.c); NULL
 * without a cluster URL (no distribution point is better than a wrong one). */
static const char *crl_url(struct issue *is)
{
    const char *base = is->enroll->cfg.cluster_url;
    size_t n = strlen(base);

    while (n && base[n - 1] == '/')
        n--;
    if (!n || n + sizeof("/v1/crl") > sizeof(is->crl_url))
        return NULL;
    snprintf(is->crl_url, sizeof(is->crl_url), "%.*s/v1/crl", (int)n, base);
    return is->crl_url;
}

/* What every certificate we issue carries besides its content: a fresh serial (after prefix, when
 * not NULL: a licensing server's, firmware/acl) and the CDP. */
static int stamp(struct issue *is, struct x509_profile *p, const uint8_t *prefix)
{
    size_t at = prefix ? X509_SERIAL_PREFIX_LEN : 0;

    if (prefix)
        memcpy(p->serial, prefix, X509_SERIAL_PREFIX_LEN);
    if (take_random(is, p->serial + at, X509_SERIAL_LEN - at) != 0)
        return -EIO;
    x509_serial_fix(p->serial); /* a prefix's first octet already is what this makes it */
    p->crl_url = crl_url(is);
    return 0;
}

/* The issuing SLC and the chain above it, for a response: SLC first, authority root last. */
static int issuer_chain(struct issue *is, size_t *count, uint8_t chain[][DOC_CERT_MAX],
                        size_t *lens)
{
    const struct doc_response *s = &is->enroll->slc;

    if (s->chain_count + 1 > DOC_CHAIN_MAX)
        return -E2BIG;
    memcpy(chain[0], s->slc, s->slc_len);
    lens[0] = s->slc_len;
    for (size_t i = 0; i < s->chain_count; i++) {
        memcpy(chain[i + 1], s->chain[i], s->chain_len[i]);
        lens[i + 1] = s->chain_len[i];
    }
    *count = s->chain_count + 1;
    return 0;
}

/* Build and sign a certificate with the SLC key (its serial after prefix, when not NULL), into
 * der[cap]. Called in the token task (firmware/app/token_task.c): while the token signs, its
 * fiber is parked and the appliance goes on. */
static int sign_cert(struct issue *is, struct x509_profile *p, const uint8_t *prefix, uint8_t *der,
                     size_t cap, size_t *len, const char **why)
{
    struct x509_issuer issuer;

    *why = "the token failed";
    if (stamp(is, p, prefix) != 0)
        return -EIO;
    enroll_issuer(is->enroll, &issuer);
    int ret = x509_build(p, &issuer, der, cap, len);
    if (ret == -EIO)
        *why = "the token did not sign";
    else if (ret)
        *why = "the certificate could not be built";
    return ret == -EIO ? -EIO : ret ? -EINVAL : 0;
}

static int map_token(CK_RV rv, const char **why)
{
    switch (rv) {
    case CKR_OK:
        return 0;
    case CKR_WRAPPED_KEY_INVALID:
    case CKR_WRAPPED_KEY_LEN_RANGE:
    case CKR_ENCRYPTED_DATA_INVALID:
        *why = "the publishing license's content key does not open with this cluster's key";
        return -EPERM;
    case CKR_KEY_TYPE_INCONSISTENT:
    case CKR_KEY_SIZE_RANGE:
        *why = "the rights account certificate's key is not RSA 2048-4096";
        return -EINVAL;
    default:
        *why = "the token failed";
        return -EIO;
    }
}

/* The issuing chain into out_doc, out_doc written as XML, and one more issued. */
static int finish(struct issue *is, char *out, size_t cap, size_t *olen, uint32_t *issued,
                  const char **why)
{
    *why = "the chain is too long";
    if (issuer_chain(is, &out_doc.chain_count, out_doc.chain, out_doc.chain_len) != 0)
        return -E2BIG;
    *why = "the response does not fit";
    if (doc_license_write(&out_doc, out, cap, olen) != 0)
        return -E2BIG;
    (*issued)++;
    return 0;
}

/* A use license for the RAC in subject_info with this content. */
static void use_license_profile(struct x509_profile *p, const struct x509_content *ul)
{
    p->cn = subject_info.cn;
    p->org = "Signet use license";
    p->spki = subject_info.spki;
    p->spki_len = subject_info.spki_len;
    p->kind = X509_KIND_USE;
    p->content = ul;
}

/* ---- sub-enrollment ---- */

/*
 * The licensing server behind ACL principal fp: granted, and no certificate issued to it revoked
 * (no revoked serial starts with its prefix; *prefix: that prefix). Revoking a server's
 * certificate takes back its renewal and what it forwards too, until an operator grants it anew
 * (a new grant, a new prefix).
 */
static int server_in_good_standing(struct issue *is, const uint8_t *fp, const uint8_t **prefix,
                                   const char **why)
{
    const struct acl_entry *e = acl_find(is->acl, fp);

    *prefix = NULL;
    *why = "not granted";
    if (!e)
        return -EPERM;
    /* A firmware before prefixes may have recorded a serial under another prefix. */
    if (e->has_serial && memcmp(e->serial, e->prefix, ACL_PREFIX_LEN) != 0) {
        int ret = revoke_check_serial(is->revoke, e->serial, "licensing server certificate", why);
        if (ret)
            return ret;
    }
    *prefix = e->prefix;
    return revoke_check_prefix(is->revoke, e->prefix, "licensing server certificate", why);
}

/* The end of a check half: the licensing server's prefix (NULL: none) and the SLC in force, which
 * the token half finds unchanged or refuses. */
static void checked_under(const struct issue *is, const uint8_t *prefix, struct issue_cert_req *r)
{
    r->has_prefix = prefix != NULL;
    if (prefix)
        memcpy(r->prefix, prefix, sizeof(r->prefix));
    memcpy(r->slc_serial, is->enroll->info.serial, is->enroll->info.serial_len);
    r->slc_serial_len = is->enroll->info.serial_len;
}

/*
 * Every check of a sub-enrollment request, parsed into rq; what its certificate needs into *r.
 * Runs in either task: it asks the token nothing.
 */
static int subenroll_checks(struct issue *is, const uint8_t *fp, const char *xml, size_t len,
                            const x509_time *now, struct doc_request *rq, struct issue_cert_req *r,
                            char who[ISSUE_WHO_MAX], const char **why)
{
    const uint8_t *prefix = NULL;
    int ret = may_issue(is, now, X509_RIGHT_SUBENROLL,
                        "sub-enrollment is served by a root cluster only", why);

    if (ret)
        return ret;
    if (fp && (ret = server_in_good_standing(is, fp, &prefix, why)) != 0)
        return ret;
    if (doc_request_parse(xml, len, rq, why) != 0)
        return -EINVAL;
    set_who(who, rq->server_name);
    *why = "an enrollment request goes to the enrollment authority, not to a root";
    if (rq->kind == DOC_ENROLLMENT)
        return -EINVAL;
    /* docs/requirements.md R14: the root's revocation applies to the servers below it. */
    *why = "a licensing server sets no revocation policy: the root's applies";
    if (rq->revocation != DOC_REVOCATION_STANDARD)
        return -EINVAL;
    *why = "the key is neither RSA 2048-4096 nor P-256";
    if (!rsa_in_bounds(rq->public_key, rq->public_key_len) &&
        !spki_is_p256(rq->public_key, rq->public_key_len))
        return -EINVAL;
    if (x509_csr_verify(rq->pop, rq->pop_len, rq->public_key, rq->public_key_len, why) != 0)
        return -EINVAL;
    *why = "the request's key is too large";
    if (rq->public_key_len > sizeof(r->spki))
        return -EINVAL;
    memset(r, 0, sizeof(*r));
    snprintf(r->cn, sizeof(r->cn), "%s", rq->server_name);
    memcpy(r->spki, rq->public_key, rq->public_key_len);
    r->spki_len = rq->public_key_len;
    snprintf(r->cluster_url, sizeof(r->cluster_url), "%s", rq->cluster_url);
    snprintf(r->sku, sizeof(r->sku), "%s", rq->sku);
    snprintf(r->version, sizeof(r->version), "%s", rq->version);
    /* Nothing to record: the serial's prefix already ties it to its server (firmware/acl). */
    checked_under(is, prefix, r);
    return 0;
}

int issue_subenroll_check(struct issue *is, const uint8_t *fp, const char *xml, size_t len,
                          const x509_time *now, struct issue_cert_req *r, char who[ISSUE_WHO_MAX],
                          const char **why)
{
    return subenroll_checks(is, fp, xml, len, now, &check_req, r, who, why);
}

int issue_subenroll(struct issue *is, const uint8_t *fp, const char *xml, size_t len,
                    const x509_time *now, char *out, size_t cap, size_t *olen,
                    char who[ISSUE_WHO_MAX], const char **why)
{
    int ret = subenroll_checks(is, fp, xml, len, now, &req, &cert_req, who, why);

    return ret ? ret : issue_cert_sign(is, &cert_req, now, out, cap, olen, why);
}

/* ---- certification ---- */

/* The PKCS#10's CN and key; refused unless the CN names the caller. */
static int certify_names(const char *caller, const struct doc_license *doc,
                         char cn[X509_CN_MAX + 1], uint8_t *spki, size_t cap, size_t *spki_len,
                         char who[ISSUE_WHO_MAX], const char **why)
{
    *why = "not a certification request";
    if (doc->kind != DOC_CERTIFY_REQUEST)
        return -EINVAL;
    if (x509_csr_read(doc->csr, doc->csr_len, cn, spki, cap, spki_len, why) != 0)
        return -EINVAL;
    set_who(who, cn);
    return for_caller(caller, cn, "request", why);
}

int issue_certify_names(const char *caller, const struct doc_license *doc, char who[ISSUE_WHO_MAX],
                        const char **why)
{
    static uint8_t spki[X509_SPKI_MAX];
    char cn[X509_CN_MAX + 1];
    size_t spki_len = 0;

    return certify_names(caller, doc, cn, spki, sizeof(spki), &spki_len, who, why);
}

int issue_certify_check(struct issue *is, const char *caller, const uint8_t *via_fp,
                        const struct doc_license *doc, const x509_time *now,
                        struct issue_cert_req *r, char who[ISSUE_WHO_MAX], const char **why)
{
    char cn[X509_CN_MAX + 1];
    const uint8_t *via = NULL;
    int ret = may_issue(is, now, X509_RIGHT_CERTIFY,
                        "certification is served by a root cluster only", why);

    if (ret)
        return ret;
    memset(r, 0, sizeof(*r));
    ret = certify_names(caller, doc, cn, r->spki, sizeof(r->spki), &r->spki_len, who, why);
    if (!ret)
        ret = revoke_check_user(is->revoke, caller, why);
    if (!ret && via_fp)
        ret = server_in_good_standing(is, via_fp, &via, why);
    if (ret)
        return ret;
    /* Content keys are wrapped to this key with RSA-OAEP. */
    *why = "a rights account key must be RSA 2048-4096";
    if (!rsa_in_bounds(r->spki, r->spki_len))
        return -EINVAL;
    r->rac = true;
    /* The name as proven, not as the request spelled it (the domain's case may differ). */
    snprintf(r->cn, sizeof(r->cn), "%s", caller);
    /* Revoking the server it came through takes this RAC back too (firmware/revoke). */
    checked_under(is, via, r);
    return 0;
}

int issue_certify(struct issue *is, const char *caller, const uint8_t *via_fp, const char *xml,
                  size_t len, const x509_time *now, char *out, size_t cap, size_t *olen,
                  char who[ISSUE_WHO_MAX], const char **why)
{
    int ret = may_issue(is, now, X509_RIGHT_CERTIFY,
                        "certification is served by a root cluster only", why);

    if (ret)
        return ret;
    if (doc_license_parse(xml, len, DOC_CERTIFY_REQUEST, &in, why) != 0)
        return -EINVAL;
    ret = issue_certify_check(is, caller, via_fp, &in, now, &cert_req, who, why);
    return ret ? ret : issue_cert_sign(is, &cert_req, now, out, cap, olen, why);
}

/* ---- the token's half of both ---- */

/* A licensing server's certificate: a CA for licenses only, with the root's revocation. */
static void server_profile(const struct issue *is, const struct issue_cert_req *r,
                           struct x509_profile *p)
{
    p->org = "Signet licensing server";
    p->ca = true;
    p->path_len = 0; /* a licensing server issues licenses, never another server */
    p->rights = X509_RIGHT_ISSUE_USE | X509_RIGHT_ISSUE_PUBLISH;
    p->cluster_url = r->cluster_url;
    p->sku = r->sku;
    p->version = r->version;
    p->revoker_spki = is->enroll->info.revoker_spki;
    p->revoker_spki_len = is->enroll->info.revoker_spki_len;
}

int issue_cert_sign(struct issue *is, const struct issue_cert_req *r, const x509_time *now,
                    char *out, size_t cap, size_t *olen, const char **why)
{
    const struct x509_info *slc = &is->enroll->info;
    struct x509_profile p = {0};
    int ret;

    *why = "not enrolled";
    if (!enroll_serving(is->enroll, now))
        return -EAGAIN;
    /* Checked under another SLC (renewed or replaced since): what was checked may not hold. */
    *why = "the SLC changed meanwhile: try again";
    if (!same_bytes(r->slc_serial, r->slc_serial_len, slc->serial, slc->serial_len))
        return -EAGAIN;
    p.cn = r->cn;
    p.spki = r->spki;
    p.spki_len = r->spki_len;
    if (r->rac) {
        p.org = "Signet user";
        p.kind = X509_KIND_RAC;
        p.via_prefix = r->has_prefix ? r->prefix : NULL;
        validity(is, now, 0, ISSUE_LICENSE_YEARS, &p);
        memset(&out_doc, 0, sizeof(out_doc));
        out_doc.kind = DOC_CERTIFY_RESPONSE;
        ret = sign_cert(is, &p, NULL, out_doc.rac, sizeof(out_doc.rac), &out_doc.rac_len, why);
        return ret ? ret : finish(is, out, cap, olen, &is->stats.certified, why);
    }
    server_profile(is, r, &p);
    validity(is, now, ISSUE_SUBENROLL_DAYS, 0, &p);
    memset(&resp, 0, sizeof(resp));
    ret = sign_cert(is, &p, r->has_prefix ? r->prefix : NULL, resp.slc, sizeof(resp.slc),
                    &resp.slc_len, why);
    if (ret)
        return ret;
    *why = "the chain is too long";
    if (issuer_chain(is, &resp.chain_count, resp.chain, resp.chain_len) != 0)
        return -E2BIG;
    *why = "the response does not fit";
    if (doc_response_write(&resp, out, cap, olen) != 0)
        return -E2BIG;
    is->stats.subenrolled++;
    return 0;
}

/* ---- the content-key encryption key ---- */

/* Signed by our SLC key, through our own chain to the authority root, and valid now. */
static int verify_by_us(struct issue *is, struct x509_cert cert, const x509_time *now,
                        const char **why)
{
    struct x509_cert chain[DOC_CHAIN_MAX + 1];
    const struct doc_response *s = &is->enroll->slc;

    chain[0] = (struct x509_cert){s->slc, s->slc_len};
    for (size_t i = 0; i < s->chain_count; i++)
        chain[i + 1] = (struct x509_cert){s->chain[i], s->chain_len[i]};
    return x509_chain_verify(cert, chain, s->chain_count + 1,
                             (struct x509_cert){is->enroll->anchor, is->enroll->anchor_len}, now, 0,
                             why);
}

static int ckek_check_cert(struct issue *is, const uint8_t *der, size_t len, const x509_time *now)
{
    const char *ignored;

    if (x509_read(der, len, &license_info, &ignored) != 0 || license_info.kind != X509_KIND_CKEK ||
        !same_bytes(license_info.spki, license_info.spki_len, is->ckek_spki, is->ckek_spki_len))
        return -EINVAL;
    return verify_by_us(is, (struct x509_cert){der, len}, now, &ignored);
}

static int ckek_issue_cert(struct issue *is, const x509_time *now, const char **why)
{
    struct x509_profile p = {0};
    size_t len = 0;
    int ret;

    p.cn = is->enroll->cfg.name[0] ? is->enroll->cfg.name : is->enroll->info.cn;
    p.org = "Signet content keys";
    p.spki = is->ckek_spki;
    p.spki_len = is->ckek_spki_len;
    p.kind = X509_KIND_CKEK;
    p.not_before = backdated(is, now);
    p.not_after = is->enroll->info.not_after; /* as long as the SLC that vouches for it */
    ret = sign_cert(is, &p, NULL, is->ckek_cert, sizeof(is->ckek_cert), &len, why);
    if (ret)
        return ret;
    *why = "the CKEK certificate cannot be read back";
    if (x509_read(is->ckek_cert, len, &license_info, why) != 0)
        return -EINVAL;
    *why = "could not store the CKEK certificate in the token";
    if (token_cert_write(is->token, TOKEN_CKEK_ID, "Signet CKEK certificate", is->ckek_cert, len,
                         license_info.subject, license_info.subject_len) != CKR_OK)
        return -EIO;
    is->ckek_cert_len = len;
    return 0;
}

/* The CKEK and its certificate were checked under the current SLC and token epoch: nothing to
 * ask the token. */
static bool ckek_known(const struct issue *is, const x509_time *now)
{
    const struct x509_info *slc = &is->enroll->info;

    return is->ckek_cert_len && is->ckek_epoch == is->token->epoch &&
           same_bytes(is->ckek_slc_serial, is->ckek_slc_serial_len, slc->serial, slc->serial_len) &&
           x509_time_cmp(now, &slc->not_after) <= 0;
}

int issue_ckek_ready(struct issue *is, const x509_time *now, const uint8_t **cert, size_t *len,
                     const char **why)
{
    struct token *t = is->token;
    const struct x509_info *slc = &is->enroll->info;
    bool found = false;
    size_t n = 0;
    CK_RV rv;

    *why = "not enrolled";
    if (!enroll_serving(is->enroll, now))
        return -EAGAIN;
    if (ckek_known(is, now))
        goto ready;
    is->ckek_cert_len = 0;
    *why = "the token failed";
    rv = token_find_key(t, &t->ckek, &found, NULL);
    if (rv == CKR_OK && !found) {
        rv = token_generate_unwrap_key(t, &t->ckek, false);
        if (rv == CKR_FUNCTION_REJECTED) /* a cluster member made it meanwhile */
            rv = CKR_OK;
        if (rv == CKR_OK)
            rv = token_find_key(t, &t->ckek, &found, NULL);
    }
    if (rv == CKR_OK && found)
        rv = token_public_spki(t, &t->ckek, is->ckek_spki, sizeof(is->ckek_spki),
                               &is->ckek_spki_len);
    if (rv != CKR_OK || !found)
        return -EIO;
    if (token_cert_read(t, TOKEN_CKEK_ID, is->ckek_cert, sizeof(is->ckek_cert), &n) != CKR_OK)
        return -EIO;
    if (n && ckek_check_cert(is, is->ckek_cert, n, now) == 0) {
        is->ckek_cert_len = n;
    } else {
        int ret = ckek_issue_cert(is, now, why);
        if (ret)
            return ret;
    }
    is->ckek_epoch = t->epoch;
    memcpy(is->ckek_slc_serial, slc->serial, slc->serial_len);
    is->ckek_slc_serial_len = slc->serial_len;
ready:
    if (cert) {
        *cert = is->ckek_cert;
        *len = is->ckek_cert_len;
    }
    return 0;
}

/* ---- publishing and licensing ---- */

/* The caller's RAC in doc, checked against the authority root through the chain it came with;
 * read into rac. */
static int check_rac(struct issue *is, const struct doc_license *doc, struct x509_info *rac,
                     const x509_time *now, const char **why)
{
    struct x509_cert chain[DOC_CHAIN_MAX];
    const char *w;

    if (x509_read(doc->rac, doc->rac_len, rac, &w) != 0) {
        *why = because("rights account certificate", w);
        return -EINVAL;
    }
    *why = "not a rights account certificate";
    if (rac->kind != X509_KIND_RAC)
        return -EINVAL;
    for (size_t i = 0; i < doc->chain_count; i++)
        chain[i] = (struct x509_cert){doc->chain[i], doc->chain_len[i]};
    if (x509_chain_verify((struct x509_cert){doc->rac, doc->rac_len}, chain, doc->chain_count,
                          (struct x509_cert){is->enroll->anchor, is->enroll->anchor_len}, now, 0,
                          &w) != 0) {
        *why = because("rights account certificate refused", w);
        return -EPERM;
    }
    /* Its serial, its user's name, and the licensing server it was certified through. */
    return revoke_check_cert(is->revoke, rac, "rights account certificate", why);
}

int issue_publish(struct issue *is, const char *caller, const char *xml, size_t len,
                  const x509_time *now, char *out, size_t cap, size_t *olen,
                  char who[ISSUE_WHO_MAX], const char **why)
{
    static struct x509_content pl, ul;
    static uint8_t to_ckek[TOKEN_WRAPPED_MAX], to_user[TOKEN_WRAPPED_MAX];
    struct x509_profile p = {0};
    char cn[2 * X509_CONTENT_ID_LEN + 1];
    size_t ckek_len = sizeof(to_ckek), user_len = sizeof(to_user);
    int ret = may_issue(is, now, X509_RIGHT_ISSUE_PUBLISH,
                        "this server may not issue publishing licenses", why);

    if (ret)
        return ret;
    if (doc_license_parse(xml, len, DOC_PUBLISH_REQUEST, &in, why) != 0)
        return -EINVAL;
    ret = check_rac(is, &in, &subject_info, now, why);
    if (ret)
        return ret;
    set_who(who, subject_info.cn);
    ret = for_caller(caller, subject_info.cn, "RAC", why);
    if (ret)
        return ret;
    /* The policy, with the author as owner (docs/protocol.md: the author gets a use license). */
    memset(&pl, 0, sizeof(pl));
    bool author_named = false;
    for (size_t i = 0; i < in.grant_count; i++) {
        struct x509_grant *g = &pl.grants[pl.grant_count++];
        memcpy(g->user, in.grants[i].user, sizeof(g->user));
        g->rights = in.grants[i].rights;
        if (x509_user_name_equal(g->user, subject_info.cn)) {
            g->rights = X509_GRANTS_ALL;
            author_named = true;
        }
    }
    *why = "a policy names at most 15 users besides the author";
    if (!author_named && pl.grant_count == X509_GRANTS_MAX)
        return -EINVAL;
    if (!author_named) {
        memcpy(pl.grants[pl.grant_count].user, subject_info.cn, sizeof(pl.grants[0].user));
        pl.grants[pl.grant_count++].rights = X509_GRANTS_ALL;
    }
    ret = issue_ckek_ready(is, now, NULL, NULL, why);
    if (ret)
        return ret;
    *why = "the token failed";
    if (take_random(is, pl.id, sizeof(pl.id)) != 0)
        return -EIO;
    ret = map_token(token_content_key_new(is->token, &is->token->ckek, subject_info.spki,
                                          subject_info.spki_len, to_ckek, &ckek_len, to_user,
                                          &user_len),
                    why);
    if (ret)
        return ret;
    memcpy(pl.owner, subject_info.cn, sizeof(pl.owner));
    pl.wrapped = to_ckek;
    pl.wrapped_len = ckek_len;
    ul = pl;
    ul.wrapped = to_user;
    ul.wrapped_len = user_len;
    ul.grant_count = 1;
    memcpy(ul.grants[0].user, subject_info.cn, sizeof(ul.grants[0].user));
    ul.grants[0].rights = X509_GRANTS_ALL;

    for (size_t i = 0; i < X509_CONTENT_ID_LEN; i++)
        snprintf(cn + 2 * i, 3, "%02x", pl.id[i]);
    memset(&out_doc, 0, sizeof(out_doc));
    out_doc.kind = DOC_PUBLISH_RESPONSE;
    p.cn = cn;
    p.org = "Signet publishing license";
    p.spki = is->ckek_spki;
    p.spki_len = is->ckek_spki_len;
    p.kind = X509_KIND_PUBLISHING;
    p.content = &pl;
    validity(is, now, 0, ISSUE_LICENSE_YEARS, &p);
    ret = sign_cert(is, &p, NULL, out_doc.pl, sizeof(out_doc.pl), &out_doc.pl_len, why);
    if (ret)
        return ret;
    use_license_profile(&p, &ul);
    ret = sign_cert(is, &p, NULL, out_doc.ul, sizeof(out_doc.ul), &out_doc.ul_len, why);
    return ret ? ret : finish(is, out, cap, olen, &is->stats.published, why);
}

/* The publishing license was issued by this cluster: signed by our SLC key (through our own
 * chain), valid now, and its content key wrapped to our CKEK. */
static int check_pl(struct issue *is, const struct doc_license *doc, struct x509_info *pl,
                    const x509_time *now, const char **why)
{
    const char *w;

    if (x509_read(doc->pl, doc->pl_len, pl, &w) != 0) {
        *why = because("publishing license", w);
        return -EINVAL;
    }
    *why = "not a publishing license";
    if (pl->kind != X509_KIND_PUBLISHING || !pl->has_content)
        return -EINVAL;
    if (verify_by_us(is, (struct x509_cert){doc->pl, doc->pl_len}, now, &w) != 0) {
        *why = because(
            "publishing license not issued by this cluster (open it where it was protected)", w);
        return -EPERM;
    }
    *why = "the publishing license is for another cluster's content key";
    if (!same_bytes(pl->spki, pl->spki_len, is->ckek_spki, is->ckek_spki_len))
        return -EPERM;
    return revoke_check_cert(is->revoke, pl, "publishing license", why);
}

/* The checks of a license request, from doc into rac and pl; the last needs the CKEK known. */
static int license_checks(struct issue *is, const char *caller, const char *xml, size_t len,
                          const x509_time *now, struct doc_license *doc, struct x509_info *rac,
                          struct x509_info *pl, struct issue_license_req *r,
                          char who[ISSUE_WHO_MAX], const char **why)
{
    const struct x509_grant *grant = NULL;
    int ret =
        may_issue(is, now, X509_RIGHT_ISSUE_USE, "this server may not issue use licenses", why);

    if (ret)
        return ret;
    if (doc_license_parse(xml, len, DOC_LICENSE_REQUEST, doc, why) != 0)
        return -EINVAL;
    ret = check_rac(is, doc, rac, now, why);
    if (ret)
        return ret;
    set_who(who, rac->cn);
    ret = for_caller(caller, rac->cn, "RAC", why);
    if (ret)
        return ret;
    if (!ckek_known(is, now)) {
        *why = "the content-key encryption key is not loaded yet";
        return -EINPROGRESS;
    }
    ret = check_pl(is, doc, pl, now, why);
    if (ret)
        return ret;
    for (size_t i = 0; i < pl->content.grant_count && !grant; i++)
        if (x509_user_name_equal(pl->content.grants[i].user, rac->cn))
            grant = &pl->content.grants[i];
    if (!grant) {
        snprintf(why_buf, sizeof(why_buf), "not granted: the policy does not name %s", rac->cn);
        *why = why_buf;
        return -EPERM;
    }
    *why = "the publishing license's content key is too large";
    if (pl->content.wrapped_len > sizeof(r->wrapped) || rac->spki_len > sizeof(r->spki))
        return -EINVAL;
    memset(r, 0, sizeof(*r));
    memcpy(r->cn, rac->cn, sizeof(r->cn));
    memcpy(r->spki, rac->spki, rac->spki_len);
    r->spki_len = rac->spki_len;
    memcpy(r->wrapped, pl->content.wrapped, pl->content.wrapped_len);
    r->wrapped_len = pl->content.wrapped_len;
    memcpy(r->id, pl->content.id, sizeof(r->id));
    memcpy(r->owner, pl->content.owner, sizeof(r->owner));
    r->grant = *grant;
    memcpy(r->ckek_spki, is->ckek_spki, is->ckek_spki_len);
    r->ckek_spki_len = is->ckek_spki_len;
    return 0;
}

int issue_license_check(struct issue *is, const char *caller, const char *xml, size_t len,
                        const x509_time *now, struct issue_license_req *r, char who[ISSUE_WHO_MAX],
                        const char **why)
{
    return license_checks(is, caller, xml, len, now, &check_in, &check_rac_info, &check_pl_info, r,
                          who, why);
}

int issue_license_sign(struct issue *is, const struct issue_license_req *r, const x509_time *now,
                       char *out, size_t cap, size_t *olen, const char **why)
{
    static struct x509_content ul;
    static uint8_t wrapped[TOKEN_WRAPPED_MAX];
    struct x509_profile p = {0};
    size_t wrapped_len = sizeof(wrapped);
    int ret = issue_ckek_ready(is, now, NULL, NULL, why);

    if (ret)
        return ret;
    /* Checked against another CKEK (a cluster member replaced it since): ask again. */
    *why = "the content-key encryption key changed meanwhile: try again";
    if (!same_bytes(is->ckek_spki, is->ckek_spki_len, r->ckek_spki, r->ckek_spki_len))
        return -EAGAIN;
    ret =
        map_token(token_content_key_rewrap(is->token, &is->token->ckek, r->wrapped, r->wrapped_len,
                                           r->spki, r->spki_len, wrapped, &wrapped_len),
                  why);
    if (ret)
        return ret;
    memset(&ul, 0, sizeof(ul));
    memcpy(ul.id, r->id, sizeof(ul.id));
    memcpy(ul.owner, r->owner, sizeof(ul.owner));
    ul.wrapped = wrapped;
    ul.wrapped_len = wrapped_len;
    ul.grant_count = 1;
    ul.grants[0] = r->grant;
    validity(is, now, 0, ISSUE_LICENSE_YEARS, &p);
    p.cn = r->cn;
    p.org = "Signet use license";
    p.spki = r->spki;
    p.spki_len = r->spki_len;
    p.kind = X509_KIND_USE;
    p.content = &ul;
    memset(&out_doc, 0, sizeof(out_doc));
    out_doc.kind = DOC_LICENSE_RESPONSE;
    ret = sign_cert(is, &p, NULL, out_doc.ul, sizeof(out_doc.ul), &out_doc.ul_len, why);
    return ret ? ret : finish(is, out, cap, olen, &is->stats.licensed, why);
}

int issue_license(struct issue *is, const char *caller, const char *xml, size_t len,
                  const x509_time *now, char *out, size_t cap, size_t *olen,
                  char who[ISSUE_WHO_MAX], const char **why)
{
    static struct issue_license_req r;
    int ret =
        license_checks(is, caller, xml, len, now, &in, &subject_info, &license_info, &r, who, why);

    if (ret == -EINPROGRESS) { /* in the token task: load the CKEK, then check again */
        ret = issue_ckek_ready(is, now, NULL, NULL, why);
        if (!ret)
            ret = license_checks(is, caller, xml, len, now, &in, &subject_info, &license_info, &r,
                                 who, why);
    }
    return ret ? ret : issue_license_sign(is, &r, now, out, cap, olen, why);
}

const int issue_refusal_status[ISSUE_REFUSAL_KINDS] = {400, 401, 403, 413, 503, 0};

void issue_count_refusal(struct issue_stats *s, int status)
{
    unsigned i = 0;

    while (i < ISSUE_REFUSAL_KINDS - 1 && issue_refusal_status[i] != status)
        i++;
    s->refused++;
    s->refused_by[i]++;
}
