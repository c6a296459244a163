/*
 * crypto/x509_verify.c — reading Signet certificates and verifying chains and PKCS#10 requests.
 *
 * mbedTLS parses and checks the standard parts (signatures, basic constraints, path length,
 * keyUsage of issuers); our extensions reach us through its unknown-extension callback; validity
 * is checked here against the caller's clock (mbedTLS is built without a calendar clock).
 */
#include "crypto/x509.h"

#include <errno.h>
#include <string.h>

#include "crypto/x509_oid.h"
#include "mbedtls/asn1.h"
#include "mbedtls/oid.h"
#include "mbedtls/pk.h"
#include "mbedtls/x509_crt.h"
#include "mbedtls/x509_csr.h"

struct ext_ctx {
    uint32_t rights;
    char sku[X509_TEXT_MAX + 1], version[X509_TEXT_MAX + 1];
    const uint8_t *revoker;
    size_t revoker_len;
    enum x509_kind kind;
    bool has_content;
    size_t grant_count;
    struct x509_content *content; /* where ARC.6 goes; NULL: checked, not kept (chains) */
    char crl_url[X509_URL_MAX + 1];
    bool has_cdp, has_via;
    uint8_t via[X509_SERIAL_LEN];
    size_t via_len;
    unsigned seen; /* our extensions met, by their arc number: each at most once */
    bool bad;      /* one of ours did not parse: the certificate is refused, not read without it */
    const char *why;     /* what was wrong with it, when we can say */
    const char *bad_why; /* why, as the first extension that did not parse left it */
};

#define SEQ (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)
_Static_assert(X509_GRANTS_MAX == 16, "the reason strings say 16");

static bool oid_is(const mbedtls_x509_buf *oid, const char *want, size_t len)
{
    return oid->len == len && memcmp(oid->p, want, len) == 0;
}

/* A printable-ASCII UTF8String or IA5String, copied with its NUL. */
static int get_text(unsigned char **p, const unsigned char *end, char *out, size_t cap, int tag)
{
    size_t n;
    if (mbedtls_asn1_get_tag(p, end, &n, tag) != 0 || n >= cap)
        return -1;
    for (size_t i = 0; i < n; i++)
        if ((*p)[i] < 0x20 || (*p)[i] > 0x7e)
            return -1;
    memcpy(out, *p, n);
    out[n] = '\0';
    *p += n;
    return 0;
}

static int parse_rights(struct ext_ctx *x, unsigned char *p, const unsigned char *end)
{
    static const char *const oids[4] = {SIGNET_OID_RIGHT_SUBENROLL, SIGNET_OID_RIGHT_CERTIFY,
                                        SIGNET_OID_RIGHT_ISSUE_USE, SIGNET_OID_RIGHT_ISSUE_PUBLISH};
    size_t n;

    if (mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0 ||
        p + n != end)
        return -1;
    while (p < end) {
        if (mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_OID) != 0)
            return -1;
        /* Rights we do not know (a newer issuer) grant nothing here; they are not an error. */
        for (int i = 0; i < 4; i++)
            if (n == SIGNET_OID_RIGHT_LEN && memcmp(p, oids[i], n) == 0)
                x->rights |= 1u << i;
        p += n;
    }
    return 0;
}

static int parse_product(struct ext_ctx *x, unsigned char *p, const unsigned char *end)
{
    size_t n;
    if (mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0 ||
        p + n != end || get_text(&p, end, x->sku, sizeof(x->sku), MBEDTLS_ASN1_UTF8_STRING) != 0 ||
        get_text(&p, end, x->version, sizeof(x->version), MBEDTLS_ASN1_UTF8_STRING) != 0 ||
        p != end)
        return -1;
    return 0;
}

static int parse_revocation(struct ext_ctx *x, unsigned char *p, const unsigned char *end)
{
    size_t n;
    if (mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0 ||
        p + n != end || n == 0 || n > X509_SPKI_MAX)
        return -1;
    x->revoker = p; /* the SubjectPublicKeyInfo, as it is */
    x->revoker_len = n;
    return 0;
}

