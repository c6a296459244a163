#define _POSIX_C_SOURCE 200809L /* gmtime_r */
#include "authority.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "crypto/rng.h"
#include "mbedtls/pk.h"
#include "mbedtls/rsa.h"

#define MODULUS_MAX     512 /* RSA-4096 */
#define SECONDS_PER_DAY 86400

static const CK_OBJECT_CLASS root_classes[3] = {CKO_PRIVATE_KEY, CKO_PUBLIC_KEY, CKO_CERTIFICATE};

/* err, with *why pointing at the formatted reason kept in a. */
__attribute__((format(printf, 4, 5))) static int why_set(struct authority *a, const char **why,
                                                         int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->why, sizeof(a->why), fmt, ap);
    va_end(ap);
    *why = a->why;
    return err;
}

static int token_failed(struct authority *a, const char **why, int err)
{
    return why_set(a, why, err, "token: %s", a->hsm->why);
}

static int rng_from_token(void *ctx, uint8_t *out, size_t len)
{
    return hsm_random(ctx, out, len);
}

int authority_rng_bind(struct hsm *h)
{
    rng_set_source(rng_from_token, h);
    return rng_init();
}

/* ---- time: the host clock, UTC ---- */

static x509_time to_x509(time_t t)
{
    struct tm tm;
    x509_time x = {0};
    if (gmtime_r(&t, &tm))
        x = (x509_time){tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                        tm.tm_hour,        tm.tm_min,     tm.tm_sec};
    return x;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* notBefore of what is issued now: X509_BACKDATE_SECS earlier, so a relying party whose clock is
 * a few minutes behind accepts it, but never before the issuer's own notBefore. */
static x509_time backdated(time_t now, const x509_time *issuer_not_before)
{
    x509_time t = to_x509(now - X509_BACKDATE_SECS);
    if (issuer_not_before && x509_time_cmp(&t, issuer_not_before) < 0)
        t = *issuer_not_before;
    return t;
}

/* The same calendar moment years later; 29 February becomes 28 February in common years. */
static x509_time plus_years(x509_time t, unsigned years)
{
    t.year += (int)years;
    if (t.mon == 2 && t.day == 29 && !leap(t.year))
        t.day = 28;
    return t;
}

static void summarize_time(char *out, size_t cap, const x509_time *t)
{
    snprintf(out, cap, "%04u-%02u-%02uT%02u:%02u:%02uZ", (unsigned)t->year % 10000u,
             (unsigned)t->mon % 100u, (unsigned)t->day % 100u, (unsigned)t->hour % 100u,
             (unsigned)t->min % 100u, (unsigned)t->sec % 100u);
}

/* What an operator is told about a certificate just made. */
static void summarize(struct authority_issued *res, const char *cn, const uint8_t *serial,
                      const x509_time *t)
{
    snprintf(res->cn, sizeof(res->cn), "%s", cn);
    for (size_t i = 0; i < X509_SERIAL_LEN; i++)
        snprintf(res->serial + 2 * i, 3, "%02x", serial[i]);
    summarize_time(res->not_after, sizeof(res->not_after), t);
}

/* ---- the root key pair in the token ---- */

static int token_sign(void *ctx, const uint8_t *tbs, size_t len, uint8_t *sig, size_t cap,
                      size_t *sig_len)
{
    struct authority *a = ctx;
    return hsm_sign_rsa_sha256(a->hsm, a->key, tbs, len, sig, cap, sig_len);
}

/* The authority root as the issuer of what it signs: its name and key, signatures by the token. */
static struct x509_issuer root_issuer(struct authority *a)
{
    struct x509_issuer root = {X509_KEY_RSA,
                               a->info.subject,
                               a->info.subject_len,
                               a->info.spki,
                               a->info.spki_len,
                               token_sign,
                               a};
    return root;
}

/* The token's RSA public key as a DER SubjectPublicKeyInfo, checked as mbedTLS reads it. */
static int public_spki(struct authority *a, CK_OBJECT_HANDLE pub, uint8_t *out, size_t cap,
                       size_t *len, const char **why)
{
    uint8_t n[MODULUS_MAX], e[8];
    size_t n_len = 0, e_len = 0;
    mbedtls_pk_context pk;
    int ret;

    mbedtls_pk_init(&pk);
    ret = hsm_attr(a->hsm, pub, CKA_MODULUS, n, sizeof(n), &n_len);
    if (ret == 0)
        ret = hsm_attr(a->hsm, pub, CKA_PUBLIC_EXPONENT, e, sizeof(e), &e_len);
    if (ret != 0) {
        ret = token_failed(a, why, -EIO);
        goto out;
    }
    ret = why_set(a, why, -EIO, "the token's root public key is not an RSA key we can use");
    if (mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA)) != 0 ||
        mbedtls_rsa_import_raw(mbedtls_pk_rsa(pk), n, n_len, NULL, 0, NULL, 0, NULL, 0, e, e_len) !=
            0 ||
        mbedtls_rsa_complete(mbedtls_pk_rsa(pk)) != 0 ||
        mbedtls_rsa_check_pubkey(mbedtls_pk_rsa(pk)) != 0 ||
        mbedtls_pk_get_bitlen(&pk) < AUTHORITY_KEY_BITS)
        goto out;
    /* The writer fills the buffer from its end. */
    int w = mbedtls_pk_write_pubkey_der(&pk, out, cap);
    if (w <= 0)
        goto out;
    memmove(out, out + cap - (size_t)w, (size_t)w);
    *len = (size_t)w;
    ret = 0;
