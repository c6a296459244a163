/*
 * crypto/x509_user.c — users' identity certificates (crypto/x509_user.h, docs/identity.md).
 *
 * mbedTLS parses the certificates and checks signatures, basic constraints, path length and the
 * issuers' keyUsage while it builds the path from the leaf to the anchor (in whatever order the
 * intermediates come). Validity is checked here, on the certificates of that path only, against
 * the caller's clock (mbedTLS is built without a calendar clock). The user's name comes from the
 * raw subjectAltName GeneralNames (RFC 5280 §4.2.1.6), read here: mbedTLS keeps every entry but
 * does not decode the Microsoft UPN otherName.
 */
#include "crypto/x509_user.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mbedtls/asn1.h"
#include "mbedtls/oid.h"
#include "mbedtls/sha256.h"
#include "mbedtls/x509_crt.h"

/* 1.3.6.1.4.1.311.20.2.3, Microsoft's userPrincipalName otherName type-id. */
#define OID_MS_UPN "\x2b\x06\x01\x04\x01\x82\x37\x14\x02\x03"

#define SAN_RFC822   (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 1)
#define SAN_OTHER    (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0)
#define EXPLICIT0    (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0)
#define PATH_MAX_LEN (X509_USER_CHAIN_MAX + 1) /* the leaf, its intermediates, the anchor */

/* ---- names ---- */

bool x509_user_name_ok(const char *text)
{
    size_t n, at = 0, ats = 0;

    if (!text)
        return false;
    for (n = 0; n <= X509_CN_MAX && text[n]; n++) {
        unsigned char c = (unsigned char)text[n];
        if (c <= 0x20 || c >= 0x7f)
            return false; /* control, space, DEL or not ASCII */
        if (c == '@') {
            at = n;
            ats++;
        }
    }
    /* n > X509_CN_MAX: longer than a RAC's CN can hold. */
    return n >= 3 && n <= X509_CN_MAX && ats == 1 && at > 0 && at < n - 1;
}

static char ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

bool x509_user_name_equal(const char *a, const char *b)
{
    if (!x509_user_name_ok(a) || !x509_user_name_ok(b))
        return false;
    size_t la = (size_t)(strchr(a, '@') - a), lb = (size_t)(strchr(b, '@') - b);
    if (la != lb || memcmp(a, b, la) != 0)
        return false;
    /* Domains are case-insensitive (RFC 4343); local parts are the mailbox's own business. */
    for (a += la, b += lb; *a && *b; a++, b++)
        if (ascii_lower(*a) != ascii_lower(*b))
            return false;
    return *a == *b;
}

const char *x509_user_domain(const char *name)
{
    return x509_user_name_ok(name) ? strchr(name, '@') + 1 : NULL;
}

void x509_user_name_canon(char *name)
{
    if (!x509_user_name_ok(name))
        return;
    for (char *p = strchr(name, '@') + 1; *p; p++)
        *p = ascii_lower(*p);
}

/* ---- reading certificates ---- */

/* One DER certificate appended to list, all of der[0..len) and nothing after it. */
static int parse_one(mbedtls_x509_crt *list, const uint8_t *der, size_t len)
{
    if (!der || len == 0 || mbedtls_x509_crt_parse_der(list, der, len) != 0)
        return -EINVAL;
    const mbedtls_x509_crt *c = list;
    while (c->next)
        c = c->next;
    return c->raw.len == len ? 0 : -EINVAL;
}

struct text_out {
    char *s;
    size_t cap, n;
};

/* Append bytes, non-printable ones as '?', silently cut at cap - 1. */
static void text_put(struct text_out *t, const unsigned char *p, size_t len)
{
    for (size_t i = 0; i < len && t->n + 1 < t->cap; i++)
        t->s[t->n++] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
    t->s[t->n] = '\0';
}

static void text_puts(struct text_out *t, const char *s)
{
    text_put(t, (const unsigned char *)s, strlen(s));
}

/* An attribute value, RFC 4514 §2.4's specials (and '=') escaped with a backslash so that a value
 * such as "alice, O=Contoso" cannot pass for more name components in an audit line. */