/* ARC.5: exactly one OBJECT IDENTIFIER ARC.5.n with n a kind we know. */
static int parse_kind(struct ext_ctx *x, unsigned char *p, const unsigned char *end)
{
    static const char arc[] = SIGNET_OID_ARC SIGNET_OID_KIND_ARC;
    size_t n;

    x->why = "malformed signetKind extension";
    if (mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_OID) != 0 || p + n != end)
        return -1;
    x->why = "unknown certificate kind (signetKind)";
    if (n != SIGNET_OID_KIND_LEN || memcmp(p, arc, sizeof(arc) - 1) != 0 ||
        p[n - 1] < X509_KIND_RAC || p[n - 1] > X509_KIND_CKEK)
        return -1;
    x->kind = (enum x509_kind)p[n - 1];
    return 0;
}

/* A printable name of 1..X509_CN_MAX as a UTF8String, located in the DER by at and n. */
static int get_name(unsigned char **p, const unsigned char *end, const uint8_t **at, size_t *n)
{
    if (mbedtls_asn1_get_tag(p, end, n, MBEDTLS_ASN1_UTF8_STRING) != 0 || *n < 1 ||
        *n > X509_CN_MAX)
        return -1;
    for (size_t i = 0; i < *n; i++)
        if ((*p)[i] < 0x20 || (*p)[i] > 0x7e)
            return -1;
    *at = *p;
    *p += *n;
    return 0;
}

/*
 * rights BIT STRING in DER (X.690 §11.2.2: no trailing zero bits) naming only rights we know: one
 * octet (X509_GRANTS_ALL has 6 bits), 2..7 unused bits that are zero, and the last used bit set.
 * So an empty grant, an unknown right and a non-minimal encoding are all refused.
 */
static int get_grant_rights(unsigned char **p, const unsigned char *end, uint32_t *rights)
{
    size_t n;

    if (mbedtls_asn1_get_tag(p, end, &n, MBEDTLS_ASN1_BIT_STRING) != 0 || n != 2)
        return -1;
    unsigned unused = (*p)[0], octet = (*p)[1];
    if (unused < 2 || unused > 7 || (octet & ((1u << unused) - 1)) != 0 ||
        !(octet & (1u << unused)))
        return -1;
    *rights = 0;
    for (int i = 0; i < 6; i++)
        if (octet & (0x80u >> i))
            *rights |= 1u << i;
    *p += n;
    return 0;
}

static void copy_name(char *out, const uint8_t *at, size_t n)
{
    memcpy(out, at, n);
    out[n] = '\0';
}

/* grants SEQUENCE SIZE (1..X509_GRANTS_MAX) OF SEQUENCE { user UTF8String, rights BIT STRING },
 * users distinct; kept in x->content when there is one. */
static int parse_grants(struct ext_ctx *x, unsigned char *p, const unsigned char *end)
{
    const uint8_t *user[X509_GRANTS_MAX];
    size_t user_len[X509_GRANTS_MAX], n, count = 0;

    while (p < end) {
        uint32_t rights;
        x->why = "more than 16 grants in signetContent";
        if (count == X509_GRANTS_MAX)
            return -1;
        x->why = "malformed grant in signetContent";
        if (mbedtls_asn1_get_tag(&p, end, &n, SEQ) != 0)
            return -1;
        const unsigned char *g_end = p + n;
        if (get_name(&p, g_end, &user[count], &user_len[count]) != 0)
            return -1;
        x->why = "grant with no rights, unknown rights or non-DER rights in signetContent";
        if (get_grant_rights(&p, g_end, &rights) != 0 || p != g_end)
            return -1;
        x->why = "a user has two grants in signetContent";
        for (size_t j = 0; j < count; j++)
            if (user_len[j] == user_len[count] && memcmp(user[j], user[count], user_len[j]) == 0)
                return -1;
        if (x->content) {
            copy_name(x->content->grants[count].user, user[count], user_len[count]);
            x->content->grants[count].rights = rights;
        }
        count++;
    }
    x->why = "signetContent without grants";
    if (count == 0)
        return -1;
    x->grant_count = count;
    return 0;
}