out:
    mbedtls_pk_free(&pk);
    return ret;
}

/* The one object of class cls with our CKA_ID: -ENOENT none, -EIO several. */
static int find_one(struct authority *a, CK_OBJECT_CLASS cls, CK_OBJECT_HANDLE *h, const char **why)
{
    CK_OBJECT_HANDLE found[2];
    size_t n = 0;

    if (hsm_find(a->hsm, cls, AUTHORITY_KEY_ID, found, 2, &n) != 0)
        return token_failed(a, why, -EIO);
    if (n == 0)
        return why_set(a, why, -ENOENT,
                       "the token holds no (complete) authority root: run init first");
    if (n > 1)
        return why_set(a, why, -EIO, "the token holds several objects with CKA_ID %s",
                       AUTHORITY_KEY_ID);
    *h = found[0];
    return 0;
}

/* Refuse, or with force destroy, whatever root objects the token holds. */
static int clear_root(struct authority *a, bool force, const char **why)
{
    CK_OBJECT_HANDLE found[3][8];
    size_t n[3] = {0}, total = 0;

    for (int c = 0; c < 3; c++) {
        if (hsm_find(a->hsm, root_classes[c], AUTHORITY_KEY_ID, found[c], 8, &n[c]) != 0)
            return token_failed(a, why, -EIO);
        total += n[c];
    }
    if (total && !force)
        return why_set(a, why, -EEXIST,
                       "the token already holds an authority root (%s); --force replaces it",
                       AUTHORITY_KEY_ID);
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < n[c]; i++)
            if (hsm_destroy(a->hsm, found[c][i]) != 0)
                return token_failed(a, why, -EIO);
    return 0;
}

/* A certificate we just made, checked as a relying party would: it chains to the root now. */
static int check_issued(struct authority *a, const uint8_t *der, size_t len, const x509_time *now,
                        const char **why)
{
    struct x509_cert anchor = {a->root, a->root_len};
    const char *reason = "";

    if (x509_chain_verify((struct x509_cert){der, len}, NULL, 0, anchor, now, X509_RIGHTS_ALL,
                          &reason) != 0)
        return why_set(a, why, -EIO, "a certificate just issued does not verify: %s", reason);
    return 0;
}

int authority_create(struct authority *a, struct hsm *h, const char *cn, unsigned years, bool force,
                     struct authority_issued *res, const char **why)
{
    CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, cert = CK_INVALID_HANDLE;
    uint8_t spki[X509_SPKI_MAX];
    size_t spki_len = 0;
    struct x509_profile p = {0};
    int ret;

