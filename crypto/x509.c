/*
 * crypto/x509.c — writing certificates and PKCS#10 requests (RFC 5280, RFC 2986).
 *
 * mbedTLS's ASN.1 writers fill a buffer from its end towards its start, so each structure is
 * written last field first (crypto/x509_der.h). Every helper returns the bytes it wrote or a
 * negative mbedTLS error.
 */
#include "crypto/x509.h"

#include <errno.h>
#include <string.h>

#include "crypto/x509_der.h"
#include "crypto/x509_oid.h"
#include "mbedtls/asn1write.h"
#include "mbedtls/oid.h"
#include "mbedtls/x509.h"

#define SIG_MAX 512 /* RSA-4096 */

static const unsigned char seq = DER_SEQ;

/* Name ::= SEQUENCE OF RDN; we write O then CN, one attribute each, as UTF8String. */
static int write_name(unsigned char **p, unsigned char *start, const char *cn, const char *org)
{
    static const struct {
        const char *oid;
        size_t oid_len;
    } attr[2] = {{MBEDTLS_OID_AT_CN, MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_CN)},
                 {MBEDTLS_OID_AT_ORGANIZATION, MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_ORGANIZATION)}};
    const char *val[2] = {cn, org};
    size_t len = 0;

    for (int i = 0; i < 2; i++) { /* written backwards: CN ends up last */
        size_t n = 0;
        if (!val[i] || !val[i][0])
            continue;
        DER_ADD(n, mbedtls_asn1_write_utf8_string(p, start, val[i], strlen(val[i])));
        DER_ADD(n, mbedtls_asn1_write_oid(p, start, attr[i].oid, attr[i].oid_len));
        DER_ADD(n, der_wrap(p, start, n, seq));
        DER_ADD(n, der_wrap(p, start, n, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SET));
        len += n;
    }
    DER_ADD(len, der_wrap(p, start, len, seq));
    return (int)len;
}

static int write_basic_constraints(unsigned char **p, unsigned char *start, bool ca, int path_len)
{
    size_t len = 0;
    if (ca && path_len >= 0)
        DER_ADD(len, mbedtls_asn1_write_int(p, start, path_len));
    if (ca)
        DER_ADD(len, mbedtls_asn1_write_bool(p, start, 1));
    DER_ADD(len, der_wrap(p, start, len, seq));
    return (int)len;
}

/* RFC 5280 §4.2.1.3. A RAC's key signs (the user's requests) and receives content keys; the
 * keys of licenses and of the CKEK certificate only receive wrapped keys. */
static int write_key_usage(unsigned char **p, unsigned char *start, bool ca, enum x509_kind kind)
{
    unsigned char bits = MBEDTLS_X509_KU_DIGITAL_SIGNATURE;
    if (ca)
        bits |= MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN;
    if (kind == X509_KIND_RAC)
        bits = MBEDTLS_X509_KU_DIGITAL_SIGNATURE | MBEDTLS_X509_KU_KEY_ENCIPHERMENT;
    else if (kind != X509_KIND_NONE)
        bits = MBEDTLS_X509_KU_KEY_ENCIPHERMENT;
    return mbedtls_asn1_write_named_bitstring(p, start, &bits, 8);
}

/* GeneralNames with one uniformResourceIdentifier [6] IA5String. */
static int write_san_uri(unsigned char **p, unsigned char *start, const char *uri)
{
    size_t n = strlen(uri), len = 0;
    DER_ADD(len, mbedtls_asn1_write_raw_buffer(p, start, (const unsigned char *)uri, n));
    DER_ADD(len, der_wrap(p, start, n, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 6));
    DER_ADD(len, der_wrap(p, start, len, seq));
    return (int)len;
}

/* CRLDistributionPoints ::= SEQUENCE OF DistributionPoint, here one: DistributionPoint ::=
 * SEQUENCE { distributionPoint [0] DistributionPointName }, the CHOICE fullName [0] GeneralNames
 * with one uniformResourceIdentifier [6] IA5String (RFC 5280 §4.2.1.13). No reasons, no
 * cRLIssuer: the CRL there is the issuer's own and covers every reason. */