static void value_put(struct text_out *t, const unsigned char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i] != '\0' && strchr(",+\"\\<>;=", p[i]))
            text_puts(t, "\\");
        text_put(t, p + i, 1);
    }
}

/* One attribute as "KEY=value": the short name where mbedTLS knows it, the dotted OID if not. */
static void attr_put(struct text_out *t, const mbedtls_x509_name *n)
{
    char oid[64];
    const char *key = oid;

    if (mbedtls_oid_get_attr_short_name(&n->oid, &key) != 0 &&
        mbedtls_oid_get_numeric_string(oid, sizeof(oid), &n->oid) < 0)
        memcpy(oid, "?", 2);
    text_puts(t, key);
    text_puts(t, "=");
    value_put(t, n->val.p, n->val.len);
}

/* "CN=alice, O=Contoso", in the certificate's order; the attributes of a multi-valued RDN
 * (mbedTLS's next_merged) joined with '+'. */
static void subject_text(const mbedtls_x509_name *name, char *out, size_t cap)
{
    struct text_out t = {out, cap, 0};

    if (cap == 0)
        return;
    out[0] = '\0';
    for (const mbedtls_x509_name *n = name; n && n->oid.p; n = n->next) {
        attr_put(&t, n);
        if (n->next && n->next->oid.p)
            text_puts(&t, n->MBEDTLS_PRIVATE(next_merged) ? "+" : ", ");
    }
}

int x509_user_describe(const uint8_t *der, size_t len, char *subject, size_t cap,
                       uint8_t fp[X509_FP_LEN])
{
    mbedtls_x509_crt crt;
    int ret = -EINVAL;

    mbedtls_x509_crt_init(&crt);
    if (cap)
        snprintf(subject, cap, "?");
    memset(fp, 0, X509_FP_LEN);
    if (parse_one(&crt, der, len) != 0)
        goto out;
    subject_text(&crt.subject, subject, cap);
    if (mbedtls_sha256(der, len, fp, 0) != 0)
        goto out;
    ret = 0;
out:
    mbedtls_x509_crt_free(&crt);
    return ret;
}

/* ---- validity ---- */

static void date_text(char *out, size_t cap, const char *what, const x509_time *t)
{
    snprintf(out, cap, "%s %04d-%02d-%02d", what, t->year, t->mon, t->day);
}

/* Is c valid at now? If not, *why says since or until when, in buf. */
static int valid_at(const mbedtls_x509_crt *c, const x509_time *now, bool leaf, char *buf,
                    size_t cap, const char **why)
{
    if (x509_time_cmp(now, &c->valid_from) < 0) {
        date_text(buf, cap,
                  leaf ? "not valid before" : "issued by a CA certificate not valid before",
                  &c->valid_from);
        *why = buf;
        return -EPERM;
    }
    if (x509_time_cmp(now, &c->valid_to) > 0) {
        date_text(buf, cap, leaf ? "expired on" : "issued by a CA certificate that expired on",
                  &c->valid_to);
        *why = buf;
        return -EPERM;
    }
    return 0;
}

/* ---- the chain ---- */

struct path {
    const mbedtls_x509_crt *crt[PATH_MAX_LEN];
    size_t n; /* depth 0 is the leaf, n - 1 the anchor */
    bool too_long;
};

/* mbedTLS calls this for every certificate of the path it built, the anchor first. */
static int path_record(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    struct path *p = ctx;

    (void)flags;
    if (depth < 0 || (size_t)depth >= PATH_MAX_LEN) {
        p->too_long = true;
        return 0;
    }
    p->crt[depth] = crt;
    if ((size_t)depth + 1 > p->n)
        p->n = (size_t)depth + 1;
    return 0;
}

/* What mbedTLS's verdict means to a user, most telling first: an unknown issuer before a weak
 * algorithm (whatever an untrusted certificate is signed with does not matter). */
static const char *flags_reason(uint32_t flags)
{
    if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED)
        return "not issued by a trusted identity source";
    if (flags & MBEDTLS_X509_BADCERT_BAD_MD)
        return "signed with a refused hash (only SHA-256, SHA-384 or SHA-512)";
    if (flags & (MBEDTLS_X509_BADCERT_BAD_PK | MBEDTLS_X509_BADCERT_BAD_KEY))
        return "signed with a refused algorithm (RSA-PSS, RSA under 2048 bits, or a curve other "
               "than P-256 and P-384)";
    return "not issued by a trusted identity source";
}