    memset(a, 0, sizeof(*a));
    a->hsm = h;
    a->key = CK_INVALID_HANDLE;
    if (!cn || !cn[0] || strlen(cn) > X509_CN_MAX || years < 1 || years > AUTHORITY_YEARS_MAX)
        return why_set(a, why, -EINVAL, "the root needs a name and a lifetime in range");
    ret = clear_root(a, force, why);
    if (ret != 0)
        return ret;
    ret = hsm_generate_rsa(h, AUTHORITY_KEY_ID, AUTHORITY_KEY_LABEL, AUTHORITY_KEY_BITS, &pub,
                           &a->key);
    if (ret != 0) {
        ret = token_failed(a, why, -EIO);
        goto out;
    }
    ret = public_spki(a, pub, spki, sizeof(spki), &spki_len, why);
    if (ret != 0)
        goto out;
    if (hsm_random(h, p.serial, sizeof(p.serial)) != 0) {
        ret = token_failed(a, why, -EIO);
        goto out;
    }
    x509_serial_fix(p.serial);
    p.cn = cn;
    p.org = AUTHORITY_ORG;
    time_t now = time(NULL);
    p.not_before = backdated(now, NULL);
    p.not_after = plus_years(to_x509(now), years);
    p.spki = spki;
    p.spki_len = spki_len;
    p.ca = true;
    p.path_len = -1;
    p.rights = X509_RIGHTS_ALL;
    struct x509_issuer self = {X509_KEY_RSA, NULL, 0, spki, spki_len, token_sign, a};
    ret = x509_build(&p, &self, a->root, sizeof(a->root), &a->root_len);
    if (ret != 0) {
        ret = why_set(a, why, -EIO, "could not build the root certificate");
        goto out;
    }
    ret = x509_read(a->root, a->root_len, &a->info, why);
    x509_time now_x = to_x509(now);
    if (ret == 0)
        ret = check_issued(a, a->root, a->root_len, &now_x, why);
    if (ret != 0)
        goto out;
    ret = hsm_store_cert(h, AUTHORITY_KEY_ID, AUTHORITY_KEY_LABEL, a->info.subject,
                         a->info.subject_len, a->root, a->root_len, &cert);
    if (ret != 0)
        ret = token_failed(a, why, -EIO);
    else {
        memset(res, 0, sizeof(*res));
        summarize(res, cn, p.serial, &p.not_after);
    }
out:
    /* A key pair without its certificate would make the next init refuse: take it back. */
    if (ret != 0 && a->key != CK_INVALID_HANDLE) {
        hsm_destroy(h, a->key);
        hsm_destroy(h, pub);
        a->key = CK_INVALID_HANDLE;
    }
    return ret;
}

int authority_load(struct authority *a, struct hsm *h, bool with_key, const char **why)
{
    CK_OBJECT_HANDLE cert = CK_INVALID_HANDLE, pub = CK_INVALID_HANDLE;
    uint8_t spki[X509_SPKI_MAX];
    size_t spki_len = 0;
    int ret;

    memset(a, 0, sizeof(*a));
    a->hsm = h;
    a->key = CK_INVALID_HANDLE;
    ret = find_one(a, CKO_CERTIFICATE, &cert, why);
    if (ret != 0)
        return ret;
    if (hsm_attr(h, cert, CKA_VALUE, a->root, sizeof(a->root), &a->root_len) != 0)
        return token_failed(a, why, -EIO);
    if (x509_read(a->root, a->root_len, &a->info, why) != 0 || !a->info.ca ||
        a->info.rights != X509_RIGHTS_ALL)
        return why_set(a, why, -EIO, "the stored root is not a Signet authority root");
    if (!with_key)
        return 0;
    ret = find_one(a, CKO_PUBLIC_KEY, &pub, why);
    if (ret == 0)
        ret = public_spki(a, pub, spki, sizeof(spki), &spki_len, why);
    if (ret == 0)
        ret = find_one(a, CKO_PRIVATE_KEY, &a->key, why);
    if (ret != 0)
        return ret;
    /* An interrupted --force could leave a certificate for another key: never sign with it. */
    if (spki_len != a->info.spki_len || memcmp(spki, a->info.spki, spki_len) != 0)
        return why_set(a, why, -EIO, "the stored root certificate is not for the root key");
    return 0;
}

int authority_root_pem(const struct authority *a, char *out, size_t cap, size_t *olen)
{
    return doc_armor("CERTIFICATE", a->root, a->root_len, out, cap, olen);
}

/* ---- issuing ---- */