static int write_cdp(unsigned char **p, unsigned char *start, const char *uri)
{
    size_t n = strlen(uri), len = 0;
    DER_ADD(len, mbedtls_asn1_write_raw_buffer(p, start, (const unsigned char *)uri, n));
    DER_ADD(len, der_wrap(p, start, n, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 6));
    DER_ADD(len,
            der_wrap(p, start, len,
                     MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0)); /* fullName */
    DER_ADD(len, der_wrap(p, start, len,
                          MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0)); /* dp */
    DER_ADD(len, der_wrap(p, start, len, seq));
    DER_ADD(len, der_wrap(p, start, len, seq));
    return (int)len;
}

/* ExtKeyUsageSyntax ::= SEQUENCE OF KeyPurposeId — id-kp-serverAuth and id-kp-clientAuth: the
 * appliance's TLS identity serves HTTPS and is also its client certificate towards a root (strict
 * TLS servers refuse a client certificate whose extendedKeyUsage lacks clientAuth). */
static int write_server_auth(unsigned char **p, unsigned char *start)
{
    size_t len = 0;
    DER_ADD(len, mbedtls_asn1_write_oid(p, start, MBEDTLS_OID_CLIENT_AUTH,
                                        MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)));
    DER_ADD(len, mbedtls_asn1_write_oid(p, start, MBEDTLS_OID_SERVER_AUTH,
                                        MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)));
    DER_ADD(len, der_wrap(p, start, len, seq));
    return (int)len;
}

static int write_rights(unsigned char **p, unsigned char *start, uint32_t rights)
{
    static const char *const oids[4] = {SIGNET_OID_RIGHT_SUBENROLL, SIGNET_OID_RIGHT_CERTIFY,
                                        SIGNET_OID_RIGHT_ISSUE_USE, SIGNET_OID_RIGHT_ISSUE_PUBLISH};
    size_t len = 0;
    for (int i = 3; i >= 0; i--)
        if (rights & (1u << i))
            DER_ADD(len, mbedtls_asn1_write_oid(p, start, oids[i], SIGNET_OID_RIGHT_LEN));
    DER_ADD(len, der_wrap(p, start, len, seq));
    return (int)len;
}

static int write_product(unsigned char **p, unsigned char *start, const char *sku,
                         const char *version)
{
    size_t len = 0;
    DER_ADD(len, mbedtls_asn1_write_utf8_string(p, start, version, strlen(version)));
    DER_ADD(len, mbedtls_asn1_write_utf8_string(p, start, sku, strlen(sku)));
    DER_ADD(len, der_wrap(p, start, len, seq));
    return (int)len;
}

static int write_revocation(unsigned char **p, unsigned char *start, const uint8_t *spki, size_t n)
{
    size_t len = 0;
    DER_ADD(len, mbedtls_asn1_write_raw_buffer(p, start, spki, n));
    DER_ADD(len, der_wrap(p, start, len, seq));
    return (int)len;
}

/* ARC.5: OBJECT IDENTIFIER ARC.5.n */
static int write_kind(unsigned char **p, unsigned char *start, enum x509_kind kind)
{
    const char oid[] = SIGNET_OID_ARC SIGNET_OID_KIND_ARC "\x00";
    char buf[sizeof(oid) - 1];

    memcpy(buf, oid, sizeof(buf));
    buf[sizeof(buf) - 1] = (char)kind; /* 1..4: one base-128 octet */
    return mbedtls_asn1_write_oid(p, start, buf, sizeof(buf));
}

/* Grant ::= SEQUENCE { user UTF8String, rights BIT STRING } — rights as named bits: X509_GRANT
 * bit i is BIT STRING bit i, counted from the first octet's most significant bit (X.680 §22),
 * and DER drops trailing zero bits (X.690 §11.2.2), which mbedTLS's named-bitstring writer does. */
static int write_grant(unsigned char **p, unsigned char *start, const struct x509_grant *g)
{
    unsigned char bits = 0;
    size_t len = 0;

    for (int i = 0; i < 8; i++)
        if (g->rights & (1u << i))
            bits |= (unsigned char)(0x80u >> i);
    DER_ADD(len, mbedtls_asn1_write_named_bitstring(p, start, &bits, 8));
    DER_ADD(len, mbedtls_asn1_write_utf8_string(p, start, g->user, strlen(g->user)));
    DER_ADD(len, der_wrap(p, start, len, seq));
    return (int)len;
}

/* ARC.6: SEQUENCE { contentId OCTET STRING, owner UTF8String, wrappedKey OCTET STRING,
 * grants SEQUENCE OF Grant } */