/* ---- the user's name ---- */

/* An otherName's value when its type-id is the UPN: [0] EXPLICIT UTF8String. 1 when it is
 * another type (ignored), 0 with *v, *vlen, -1 when malformed. */
static int upn_value(const mbedtls_x509_buf *b, const unsigned char **v, size_t *vlen)
{
    unsigned char *p = b->p;
    const unsigned char *end = b->p + b->len;
    size_t n;

    if (mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_OID) != 0)
        return -1;
    bool upn = n == sizeof(OID_MS_UPN) - 1 && memcmp(p, OID_MS_UPN, n) == 0;
    p += n;
    if (mbedtls_asn1_get_tag(&p, end, &n, EXPLICIT0) != 0 || p + n != end)
        return -1;
    if (!upn)
        return 1;
    if (mbedtls_asn1_get_tag(&p, end, vlen, MBEDTLS_ASN1_UTF8_STRING) != 0 || p + *vlen != end)
        return -1;
    *v = p;
    return 0;
}

/* One name met in the subjectAltName: well formed, and the same user as any met before. */
static int name_take(const unsigned char *v, size_t len, char name[X509_CN_MAX + 1], bool *have,
                     const char **why)
{
    char cand[X509_CN_MAX + 1];

    *why = "names a user whose name is unusable (printable ASCII local@domain, at most 64 "
           "characters, no space)";
    if (len == 0 || len > X509_CN_MAX || memchr(v, '\0', len))
        return -EPERM;
    memcpy(cand, v, len);
    cand[len] = '\0';
    if (!x509_user_name_ok(cand))
        return -EPERM;
    *why = "names more than one user";
    if (*have && !x509_user_name_equal(name, cand))
        return -EPERM;
    if (!*have)
        memcpy(name, cand, len + 1);
    *have = true;
    return 0;
}

/* The one user the leaf names: rfc822Names and UPN otherNames, all naming the same user. */
static int user_name(const mbedtls_x509_crt *c, char name[X509_CN_MAX + 1], const char **why)
{
    bool have = false;

    for (const mbedtls_x509_sequence *s = &c->subject_alt_names; s && s->buf.p; s = s->next) {
        const unsigned char *v = s->buf.p;
        size_t len = s->buf.len;
        if (s->buf.tag == SAN_OTHER) {
            int r = upn_value(&s->buf, &v, &len);
            if (r < 0) {
                *why = "has a malformed otherName in subjectAltName";
                return -EPERM;
            }
            if (r > 0)
                continue;
        } else if (s->buf.tag != SAN_RFC822) {
            continue; /* DNS names, URIs and the like name no user */
        }
        if (name_take(v, len, name, &have, why) != 0)
            return -EPERM;
    }
    if (!have) {
        *why = "names no user (no rfc822Name or UPN in subjectAltName)";
        return -EPERM;
    }
    x509_user_name_canon(name);
    return 0;
}

/* The leaf is a user's certificate for client authentication (RFC 5280 §4.2.1.3, §4.2.1.12). */
static int leaf_purpose(const mbedtls_x509_crt *c, const char **why)
{
    *why = "is a CA certificate, not a user's";
    if (c->MBEDTLS_PRIVATE(ca_istrue))
        return -EPERM;
    /* Both checks pass when the extension is absent; EKU also takes anyExtendedKeyUsage. */
    *why = "not meant for client authentication (keyUsage)";
    if (mbedtls_x509_crt_check_key_usage(c, MBEDTLS_X509_KU_DIGITAL_SIGNATURE) != 0)
        return -EPERM;
    *why = "not meant for client authentication (extendedKeyUsage)";
    if (mbedtls_x509_crt_check_extended_key_usage(c, MBEDTLS_OID_CLIENT_AUTH,
                                                  MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)) != 0)
        return -EPERM;
    return 0;
}