/* RSA 2048..4096 or EC P-256: what Signet's chains and tokens use (docs/certificates.md). */
static int key_acceptable(struct authority *a, const uint8_t *spki, size_t len, const char *what,
                          const char **why)
{
    mbedtls_pk_context pk;
    int ret = why_set(a, why, -EINVAL, "%s is not a public key Signet can read", what);

    mbedtls_pk_init(&pk);
    if (mbedtls_pk_parse_public_key(&pk, spki, len) != 0)
        goto out;
    ret = why_set(a, why, -EPERM, "%s is not RSA 2048..4096 or EC P-256", what);
    size_t bits = mbedtls_pk_get_bitlen(&pk);
    if (mbedtls_pk_get_type(&pk) == MBEDTLS_PK_RSA && bits >= 2048 && bits <= 4096)
        ret = 0;
    else if (mbedtls_pk_get_type(&pk) == MBEDTLS_PK_ECKEY &&
             mbedtls_pk_ec(pk)->MBEDTLS_PRIVATE(grp).id == MBEDTLS_ECP_DP_SECP256R1)
        ret = 0;
out:
    mbedtls_pk_free(&pk);
    return ret;
}

static const char *const armor_labels[2] = {"SIGNET ENROLLMENT REQUEST", "SIGNET RENEWAL REQUEST"};

static bool contains(const char *s, size_t len, const char *want)
{
    size_t n = strlen(want);
    for (size_t i = 0; n <= len && i <= len - n; i++)
        if (s[i] == want[0] && memcmp(s + i, want, n) == 0)
            return true;
    return false;
}

/* The request document, unarmored if it came armored; *armor_kind the kind its label names,
 * -1 for bare XML. */
static int request_xml(struct authority *a, const char *in, size_t len, char *xml, size_t *xml_len,
                       int *armor_kind, const char **why)
{
    char begin[64];

    *armor_kind = -1;
    for (int k = 0; k < 2; k++) {
        snprintf(begin, sizeof(begin), "-----BEGIN %s-----", armor_labels[k]);
        if (!contains(in, len, begin))
            continue;
        int ret = doc_unarmor(in, len, armor_labels[k], (uint8_t *)xml, DOC_XML_MAX, xml_len, why);
        if (ret != 0)
            return ret == -E2BIG ? ret : -EINVAL;
        *armor_kind = k == 0 ? DOC_ENROLLMENT : DOC_RENEWAL;
        return 0;
    }
    if (contains(in, len, "-----BEGIN "))
        return why_set(a, why, -EINVAL, "armored, but not a SIGNET ENROLLMENT or RENEWAL REQUEST");
    if (len > DOC_XML_MAX)
        return why_set(a, why, -E2BIG, "the request is larger than any valid one");
    memcpy(xml, in, len);
    *xml_len = len;
    return 0;
}

/* Everything the authority checks before it signs; on success r is the request to honour. */
static int request_check(struct authority *a, const char *in, size_t len, struct doc_request *r,
                         const char **why)
{
    char xml[DOC_XML_MAX + 1];
    size_t xml_len = 0;
    int armor_kind;

    int ret = request_xml(a, in, len, xml, &xml_len, &armor_kind, why);
    if (ret != 0)
        return ret;
    if (doc_request_parse(xml, xml_len, r, why) != 0)
        return -EINVAL;
    if (r->kind == DOC_SUBENROLLMENT)
        return why_set(a, why, -EPERM,
                       "a sub-enrollment request goes to a root cluster, not to the authority");
    if (armor_kind >= 0 && (int)r->kind != armor_kind)
        return why_set(a, why, -EINVAL, "the armor's label and the document's kind differ");
    if (!r->server_name[0] || !r->cluster_url[0] || !r->sku[0] || !r->version[0])
        return why_set(a, why, -EINVAL,
                       "the request lacks a server name, cluster URL, SKU or version");
    if (x509_csr_verify(r->pop, r->pop_len, r->public_key, r->public_key_len, why) != 0)
        return -EINVAL;
    ret = key_acceptable(a, r->public_key, r->public_key_len, "the SLC key", why);
    if (ret == 0 && r->revocation == DOC_REVOCATION_CUSTOM)
        ret = key_acceptable(a, r->revoker_key, r->revoker_key_len, "the revoker's key", why);
    return ret;
}

static int record_issued(struct authority *a, const uint8_t serial[X509_SERIAL_LEN], time_t now,
                         const char **why);