static int write_content(unsigned char **p, unsigned char *start, const struct x509_content *c)
{
    size_t len = 0, grants = 0;

    for (size_t i = c->grant_count; i-- > 0;)
        DER_ADD(grants, write_grant(p, start, &c->grants[i]));
    DER_ADD(grants, der_wrap(p, start, grants, seq));
    len += grants;
    DER_ADD(len, der_write_octets(p, start, c->wrapped, c->wrapped_len));
    DER_ADD(len, mbedtls_asn1_write_utf8_string(p, start, c->owner, strlen(c->owner)));
    DER_ADD(len, der_write_octets(p, start, c->id, X509_CONTENT_ID_LEN));
    DER_ADD(len, der_wrap(p, start, len, seq));
    return (int)len;
}

static bool present(const char *s)
{
    return s && s[0];
}

static int write_extensions(unsigned char **p, unsigned char *start, const struct x509_profile *pr,
                            const uint8_t ski[20], const uint8_t aki[20])
{
    size_t len = 0;

    if (pr->content)
        DER_EXT(p, start, len, write_content(p, start, pr->content), SIGNET_OID_CONTENT, false);
    /* ARC.7: the licensing server's serial prefix as an OCTET STRING of 8 bytes. */
    if (pr->via_prefix)
        DER_EXT(p, start, len, der_write_octets(p, start, pr->via_prefix, X509_SERIAL_PREFIX_LEN),
                SIGNET_OID_VIA, false);
    if (pr->kind != X509_KIND_NONE)
        DER_EXT(p, start, len, write_kind(p, start, pr->kind), SIGNET_OID_KIND, false);
    if (pr->revoker_spki_len)
        DER_EXT(p, start, len, write_revocation(p, start, pr->revoker_spki, pr->revoker_spki_len),
                SIGNET_OID_REVOCATION, false);
    if (present(pr->sku) && present(pr->version))
        DER_EXT(p, start, len, write_product(p, start, pr->sku, pr->version), SIGNET_OID_PRODUCT,
                false);
    if (pr->rights)
        DER_EXT(p, start, len, write_rights(p, start, pr->rights), SIGNET_OID_RIGHTS, false);
    if (pr->server_auth)
        DER_EXT(p, start, len, write_server_auth(p, start), MBEDTLS_OID_EXTENDED_KEY_USAGE, false);
    if (present(pr->crl_url))
        DER_EXT(p, start, len, write_cdp(p, start, pr->crl_url),
                MBEDTLS_OID_CRL_DISTRIBUTION_POINTS, false);
    if (present(pr->cluster_url))
        DER_EXT(p, start, len, write_san_uri(p, start, pr->cluster_url),
                MBEDTLS_OID_SUBJECT_ALT_NAME, false);
    DER_EXT(p, start, len, der_write_aki(p, start, aki), MBEDTLS_OID_AUTHORITY_KEY_IDENTIFIER,
            false);
    DER_EXT(p, start, len, der_write_octets(p, start, ski, 20), MBEDTLS_OID_SUBJECT_KEY_IDENTIFIER,
            false);
    DER_EXT(p, start, len, write_key_usage(p, start, pr->ca, pr->kind), MBEDTLS_OID_KEY_USAGE,
            true);
    DER_EXT(p, start, len, write_basic_constraints(p, start, pr->ca, pr->path_len),
            MBEDTLS_OID_BASIC_CONSTRAINTS, true);
    DER_ADD(len, der_wrap(p, start, len, seq));
    DER_ADD(len,
            der_wrap(p, start, len, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 3));
    return (int)len;
}