int x509_user_verify(struct x509_cert leaf, const struct x509_cert *chain, size_t n,
                     struct x509_cert anchor, const x509_time *now, struct x509_user *out,
                     const char **why)
{
    mbedtls_x509_crt list, root;
    struct path path = {0};
    uint32_t flags = 0;
    int ret = -EINVAL;

    memset(out, 0, sizeof(*out));
    mbedtls_x509_crt_init(&list);
    mbedtls_x509_crt_init(&root);
    *why = "does not parse as an X.509 certificate";
    if (parse_one(&list, leaf.der, leaf.len) != 0)
        goto out;
    ret = -EPERM;
    *why = "comes with too many CA certificates (at most 3)";
    if (n > X509_USER_CHAIN_MAX - 1 || (n && !chain))
        goto out;
    *why = "comes with a CA certificate that does not parse";
    for (size_t i = 0; i < n; i++)
        if (parse_one(&list, chain[i].der, chain[i].len) != 0)
            goto out;
    *why = "not issued by a trusted identity source"; /* the anchor is unreadable */
    if (parse_one(&root, anchor.der, anchor.len) != 0)
        goto out;
    if (mbedtls_x509_crt_verify_with_profile(&list, &root, NULL, &x509_signature_profile, NULL,
                                             &flags, path_record, &path) != 0 ||
        flags || path.too_long || path.n < 2) {
        *why = flags_reason(flags);
        goto out;
    }
    out->valid_from = path.crt[0]->valid_from;
    out->valid_until = path.crt[0]->valid_to;
    for (size_t i = 0; i < path.n; i++) {
        if (valid_at(path.crt[i], now, i == 0, out->why, sizeof(out->why), why) != 0)
            goto out;
        if (x509_time_cmp(&path.crt[i]->valid_from, &out->valid_from) > 0)
            out->valid_from = path.crt[i]->valid_from;
        if (x509_time_cmp(&path.crt[i]->valid_to, &out->valid_until) < 0)
            out->valid_until = path.crt[i]->valid_to;
    }
    if (leaf_purpose(&list, why) != 0 || user_name(&list, out->name, why) != 0)
        goto out;
    subject_text(&list.subject, out->subject, sizeof(out->subject));
    *why = "cannot hash the certificate";
    if (mbedtls_sha256(leaf.der, leaf.len, out->fp, 0) != 0)
        goto out;
    *why = NULL;
    ret = 0;
out:
    if (ret) {
        /* Keep only the reason's text: nothing else of a refused certificate is "what it says". */
        char keep[sizeof(out->why)];
        memcpy(keep, out->why, sizeof(keep));
        memset(out, 0, sizeof(*out));
        memcpy(out->why, keep, sizeof(keep));
    }
    mbedtls_x509_crt_free(&list);
    mbedtls_x509_crt_free(&root);
    return ret;
}

int x509_user_ca_check(const uint8_t *der, size_t len, const x509_time *now, char *subject,
                       size_t cap, x509_time *not_after, const char **why)
{
    mbedtls_x509_crt crt;
    int ret = -EINVAL;

    mbedtls_x509_crt_init(&crt);
    if (cap)
        snprintf(subject, cap, "?");
    memset(not_after, 0, sizeof(*not_after));
    *why = "not an X.509 certificate";
    if (parse_one(&crt, der, len) != 0)
        goto out;
    /* Said even when refused: the operator sees which certificate it was. */
    subject_text(&crt.subject, subject, cap);
    *not_after = crt.valid_to;
    ret = -EPERM;
    *why = "not a CA certificate (basicConstraints cA is not set)";
    if (!crt.MBEDTLS_PRIVATE(ca_istrue))
        goto out;
    *why = "a CA certificate that may not sign certificates (keyUsage without keyCertSign)";
    if (mbedtls_x509_crt_check_key_usage(&crt, MBEDTLS_X509_KU_KEY_CERT_SIGN) != 0)
        goto out;
    *why = "the CA certificate is not valid yet (notBefore is in the future)";
    if (x509_time_cmp(now, &crt.valid_from) < 0)
        goto out;
    *why = "the CA certificate has expired (notAfter is in the past)";
    if (x509_time_cmp(now, &crt.valid_to) > 0)
        goto out;
    *why = NULL;
    ret = 0;
out:
    mbedtls_x509_crt_free(&crt);
    return ret;
}