int authority_issue(struct authority *a, const char *in, size_t len, unsigned days, bool armor,
                    char *out, size_t cap, size_t *olen, struct authority_issued *res,
                    const char **why)
{
    struct doc_request req;
    struct doc_response rsp;
    char xml[DOC_XML_MAX + 1];
    struct x509_profile p = {0};
    size_t xml_len = 0;
    int ret;

    if (days < 1 || days > AUTHORITY_DAYS_MAX || cap < AUTHORITY_RESPONSE_MAX)
        return why_set(a, why, -EINVAL, "validity or output buffer out of range");
    ret = request_check(a, in, len, &req, why);
    if (ret != 0)
        goto out;
    /* Validity: now (backdated) to now + days, never past the root's own notAfter
     * (docs/certificates.md). */
    time_t now = time(NULL);
    x509_time now_x = to_x509(now);
    p.not_before = backdated(now, &a->info.not_before);
    p.not_after = to_x509(now + (time_t)days * SECONDS_PER_DAY);
    if (x509_time_cmp(&now_x, &a->info.not_before) < 0 ||
        x509_time_cmp(&now_x, &a->info.not_after) >= 0) {
        ret = why_set(a, why, -EIO, "the authority root is not valid now: cannot issue");
        goto out;
    }
    res->clamped = x509_time_cmp(&p.not_after, &a->info.not_after) > 0;
    if (res->clamped)
        p.not_after = a->info.not_after;
    if (hsm_random(a->hsm, p.serial, sizeof(p.serial)) != 0) {
        ret = token_failed(a, why, -EIO);
        goto out;
    }
    x509_serial_fix(p.serial);
    p.cn = req.server_name;
    p.org = AUTHORITY_SLC_ORG;
    p.spki = req.public_key;
    p.spki_len = req.public_key_len;
    p.ca = true;
    p.path_len = 1; /* the SLC may issue licensing servers' certificates, which issue leaves */
    p.rights = X509_RIGHTS_ALL;
    p.cluster_url = req.cluster_url;
    p.sku = req.sku;
    p.version = req.version;
    p.revoker_spki = req.revoker_key;
    p.revoker_spki_len = req.revocation == DOC_REVOCATION_CUSTOM ? req.revoker_key_len : 0;
    p.crl_url = a->crl_url;
    struct x509_issuer root = root_issuer(a);
    memset(&rsp, 0, sizeof(rsp));
    ret = x509_build(&p, &root, rsp.slc, sizeof(rsp.slc), &rsp.slc_len);
    if (ret != 0) {
        ret = ret == -EIO ? token_failed(a, why, -EIO)
                          : why_set(a, why, -EINVAL, "could not build the SLC");
        goto out;
    }
    ret = check_issued(a, rsp.slc, rsp.slc_len, &now_x, why);
    if (ret != 0)
        goto out;
    rsp.chain_count = 1;
    memcpy(rsp.chain[0], a->root, a->root_len);
    rsp.chain_len[0] = a->root_len;
    ret = doc_response_write(&rsp, xml, sizeof(xml), &xml_len);
    if (ret == 0 && armor)
        ret =
            doc_armor("SIGNET ENROLLMENT RESPONSE", (const uint8_t *)xml, xml_len, out, cap, olen);
    else if (ret == 0) { /* cap >= AUTHORITY_RESPONSE_MAX > sizeof(xml) */
        memcpy(out, xml, xml_len + 1);
        *olen = xml_len;
    }
    if (ret != 0) {
        ret = why_set(a, why, -EIO, "could not write the response");
        goto out;
    }
    /* In the log before it leaves: a certificate the authority cannot revoke is never out. */
    ret = record_issued(a, p.serial, now, why);
    if (ret != 0)
        goto out;
    res->kind = req.kind;
    summarize(res, req.server_name, p.serial, &p.not_after);
out:
    return ret;
}

/* ---- the issuance log, revocation and CRLs ---- */

static int log_load(struct authority *a, const char **why)
{
    int ret = ledger_load(a->hsm, &a->ledger, a->why, sizeof(a->why));
    if (ret != 0)
        *why = a->why;
    return ret;
}

static int log_store(struct authority *a, const char *doing, const char **why)
{
    char reason[AUTHORITY_WHY_MAX];
    if (ledger_store(a->hsm, &a->ledger, reason, sizeof(reason)) != 0)
        return why_set(a, why, -EIO, "could not %s: %s", doing, reason);
    return 0;
}

static int record_issued(struct authority *a, const uint8_t serial[X509_SERIAL_LEN], time_t now,
                         const char **why)
{
    char reason[AUTHORITY_WHY_MAX];
    if (ledger_load(a->hsm, &a->ledger, reason, sizeof(reason)) != 0)
        return why_set(a, why, -EIO, "could not record the certificate: %s", reason);
    if (a->ledger.count >= LEDGER_MAX)
        return why_set(a, why, -EIO, "could not record the certificate: the issuance log is full");
    struct ledger_entry *e = &a->ledger.e[a->ledger.count++];
    memset(e, 0, sizeof(*e));
    memcpy(e->serial, serial, X509_SERIAL_LEN);
    e->issued_at = (int64_t)now;
    return log_store(a, "record the certificate", why);
}