/* ARC.6: SEQUENCE { contentId OCTET STRING (16), owner UTF8String, wrappedKey OCTET STRING
 * (1..X509_WRAPPED_MAX), grants } and nothing after it. */
static int parse_content(struct ext_ctx *x, unsigned char *p, const unsigned char *end)
{
    const uint8_t *owner, *id;
    size_t n, owner_len;

    x->why = "malformed signetContent extension";
    if (mbedtls_asn1_get_tag(&p, end, &n, SEQ) != 0 || p + n != end ||
        mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_OCTET_STRING) != 0 ||
        n != X509_CONTENT_ID_LEN)
        return -1;
    id = p;
    p += n;
    if (get_name(&p, end, &owner, &owner_len) != 0 ||
        mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_OCTET_STRING) != 0 || n < 1 ||
        n > X509_WRAPPED_MAX)
        return -1;
    if (x->content) {
        memcpy(x->content->id, id, X509_CONTENT_ID_LEN);
        copy_name(x->content->owner, owner, owner_len);
        x->content->wrapped = p;
        x->content->wrapped_len = n;
    }
    p += n;
    if (mbedtls_asn1_get_tag(&p, end, &n, SEQ) != 0 || p + n != end)
        return -1;
    if (parse_grants(x, p, end) != 0)
        return -1;
    x->has_content = true;
    if (x->content)
        x->content->grant_count = x->grant_count;
    return 0;
}

/* ARC.7: OCTET STRING of X509_SERIAL_LEN bytes, the licensing server's certificate serial. */
static int parse_via(struct ext_ctx *x, unsigned char *p, const unsigned char *end)
{
    size_t n;

    x->why = "malformed signetVia extension";
    if (mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_OCTET_STRING) != 0 || p + n != end ||
        (n != X509_SERIAL_PREFIX_LEN && n != X509_SERIAL_LEN))
        return -1;
    memcpy(x->via, p, n);
    x->via_len = n;
    x->has_via = true;
    return 0;
}

/* The fullName GeneralNames of one DistributionPoint: the first URI is kept (when none is yet),
 * other names are passed over. */
static int parse_full_name(struct ext_ctx *x, unsigned char *p, const unsigned char *end)
{
    while (p < end) {
        size_t n;
        unsigned char tag = *p++;
        if (mbedtls_asn1_get_len(&p, end, &n) != 0)
            return -1;
        if (tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 6) && !x->crl_url[0]) {
            x->why = "the cRLDistributionPoints URI is too long or not printable";
            if (n < 1 || n > X509_URL_MAX)
                return -1;
            for (size_t i = 0; i < n; i++)
                if (p[i] <= 0x20 || p[i] > 0x7e)
                    return -1;
            memcpy(x->crl_url, p, n);
            x->crl_url[n] = '\0';
            x->why = "malformed cRLDistributionPoints extension";
        }
        p += n;
    }
    return 0;
}

/* cRLDistributionPoints (RFC 5280 §4.2.1.13): SEQUENCE SIZE (1..MAX) OF DistributionPoint ::=
 * SEQUENCE { distributionPoint [0] DistributionPointName OPTIONAL, reasons [1], cRLIssuer [2] }.
 * Only a fullName's URI means anything to us (where the issuer's CRL is); the rest of a
 * well-formed extension is passed over, a malformed one refuses the certificate. */