static int write_tbs(unsigned char **p, unsigned char *start, const struct x509_profile *pr,
                     const struct x509_issuer *is)
{
    uint8_t ski[20], aki[20];
    size_t len = 0, name_len = 0;

    if (der_key_identifier(pr->spki, pr->spki_len, ski) != 0 ||
        der_key_identifier(is->spki ? is->spki : pr->spki, is->spki ? is->spki_len : pr->spki_len,
                           aki) != 0)
        return MBEDTLS_ERR_ASN1_INVALID_DATA;
    DER_ADD(len, write_extensions(p, start, pr, ski, aki));
    DER_ADD(len, mbedtls_asn1_write_raw_buffer(p, start, pr->spki, pr->spki_len));
    DER_ADD(name_len, write_name(p, start, pr->cn, pr->org));
    len += name_len;
    const unsigned char *subject = *p;
    size_t validity = 0;
    DER_ADD(validity, der_write_time(p, start, &pr->not_after));
    DER_ADD(validity, der_write_time(p, start, &pr->not_before));
    DER_ADD(validity, der_wrap(p, start, validity, seq));
    len += validity;
    /* Self-signed: the issuer is the subject just written. */
    if (is->name)
        DER_ADD(len, mbedtls_asn1_write_raw_buffer(p, start, is->name, is->name_len));
    else
        DER_ADD(len, mbedtls_asn1_write_raw_buffer(p, start, subject, name_len));
    DER_ADD(len, der_write_sig_alg(p, start, is->alg));
    /* RFC 5280 §4.1.2.2: a positive INTEGER of at most 20 octets; the caller's top bit is 0. */
    DER_ADD(len, mbedtls_asn1_write_raw_buffer(p, start, pr->serial, X509_SERIAL_LEN));
    DER_ADD(len, der_wrap(p, start, X509_SERIAL_LEN, MBEDTLS_ASN1_INTEGER));
    size_t v = 0;
    DER_ADD(v, mbedtls_asn1_write_int(p, start, 2)); /* v3 */
    DER_ADD(v, der_wrap(p, start, v, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0));
    len += v;
    DER_ADD(len, der_wrap(p, start, len, seq));
    return (int)len;
}

int x509_assemble(const struct x509_issuer *is, uint8_t *out, size_t cap, size_t tbs_len,
                  const uint8_t *sig, size_t sig_len, size_t *len)
{
    uint8_t tail[SIG_MAX + 64] = {0}; /* only written; the compiler cannot tell */
    size_t tail_len = 0;
    unsigned char *tp = tail + sizeof(tail);
    const uint8_t *body = out + cap - tbs_len;

    if (sig_len == 0 || sig_len > SIG_MAX || tbs_len > cap)
        return -EIO;
    int n = mbedtls_asn1_write_bitstring(&tp, tail, sig, sig_len * 8);
    if (n < 0)
        return -ENOSPC;
    tail_len += (size_t)n;
    n = der_write_sig_alg(&tp, tail, is->alg);
    if (n < 0)
        return -ENOSPC;
    tail_len += (size_t)n;
    size_t total = tbs_len + tail_len;
    unsigned char hdr[8], *hp = hdr + sizeof(hdr);
    n = der_wrap(&hp, hdr, total, seq);
    if (n < 0 || (size_t)n + total > cap)
        return -ENOSPC;
    memmove(out + n, body, tbs_len);
    memcpy(out + n + tbs_len, tp, tail_len);
    memcpy(out, hp, (size_t)n);
    *len = (size_t)n + total;
    return 0;
}

/* Sign the body at out + cap - body_len with the issuer's callback and assemble. */
static int sign_and_assemble(const struct x509_issuer *is, uint8_t *out, size_t cap,
                             size_t body_len, size_t *len)
{
    uint8_t sig[SIG_MAX];
    size_t sig_len = 0;

    if (!is->sign ||
        is->sign(is->ctx, out + cap - body_len, body_len, sig, sizeof(sig), &sig_len) != 0)
        return -EIO;
    return x509_assemble(is, out, cap, body_len, sig, sig_len, len);
}

/* A name in a license: printable ASCII, 1..X509_CN_MAX, NUL-terminated within its array. */
static bool name_ok(const char *s)
{
    size_t n = 0;

    while (n <= X509_CN_MAX && s[n] != '\0') {
        if (s[n] < 0x20 || s[n] > 0x7e)
            return false;
        n++;
    }
    return n >= 1 && n <= X509_CN_MAX;
}

/* What a license's ARC.6 may hold: a use license one grant (its holder's), a publishing license
 * 1..X509_GRANTS_MAX, users distinct, rights known and not empty. */
static bool content_ok(const struct x509_content *c, enum x509_kind kind)
{
    size_t min = 1, max = kind == X509_KIND_USE ? 1 : X509_GRANTS_MAX;

    if (!name_ok(c->owner) || !c->wrapped || c->wrapped_len < 1 ||
        c->wrapped_len > X509_WRAPPED_MAX || c->grant_count < min || c->grant_count > max)
        return false;
    for (size_t i = 0; i < c->grant_count; i++) {
        const struct x509_grant *g = &c->grants[i];
        if (!name_ok(g->user) || g->rights == 0 || (g->rights & ~X509_GRANTS_ALL))
            return false;
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->grants[j].user, g->user) == 0)
                return false;
    }
    return true;
}