int authority_revoke(struct authority *a, const uint8_t serial[X509_SERIAL_LEN],
                     enum x509_crl_reason reason, const char **why)
{
    int ret = log_load(a, why);
    if (ret != 0)
        return ret;
    struct ledger_entry *e = ledger_find(&a->ledger, serial);
    if (!e)
        return why_set(a, why, -ENOENT, "not a serial this authority issued");
    if (e->revoked_at)
        return why_set(a, why, -EEXIST, "already revoked (%s)", x509_crl_reason_name(e->reason));
    e->revoked_at = (int64_t)time(NULL);
    e->reason = (uint8_t)reason;
    return log_store(a, "record the revocation", why);
}

int authority_log_generation(struct authority *a, uint64_t *generation, const char **why)
{
    int ret = log_load(a, why);
    if (ret == 0)
        *generation = a->ledger.generation;
    return ret;
}

int authority_crl(struct authority *a, unsigned hours, uint8_t *out, size_t cap, size_t *len,
                  struct authority_crl_info *info, const char **why)
{
    static struct x509_crl_entry entries[X509_CRL_ENTRIES_MAX];
    static struct x509_crl check;
    static struct x509_crl_entry check_entries[X509_CRL_ENTRIES_MAX];
    uint8_t sig[MODULUS_MAX];
    size_t tbs_len = 0, sig_len = 0, n = 0;
    const char *reason = "";

    if (hours < 1 || hours > AUTHORITY_CRL_HOURS_MAX || cap < X509_CRL_DER_MAX)
        return why_set(a, why, -EINVAL, "CRL lifetime or output buffer out of range");
    int ret = log_load(a, why);
    if (ret != 0)
        return ret;
    for (size_t i = 0; i < a->ledger.count; i++) {
        const struct ledger_entry *e = &a->ledger.e[i];
        if (!e->revoked_at)
            continue;
        if (n == X509_CRL_ENTRIES_MAX)
            return why_set(a, why, -EIO, "more revoked serials than a CRL holds");
        memcpy(entries[n].serial, e->serial, X509_SERIAL_LEN);
        entries[n].revoked_at = to_x509((time_t)e->revoked_at);
        entries[n].reason = e->reason;
        n++;
    }
    time_t now = time(NULL);
    x509_time now_x = to_x509(now);
    if (x509_time_cmp(&now_x, &a->info.not_before) < 0 ||
        x509_time_cmp(&now_x, &a->info.not_after) >= 0)
        return why_set(a, why, -EIO, "the authority root is not valid now: cannot sign a CRL");
    struct x509_crl_profile p = {
        .number = a->ledger.crl_number + 1,
        .this_update = backdated(now, &a->info.not_before),
        .next_update = to_x509(now + (time_t)hours * 3600),
        .entries = entries,
        .count = n,
    };
    /* The number is the token's before any CRL carries it. */
    a->ledger.crl_number = p.number;
    ret = log_store(a, "raise the CRL number", why);
    if (ret != 0)
        return ret;
    struct x509_issuer root = root_issuer(a);
    if (x509_crl_tbs_build(&p, &root, out, cap, &tbs_len) != 0)
        return why_set(a, why, -EIO, "could not build the CRL");
    if (hsm_sign_rsa_sha256(a->hsm, a->key, out + cap - tbs_len, tbs_len, sig, sizeof(sig),
                            &sig_len) != 0)
        return token_failed(a, why, -EIO);
    if (x509_assemble(&root, out, cap, tbs_len, sig, sig_len, len) != 0)
        return why_set(a, why, -EIO, "could not assemble the CRL");
    check.entries = check_entries;
    check.entries_cap = X509_CRL_ENTRIES_MAX;
    if (x509_crl_read(out, *len, (struct x509_cert){a->root, a->root_len}, &check, &reason) != 0 ||
        check.number != p.number || check.count != n)
        return why_set(a, why, -EIO, "a CRL just signed does not verify: %s", reason);
    info->number = p.number;
    info->entries = n;
    info->generation = a->ledger.generation;
    summarize_time(info->next_update, sizeof(info->next_update), &p.next_update);
    return 0;
}