static int parse_cdp(struct ext_ctx *x, unsigned char *p, const unsigned char *end)
{
    const unsigned char ctx0 = MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0;
    size_t n;

    x->why = "malformed cRLDistributionPoints extension";
    if (mbedtls_asn1_get_tag(&p, end, &n, SEQ) != 0 || p + n != end || n == 0)
        return -1;
    while (p < end) {
        if (mbedtls_asn1_get_tag(&p, end, &n, SEQ) != 0)
            return -1;
        unsigned char *dp_end = p + n;
        if (p < dp_end && *p == ctx0) { /* distributionPoint */
            if (mbedtls_asn1_get_tag(&p, dp_end, &n, ctx0) != 0)
                return -1;
            unsigned char *name_end = p + n;
            if (p < name_end && *p == ctx0) { /* fullName, not nameRelativeToCRLIssuer */
                if (mbedtls_asn1_get_tag(&p, name_end, &n, ctx0) != 0 || p + n != name_end ||
                    parse_full_name(x, p, name_end) != 0)
                    return -1;
            }
            p = name_end;
        }
        p = dp_end; /* reasons, cRLIssuer: not ours to judge */
    }
    x->has_cdp = true;
    return 0;
}

static int on_extension(void *ctx, mbedtls_x509_crt const *crt, mbedtls_x509_buf const *oid,
                        int critical, const unsigned char *p, const unsigned char *end)
{
    struct ext_ctx *x = ctx;
    unsigned char *c = (unsigned char *)(uintptr_t)p;
    int ret = 0;

    (void)crt;
    if (oid_is(oid, MBEDTLS_OID_CRL_DISTRIBUTION_POINTS,
               MBEDTLS_OID_SIZE(MBEDTLS_OID_CRL_DISTRIBUTION_POINTS))) {
        /* mbedTLS does not know it, so does not refuse it twice: we do. */
        ret = x->has_cdp ? -1 : parse_cdp(x, c, end);
        if (ret != 0) {
            x->why = x->has_cdp ? "cRLDistributionPoints appears twice" : x->why;
            if (!x->bad)
                x->bad_why = x->why;
            x->bad = true;
            return MBEDTLS_ERR_X509_INVALID_EXTENSIONS;
        }
        x->why = NULL;
        return 0;
    }
    /* Ours are ARC.n, one octet after the arc; mbedTLS only refuses repeats of its own. */
    if (oid->len != sizeof(SIGNET_OID_ARC) || memcmp(oid->p, SIGNET_OID_ARC, oid->len - 1) != 0)
        return critical ? MBEDTLS_ERR_X509_INVALID_EXTENSIONS : 0; /* not ours; ignorable */
    unsigned arc = oid->p[oid->len - 1];
    if (arc < 32 && (x->seen & (1u << arc))) {
        x->why = "one of Signet's extensions appears twice";
        ret = -1;
    } else if (oid_is(oid, SIGNET_OID_RIGHTS, MBEDTLS_OID_SIZE(SIGNET_OID_RIGHTS))) {
        ret = parse_rights(x, c, end);
    } else if (oid_is(oid, SIGNET_OID_PRODUCT, MBEDTLS_OID_SIZE(SIGNET_OID_PRODUCT))) {
        ret = parse_product(x, c, end);
    } else if (oid_is(oid, SIGNET_OID_REVOCATION, MBEDTLS_OID_SIZE(SIGNET_OID_REVOCATION))) {
        ret = parse_revocation(x, c, end);
    } else if (oid_is(oid, SIGNET_OID_KIND, MBEDTLS_OID_SIZE(SIGNET_OID_KIND))) {
        ret = parse_kind(x, c, end);
    } else if (oid_is(oid, SIGNET_OID_CONTENT, MBEDTLS_OID_SIZE(SIGNET_OID_CONTENT))) {
        ret = parse_content(x, c, end);
    } else if (oid_is(oid, SIGNET_OID_VIA, MBEDTLS_OID_SIZE(SIGNET_OID_VIA))) {
        ret = parse_via(x, c, end);
    } else {
        return critical ? MBEDTLS_ERR_X509_INVALID_EXTENSIONS : 0; /* a newer one of ours */
    }
    if (arc < 32)
        x->seen |= 1u << arc;
    if (ret == 0)
        x->why = NULL; /* what a parser said on its way through is no reason */
    if (ret != 0 && !x->bad)
        x->bad_why = x->why;
    if (ret != 0)
        x->bad = true;
    return ret ? MBEDTLS_ERR_X509_INVALID_EXTENSIONS : 0;
}