/* A kind is a leaf's; licenses carry content, nothing else does. */
static bool kind_ok(const struct x509_profile *p)
{
    bool license = p->kind == X509_KIND_PUBLISHING || p->kind == X509_KIND_USE;

    if ((unsigned)p->kind > X509_KIND_CKEK || (p->kind != X509_KIND_NONE && p->ca))
        return false;
    if (!license)
        return p->content == NULL;
    return p->content && content_ok(p->content, p->kind);
}

/* A URI as an IA5String that tools print and parse back: printable ASCII, no spaces. */
static bool uri_ok(const char *s)
{
    size_t n = strlen(s);

    if (n > X509_URL_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= 0x20 || s[i] > 0x7e)
            return false;
    return true;
}

static bool profile_ok(const struct x509_profile *p)
{
    return kind_ok(p) && (!p->crl_url || uri_ok(p->crl_url)) &&
           (!p->via_prefix || p->kind == X509_KIND_RAC) && p->spki && p->spki_len &&
           p->spki_len <= X509_SPKI_MAX && present(p->cn) && strlen(p->cn) <= X509_CN_MAX &&
           p->serial[0] && !(p->serial[0] & 0x80) &&
           (!p->cluster_url || strlen(p->cluster_url) <= X509_URL_MAX) &&
           (!p->sku || strlen(p->sku) <= X509_TEXT_MAX) &&
           (!p->version || strlen(p->version) <= X509_TEXT_MAX) &&
           x509_time_cmp(&p->not_before, &p->not_after) < 0 && !(p->rights & ~X509_RIGHTS_ALL);
}

int x509_tbs_build(const struct x509_profile *pr, const struct x509_issuer *issuer, uint8_t *out,
                   size_t cap, size_t *tbs_len)
{
    unsigned char *p = out + cap;

    if (!profile_ok(pr))
        return -EINVAL;
    int n = write_tbs(&p, out, pr, issuer);
    if (n == MBEDTLS_ERR_ASN1_BUF_TOO_SMALL)
        return -ENOSPC;
    if (n < 0)
        return -EINVAL;
    *tbs_len = (size_t)n;
    return 0;
}

int x509_build(const struct x509_profile *pr, const struct x509_issuer *issuer, uint8_t *out,
               size_t cap, size_t *len)
{
    size_t tbs_len = 0;

    if (!issuer->sign)
        return -EINVAL;
    int ret = x509_tbs_build(pr, issuer, out, cap, &tbs_len);
    return ret ? ret : sign_and_assemble(issuer, out, cap, tbs_len, len);
}

int x509_csr_build(const char *cn, const uint8_t *spki, size_t spki_len,
                   const struct x509_issuer *key, uint8_t *out, size_t cap, size_t *len)
{
    unsigned char *p = out + cap;
    size_t n = 0;

    if (!present(cn) || strlen(cn) > X509_CN_MAX || !spki || !spki_len || !key->sign)
        return -EINVAL;
        /* CertificationRequestInfo: version 0, subject, SPKI, attributes [0] (none). */
#define CSR_ADD(f)                                                                                 \
    do {                                                                                           \
        int r_ = (f);                                                                              \
        if (r_ < 0)                                                                                \
            return r_ == MBEDTLS_ERR_ASN1_BUF_TOO_SMALL ? -ENOSPC : -EINVAL;                       \
        n += (size_t)r_;                                                                           \
    } while (0)
    CSR_ADD(der_wrap(&p, out, 0, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0));
    CSR_ADD(mbedtls_asn1_write_raw_buffer(&p, out, spki, spki_len));
    CSR_ADD(write_name(&p, out, cn, NULL));
    CSR_ADD(mbedtls_asn1_write_int(&p, out, 0));
    CSR_ADD(der_wrap(&p, out, n, seq));
#undef CSR_ADD
    return sign_and_assemble(key, out, cap, n, len);
}

int x509_time_cmp(const x509_time *a, const x509_time *b)
{
    const int x[6] = {a->year, a->mon, a->day, a->hour, a->min, a->sec};
    const int y[6] = {b->year, b->mon, b->day, b->hour, b->min, b->sec};
    for (int i = 0; i < 6; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}