/* What the kind and the content say together, once all extensions are read: licenses carry
 * content (a use license one grant), nothing else does, and no certificate of a kind is a CA. */
static int check_kind(struct ext_ctx *x, const mbedtls_x509_crt *crt)
{
    bool license = x->kind == X509_KIND_PUBLISHING || x->kind == X509_KIND_USE;

    if (x->kind != X509_KIND_NONE && crt->MBEDTLS_PRIVATE(ca_istrue))
        x->why = "a rights account certificate, license or CKEK certificate that is a CA";
    else if (license && !x->has_content)
        x->why = "a license without signetContent";
    else if (!license && x->has_content)
        x->why = "signetContent in a certificate that is not a license";
    else if (x->kind == X509_KIND_USE && x->grant_count != 1)
        x->why = "a use license must hold exactly one grant";
    else if (x->has_via && x->kind != X509_KIND_RAC)
        x->why = "signetVia in a certificate that is not a rights account certificate";
    else
        return 0;
    return -1;
}

/* Parse one certificate (no copy: pointers stay in der) with our extensions noted; ARC.6 into
 * content when it is not NULL. */
static int parse(mbedtls_x509_crt *crt, const uint8_t *der, size_t len, struct ext_ctx *x,
                 struct x509_content *content)
{
    memset(x, 0, sizeof(*x));
    x->content = content;
    if (mbedtls_x509_crt_parse_der_with_ext_cb(crt, der, len, 0, on_extension, x) != 0 || x->bad)
        return -EINVAL;
    /* parse_der appends: the certificate just read is the last in the list */
    const mbedtls_x509_crt *last = crt;
    while (last->next)
        last = last->next;
    return check_kind(x, last) == 0 ? 0 : -EINVAL;
}

static void copy_cn(const mbedtls_x509_name *n, char *out, size_t cap)
{
    out[0] = '\0';
    for (; n; n = n->next) {
        if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) != 0 || n->val.len >= cap)
            continue;
        for (size_t i = 0; i < n->val.len; i++)
            out[i] = (n->val.p[i] >= 0x20 && n->val.p[i] < 0x7f) ? (char)n->val.p[i] : '?';
        out[n->val.len] = '\0';
        return;
    }
}

/* The first subjectAltName URI, if any. */
static void copy_uri(const mbedtls_x509_sequence *san, char *out, size_t cap)
{
    out[0] = '\0';
    for (; san; san = san->next) {
        if (san->buf.tag != (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 6) || san->buf.len >= cap)
            continue;
        for (size_t i = 0; i < san->buf.len; i++)
            out[i] = (san->buf.p[i] >= 0x20 && san->buf.p[i] < 0x7f) ? (char)san->buf.p[i] : '?';
        out[san->buf.len] = '\0';
        return;
    }
}

/* Everything but out->content, which the parse filled. */
static void fill_info(const mbedtls_x509_crt *c, const struct ext_ctx *x, struct x509_info *out)
{
    copy_cn(&c->subject, out->cn, sizeof(out->cn));
    out->serial_len = c->serial.len <= sizeof(out->serial) ? c->serial.len : sizeof(out->serial);
    memcpy(out->serial, c->serial.p, out->serial_len);
    out->not_before = c->valid_from;
    out->not_after = c->valid_to;
    out->ca = c->MBEDTLS_PRIVATE(ca_istrue) != 0;
    /* mbedTLS keeps pathLenConstraint + 1, 0 meaning none. */
    out->path_len = c->MBEDTLS_PRIVATE(max_pathlen) - 1;
    out->rights = x->rights;
    copy_uri(&c->subject_alt_names, out->cluster_url, sizeof(out->cluster_url));
    memcpy(out->sku, x->sku, sizeof(out->sku));
    memcpy(out->version, x->version, sizeof(out->version));
    out->spki = c->pk_raw.p;
    out->spki_len = c->pk_raw.len;
    out->subject = c->subject_raw.p;
    out->subject_len = c->subject_raw.len;
    out->revoker_spki = x->revoker;
    out->revoker_spki_len = x->revoker_len;
    out->kind = x->kind;
    out->has_content = x->has_content;
    memcpy(out->crl_url, x->crl_url, sizeof(out->crl_url));
    out->has_via = x->has_via;
    memcpy(out->via, x->via, sizeof(out->via));
    out->via_len = x->via_len;
}

int x509_read(const uint8_t *der, size_t len, struct x509_info *out, const char **why)
{
    mbedtls_x509_crt crt;
    struct ext_ctx x;
    int ret = -EINVAL;

    *why = "not a certificate Signet can read";
    memset(out, 0, sizeof(*out));
    mbedtls_x509_crt_init(&crt);
    if (parse(&crt, der, len, &x, &out->content) != 0) {
        if (x.bad_why)
            *why = x.bad_why;
        else if (x.why)
            *why = x.why;
        goto out;
    }
    if (crt.raw.len != len)
        goto out;
    fill_info(&crt, &x, out);
    ret = 0;
out:
    if (ret)
        memset(out, 0, sizeof(*out));
    mbedtls_x509_crt_free(&crt);
    return ret;
}

/* The parsed request's signature (SHA-256) verifies with the request's own key. */
static bool csr_self_signed(const mbedtls_x509_csr *req)
{
    unsigned char hash[MBEDTLS_MD_MAX_SIZE];

    return req->MBEDTLS_PRIVATE(sig_md) == MBEDTLS_MD_SHA256 &&
           mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), req->cri.p, req->cri.len,
                      hash) == 0 &&
           mbedtls_pk_verify_ext(req->MBEDTLS_PRIVATE(sig_pk), req->MBEDTLS_PRIVATE(sig_opts),
                                 (mbedtls_pk_context *)(uintptr_t)&req->pk, MBEDTLS_MD_SHA256, hash,
                                 32, req->MBEDTLS_PRIVATE(sig).p,
                                 req->MBEDTLS_PRIVATE(sig).len) == 0;
}

/* The request's key as DER SubjectPublicKeyInfo, re-encoded by mbedTLS; its length or 0. */
static size_t csr_key(mbedtls_x509_csr *req, unsigned char key[X509_SPKI_MAX], const uint8_t **at)
{
    int n = mbedtls_pk_write_pubkey_der(&req->pk, key, X509_SPKI_MAX);

    *at = key + X509_SPKI_MAX - (n > 0 ? n : 0);
    return n > 0 ? (size_t)n : 0;
}

int x509_csr_verify(const uint8_t *csr, size_t len, const uint8_t *spki, size_t spki_len,
                    const char **why)
{
    mbedtls_x509_csr req;
    unsigned char key[X509_SPKI_MAX];
    const uint8_t *at;
    int ret = -EINVAL;

    mbedtls_x509_csr_init(&req);
    *why = "the proof of possession is not a PKCS#10 request";
    if (mbedtls_x509_csr_parse_der(&req, csr, len) != 0)
        goto out;
    *why = "the proof of possession is for another key";
    /* The request's key, re-encoded by mbedTLS, must be byte for byte the key being enrolled. */
    size_t n = csr_key(&req, key, &at);
    if (!n || n != spki_len || memcmp(at, spki, spki_len) != 0)
        goto out;
    *why = "the proof of possession's signature does not verify";
    if (csr_self_signed(&req))
        ret = 0;
out:
    mbedtls_x509_csr_free(&req);
    return ret;
}

/* The subject's one CN, printable ASCII without spaces at the ends; false when absent,
 * repeated or unfit (a user's name, refused rather than mended). */
static bool csr_subject_cn(const mbedtls_x509_name *n, char out[X509_CN_MAX + 1])
{
    bool found = false;

    for (; n; n = n->next) {
        if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) != 0)
            continue;
        if (found || n->val.len == 0 || n->val.len > X509_CN_MAX)
            return false;
        for (size_t i = 0; i < n->val.len; i++)
            if (n->val.p[i] < 0x20 || n->val.p[i] > 0x7e)
                return false;
        memcpy(out, n->val.p, n->val.len);
        out[n->val.len] = '\0';
        found = true;
    }
    return found && out[0] != ' ' && out[strlen(out) - 1] != ' ';
}

int x509_csr_read(const uint8_t *csr, size_t len, char cn[X509_CN_MAX + 1], uint8_t *spki,
                  size_t cap, size_t *spki_len, const char **why)
{
    mbedtls_x509_csr req;
    unsigned char key[X509_SPKI_MAX];
    const uint8_t *at;
    int ret = -EINVAL;

    mbedtls_x509_csr_init(&req);
    *why = "not a PKCS#10 certificate request";
    if (mbedtls_x509_csr_parse_der(&req, csr, len) != 0)
        goto out;
    *why = "the request's subject needs one CN of 1-64 printable characters";
    if (!csr_subject_cn(&req.subject, cn))
        goto out;
    *why = "the request's public key cannot be encoded";
    size_t n = csr_key(&req, key, &at);
    if (!n || n > cap)
        goto out;
    *why = "the request's signature does not verify";
    if (!csr_self_signed(&req))
        goto out;
    memcpy(spki, at, n);
    *spki_len = n;
    ret = 0;
out:
    mbedtls_x509_csr_free(&req);
    return ret;
}

/* What mbedTLS's verdict flags mean to an operator, most telling first. */
static const char *flags_reason(uint32_t flags)
{
    if (flags &
        (MBEDTLS_X509_BADCERT_BAD_MD | MBEDTLS_X509_BADCERT_BAD_PK | MBEDTLS_X509_BADCERT_BAD_KEY))
        return "weak or unsupported algorithm or key";
    if (flags & MBEDTLS_X509_BADCERT_KEY_USAGE)
        return "a certificate is used for what its key usage does not allow";
    if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED)
        return "not signed by the trusted chain (untrusted root or bad signature)";
    return "chain verification failed";
}

const mbedtls_x509_crt_profile x509_signature_profile = {
    MBEDTLS_X509_ID_FLAG(MBEDTLS_MD_SHA256) | MBEDTLS_X509_ID_FLAG(MBEDTLS_MD_SHA384) |
        MBEDTLS_X509_ID_FLAG(MBEDTLS_MD_SHA512),
    MBEDTLS_X509_ID_FLAG(MBEDTLS_PK_RSA) | MBEDTLS_X509_ID_FLAG(MBEDTLS_PK_ECKEY) |
        MBEDTLS_X509_ID_FLAG(MBEDTLS_PK_ECDSA),
    MBEDTLS_X509_ID_FLAG(MBEDTLS_ECP_DP_SECP256R1) | MBEDTLS_X509_ID_FLAG(MBEDTLS_ECP_DP_SECP384R1),
    2048,
};

#define CHAIN_MAX 6

/* A leaf of a kind needs the issuer right that makes it (docs/certificates.md
 * profile"): RACs come from a certifying SLC, licenses from one that may issue them, a CKEK
 * certificate from any SLC (the server's own, whatever its role). */
static int kind_issuer_check(enum x509_kind kind, uint32_t issuer, const char **why)
{
    switch (kind) {
    case X509_KIND_RAC:
        *why = "issuer may not issue rights account certificates";
        return issuer & X509_RIGHT_CERTIFY ? 0 : -EPERM;
    case X509_KIND_PUBLISHING:
        *why = "issuer may not issue publishing licenses";
        return issuer & X509_RIGHT_ISSUE_PUBLISH ? 0 : -EPERM;
    case X509_KIND_USE:
        *why = "issuer may not issue use licenses";
        return issuer & X509_RIGHT_ISSUE_USE ? 0 : -EPERM;
    case X509_KIND_CKEK:
        *why = "issuer of a CKEK certificate is not a server licensor certificate";
        return issuer & (X509_RIGHT_CERTIFY | X509_RIGHT_ISSUE_USE | X509_RIGHT_ISSUE_PUBLISH)
                   ? 0
                   : -EPERM;
    default:
        return 0;
    }
}

int x509_chain_verify(struct x509_cert leaf, const struct x509_cert *chain, size_t n,
                      struct x509_cert anchor, const x509_time *now, uint32_t required_rights,
                      const char **why)
{
    mbedtls_x509_crt path, root;
    struct ext_ctx x[CHAIN_MAX + 1];
    const mbedtls_x509_crt *c[CHAIN_MAX + 1];
    size_t count = 0;
    uint32_t flags = 0;
    int ret = -EPERM;

    mbedtls_x509_crt_init(&path);
    mbedtls_x509_crt_init(&root);
    /* The anchor may come along as the chain's last element: it is the anchor, not a link. */
    if (n && chain[n - 1].len == anchor.len &&
        memcmp(chain[n - 1].der, anchor.der, anchor.len) == 0)
        n--;
    *why = "too many certificates in the chain";
    if (n + 1 > CHAIN_MAX)
        goto out;
    *why = "the authority root is not a certificate Signet can read";
    if (parse(&root, anchor.der, anchor.len, &x[n + 1], NULL) != 0)
        goto out;
    *why = "a certificate in the chain is not one Signet can read";
    if (parse(&path, leaf.der, leaf.len, &x[0], NULL) != 0)
        goto out;
    for (size_t i = 0; i < n; i++)
        if (parse(&path, chain[i].der, chain[i].len, &x[i + 1], NULL) != 0)
            goto out;
    for (const mbedtls_x509_crt *p = &path; p && p->raw.p; p = p->next)
        c[count++] = p;
    c[count] = &root;
    /* Each certificate must be issued by the next one: the order we check rights along. */
    for (size_t i = 0; i < count; i++) {
        /* The leaf's own issuer differs: most often another cluster's certificate or license
         * (say so), rather than a chain in the wrong order. */
        *why = i ? "the chain is not in order (each certificate's issuer must follow it)"
                 : "issued by another issuer than the one expected";
        if (c[i]->issuer_raw.len != c[i + 1]->subject_raw.len ||
            memcmp(c[i]->issuer_raw.p, c[i + 1]->subject_raw.p, c[i]->issuer_raw.len) != 0)
            goto out;
    }
    for (size_t i = 0; i <= count; i++) {
        if (x509_time_cmp(now, &c[i]->valid_from) < 0) {
            *why = i ? "a certificate in the chain is not valid yet" : "not valid yet";
            goto out;
        }
        if (x509_time_cmp(now, &c[i]->valid_to) > 0) {
            *why = i ? "a certificate in the chain has expired" : "expired";
            goto out;
        }
    }
    if (mbedtls_x509_crt_verify_with_profile(&path, &root, NULL, &x509_signature_profile, NULL,
                                             &flags, NULL, NULL) != 0 ||
        flags) {
        *why = flags_reason(flags);
        goto out;
    }
    /* Rights flow downwards only, and only a holder of sub-enroll may make another issuer. */
    for (size_t i = 0; i < count; i++) {
        uint32_t mine = x[i].rights, parent = x[i + 1].rights;
        if (mine & ~parent) {
            *why = "a certificate holds a right its issuer does not have";
            goto out;
        }
        if (c[i]->MBEDTLS_PRIVATE(ca_istrue) && !(parent & X509_RIGHT_SUBENROLL)) {
            *why = "an issuer without the sub-enroll right made another issuer";
            goto out;
        }
    }
    if (kind_issuer_check(x[0].kind, x[1].rights, why) != 0)
        goto out;
    if ((x[0].rights & required_rights) != required_rights) {
        *why = "the certificate lacks the rights it needs here";
        goto out;
    }
    ret = 0;
out:
    mbedtls_x509_crt_free(&path);
    mbedtls_x509_crt_free(&root);
    return ret;
}
