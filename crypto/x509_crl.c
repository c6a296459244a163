/*
 * crypto/x509_crl.c — X.509 v2 CRLs of Signet's hierarchy (crypto/x509_crl.h, RFC 5280 §5).
 *
 * Writing uses the DER writers certificates use (crypto/x509_der.h), last field first. Reading is
 * our own walk over the DER rather than mbedTLS's CRL parser, which allocates per entry: a CRL of
 * 16384 entries must be read into the caller's array with no heap and hard limits on every length.
 * Only the issuer's certificate is parsed by mbedTLS (once, for its key).
 */
#include "crypto/x509_crl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "crypto/x509_der.h"
#include "crypto/x509_oid.h"
#include "crypto/x509_user.h"
#include "mbedtls/asn1.h"
#include "mbedtls/asn1write.h"
#include "mbedtls/base64.h"
#include "mbedtls/md.h"
#include "mbedtls/oid.h"
#include "mbedtls/pk.h"
#include "mbedtls/x509_crt.h"

#define CTX0_C (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0)

/* ---- reasons ---- */

static const char *const reason_names[11] = {
    "unspecified",   "keyCompromise",        "cACompromise",    "affiliationChanged",
    "superseded",    "cessationOfOperation", "certificateHold", NULL,
    "removeFromCRL", "privilegeWithdrawn",   "aACompromise",
};

/* The codes an operator may give: the ones a Signet cluster or authority writes. */
static bool reason_writable(unsigned r)
{
    return r == X509_CRL_REASON_UNSPECIFIED || r == X509_CRL_REASON_KEY_COMPROMISE ||
           r == X509_CRL_REASON_AFFILIATION_CHANGED || r == X509_CRL_REASON_SUPERSEDED ||
           r == X509_CRL_REASON_CESSATION_OF_OPERATION;
}

int x509_crl_reason_parse(const char *name, enum x509_crl_reason *reason, const char **why)
{
    for (unsigned r = 1; r < sizeof(reason_names) / sizeof(reason_names[0]); r++)
        if (reason_writable(r) && strcmp(name, reason_names[r]) == 0) {
            *reason = (enum x509_crl_reason)r;
            return 0;
        }
    *why = "reason must be keyCompromise, affiliationChanged, superseded or cessationOfOperation";
    return -EINVAL;
}

const char *x509_crl_reason_name(int reason)
{
    if (reason < 0 || reason > 10 || !reason_names[reason])
        return "unknown";
    return reason_names[reason];
}

/* ---- sorted entries: heap sort in place (no allocation, O(n log n) worst case) ---- */

static int serial_cmp(const struct x509_crl_entry *a, const struct x509_crl_entry *b)
{
    return memcmp(a->serial, b->serial, X509_SERIAL_LEN);
}

static void sift_down(struct x509_crl_entry *e, size_t root, size_t n)
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && serial_cmp(&e[child], &e[child + 1]) < 0)
            child++;
        if (serial_cmp(&e[root], &e[child]) >= 0)
            return;
        struct x509_crl_entry t = e[root];
        e[root] = e[child];
        e[child] = t;
        root = child;
    }
}

void x509_crl_sort(struct x509_crl_entry *entries, size_t n)
{
    if (n < 2)
        return;
    for (size_t i = n / 2; i-- > 0;)
        sift_down(entries, i, n);
    for (size_t end = n - 1; end > 0; end--) {
        struct x509_crl_entry t = entries[0];
        entries[0] = entries[end];
        entries[end] = t;
        sift_down(entries, 0, end);
    }
}

const struct x509_crl_entry *x509_crl_search(const struct x509_crl_entry *entries, size_t n,
                                             const uint8_t serial[X509_SERIAL_LEN])
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(entries[mid].serial, serial, X509_SERIAL_LEN);
        if (c == 0)
            return &entries[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const struct x509_crl_entry *x509_crl_search_prefix(const struct x509_crl_entry *entries, size_t n,
                                                    const uint8_t *prefix, size_t plen)
{
    size_t lo = 0, hi = n;

    if (plen > X509_SERIAL_LEN)
        return NULL;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(entries[mid].serial, prefix, plen) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && memcmp(entries[lo].serial, prefix, plen) == 0 ? &entries[lo] : NULL;
}

const struct x509_crl_entry *x509_crl_find(const struct x509_crl *crl,
                                           const uint8_t serial[X509_SERIAL_LEN])
{
    return x509_crl_search(crl->entries, crl->count, serial);
}

bool x509_crl_excludes(const struct x509_crl *crl, const char *name)
{
    /* At most X509_CRL_EXCLUDED_MAX names: a scan is bounded and small. */
    for (size_t i = 0; i < crl->excluded_count; i++)
        if (x509_user_name_equal(crl->excluded[i], name))
            return true;
    return false;
}

/* ---- writing ---- */

/* A positive INTEGER of a 64-bit value, DER-minimal (a leading zero octet only before a high bit).
 */
static int write_u64(unsigned char **p, unsigned char *start, uint64_t v)
{
    uint8_t b[9];
    size_t n = 0;

    do {
        b[sizeof(b) - 1 - n++] = (uint8_t)v;
        v >>= 8;
    } while (v);
    if (b[sizeof(b) - n] & 0x80)
        b[sizeof(b) - 1 - n++] = 0;
    size_t len = 0;
    DER_ADD(len, mbedtls_asn1_write_raw_buffer(p, start, b + sizeof(b) - n, n));
    DER_ADD(len, der_wrap(p, start, n, MBEDTLS_ASN1_INTEGER));
    return (int)len;
}

/* revokedCertificate ::= SEQUENCE { userCertificate, revocationDate, crlEntryExtensions } with
 * reasonCode ENUMERATED as the only entry extension, left out when unspecified (RFC 5280
 * §5.3.1 asks so). */
static int write_entry(unsigned char **p, unsigned char *start, const struct x509_crl_entry *e)
{
    size_t len = 0;

    if (e->reason != X509_CRL_REASON_UNSPECIFIED) {
        size_t ext = 0;
        DER_EXT(p, start, ext, mbedtls_asn1_write_enum(p, start, e->reason),
                MBEDTLS_OID_ID_CE "\x15", false); /* id-ce-cRLReasons */
        DER_ADD(ext, der_wrap(p, start, ext, DER_SEQ));
        len += ext;
    }
    DER_ADD(len, der_write_time(p, start, &e->revoked_at));
    DER_ADD(len, mbedtls_asn1_write_raw_buffer(p, start, e->serial, X509_SERIAL_LEN));
    DER_ADD(len, der_wrap(p, start, X509_SERIAL_LEN, MBEDTLS_ASN1_INTEGER));
    DER_ADD(len, der_wrap(p, start, len, DER_SEQ));
    return (int)len;
}

/* ARC.8 signetExcludedUsers ::= SEQUENCE OF UTF8String */
static int write_excluded(unsigned char **p, unsigned char *start,
                          const struct x509_crl_profile *pr)
{
    size_t len = 0;

    for (size_t i = pr->excluded_count; i-- > 0;)
        DER_ADD(len,
                mbedtls_asn1_write_utf8_string(p, start, pr->excluded[i], strlen(pr->excluded[i])));
    DER_ADD(len, der_wrap(p, start, len, DER_SEQ));
    return (int)len;
}

static int write_crl_extensions(unsigned char **p, unsigned char *start,
                                const struct x509_crl_profile *pr, const uint8_t aki[20])
{
    size_t len = 0;

    if (pr->excluded_count)
        DER_EXT(p, start, len, write_excluded(p, start, pr), SIGNET_OID_EXCLUDED, false);
    DER_EXT(p, start, len, write_u64(p, start, pr->number), MBEDTLS_OID_CRL_NUMBER, false);
    DER_EXT(p, start, len, der_write_aki(p, start, aki), MBEDTLS_OID_AUTHORITY_KEY_IDENTIFIER,
            false);
    DER_ADD(len, der_wrap(p, start, len, DER_SEQ));
    DER_ADD(len, der_wrap(p, start, len, CTX0_C));
    return (int)len;
}

static int write_tbs_crl(unsigned char **p, unsigned char *start, const struct x509_crl_profile *pr,
                         const struct x509_issuer *is, const uint8_t aki[20])
{
    size_t len = 0;

    DER_ADD(len, write_crl_extensions(p, start, pr, aki));
    if (pr->count) {
        size_t list = 0;
        for (size_t i = pr->count; i-- > 0;)
            DER_ADD(list, write_entry(p, start, &pr->entries[i]));
        DER_ADD(list, der_wrap(p, start, list, DER_SEQ));
        len += list;
    }
    DER_ADD(len, der_write_time(p, start, &pr->next_update));
    DER_ADD(len, der_write_time(p, start, &pr->this_update));
    DER_ADD(len, mbedtls_asn1_write_raw_buffer(p, start, is->name, is->name_len));
    DER_ADD(len, der_write_sig_alg(p, start, is->alg));
    DER_ADD(len, mbedtls_asn1_write_int(p, start, 1)); /* v2 */
    DER_ADD(len, der_wrap(p, start, len, DER_SEQ));
    return (int)len;
}

static bool crl_profile_ok(const struct x509_crl_profile *p, const struct x509_issuer *is)
{
    if (!is->name || !is->name_len || !is->spki || !is->spki_len || p->number == 0 ||
        p->count > X509_CRL_ENTRIES_MAX || (p->count && !p->entries) ||
        p->excluded_count > X509_CRL_EXCLUDED_MAX || (p->excluded_count && !p->excluded) ||
        x509_time_cmp(&p->this_update, &p->next_update) >= 0)
        return false;
    for (size_t i = 0; i < p->count; i++) {
        const struct x509_crl_entry *e = &p->entries[i];
        /* 16 octets, positive and minimal: first octet 0x01..0x7f (x509_serial_fix). */
        if (e->serial[0] == 0 || (e->serial[0] & 0x80) || !reason_writable(e->reason))
            return false;
    }
    for (size_t i = 0; i < p->excluded_count; i++)
        if (!x509_user_name_ok(p->excluded[i])) /* user@domain, as RACs name users */
            return false;
    return true;
}

int x509_crl_tbs_build(const struct x509_crl_profile *p, const struct x509_issuer *issuer,
                       uint8_t *out, size_t cap, size_t *tbs_len)
{
    unsigned char *w = out + cap;
    uint8_t aki[20];

    if (!crl_profile_ok(p, issuer) || der_key_identifier(issuer->spki, issuer->spki_len, aki) != 0)
        return -EINVAL;
    int n = write_tbs_crl(&w, out, p, issuer, aki);
    if (n == MBEDTLS_ERR_ASN1_BUF_TOO_SMALL)
        return -ENOSPC;
    if (n < 0)
        return -EINVAL; /* a time out of range */
    *tbs_len = (size_t)n;
    return 0;
}

/* ---- reading ---- */

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int two(const unsigned char *s)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return -1;
    return (s[0] - '0') * 10 + (s[1] - '0');
}

/* UTCTime YYMMDDHHMMSSZ (RFC 5280 §5.1.2.4: 50..99 are 19xx) or GeneralizedTime
 * YYYYMMDDHHMMSSZ, seconds present, Z, no fractions: what DER and the profile allow. */
static int get_time(unsigned char **p, const unsigned char *end, x509_time *t)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    size_t n;
    int f[7];

    if (*p >= end)
        return -1;
    unsigned char tag = **p;
    if (tag != MBEDTLS_ASN1_UTC_TIME && tag != MBEDTLS_ASN1_GENERALIZED_TIME)
        return -1;
    if (mbedtls_asn1_get_tag(p, end, &n, tag) != 0)
        return -1;
    size_t digits = tag == MBEDTLS_ASN1_UTC_TIME ? 12 : 14;
    const unsigned char *s = *p;
    if (n != digits + 1 || s[digits] != 'Z')
        return -1;
    for (size_t i = 0; i < digits / 2; i++)
        if ((f[i] = two(s + 2 * i)) < 0)
            return -1;
    size_t k = 1;
    if (tag == MBEDTLS_ASN1_UTC_TIME) {
        t->year = f[0] < 50 ? 2000 + f[0] : 1900 + f[0];
    } else {
        t->year = f[0] * 100 + f[1];
        k = 2;
    }
    t->mon = f[k++];
    t->day = f[k++];
    t->hour = f[k++];
    t->min = f[k++];
    t->sec = f[k];
    if (t->mon < 1 || t->mon > 12 || t->day < 1 || t->hour > 23 || t->min > 59 || t->sec > 59 ||
        t->day > mdays[t->mon - 1] + (t->mon == 2 && is_leap(t->year)))
        return -1;
    *p += n;
    return 0;
}

/* A 16-octet serial, positive and DER-minimal: first octet 0x01..0x7f. */
static int get_serial(unsigned char **p, const unsigned char *end, uint8_t out[X509_SERIAL_LEN])
{
    size_t n;

    if (mbedtls_asn1_get_tag(p, end, &n, MBEDTLS_ASN1_INTEGER) != 0 || n != X509_SERIAL_LEN ||
        (*p)[0] == 0 || ((*p)[0] & 0x80))
        return -1;
    memcpy(out, *p, n);
    *p += n;
    return 0;
}

/* Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }:
 * the OID and the value's bounds. DER leaves out a FALSE critical. */
struct ext {
    mbedtls_asn1_buf oid;
    bool critical;
    unsigned char *v, *v_end;
};

static int get_ext(unsigned char **p, const unsigned char *end, struct ext *e)
{
    size_t n;
    int crit = 0;

    if (mbedtls_asn1_get_tag(p, end, &n, DER_SEQ) != 0)
        return -1;
    const unsigned char *e_end = *p + n;
    e->oid.tag = MBEDTLS_ASN1_OID;
    if (mbedtls_asn1_get_tag(p, e_end, &e->oid.len, MBEDTLS_ASN1_OID) != 0)
        return -1;
    e->oid.p = *p;
    *p += e->oid.len;
    if (*p < e_end && **p == MBEDTLS_ASN1_BOOLEAN &&
        (mbedtls_asn1_get_bool(p, e_end, &crit) != 0 || !crit))
        return -1;
    e->critical = crit != 0;
    if (mbedtls_asn1_get_tag(p, e_end, &n, MBEDTLS_ASN1_OCTET_STRING) != 0 || *p + n != e_end)
        return -1;
    e->v = *p;
    e->v_end = *p + n;
    *p += n;
    return 0;
}

static bool ext_is(const struct ext *e, const char *oid, size_t len)
{
    return e->oid.len == len && memcmp(e->oid.p, oid, len) == 0;
}
#define EXT_IS(e, oid) ext_is(e, oid, MBEDTLS_OID_SIZE(oid))

/* crlEntryExtensions: a reasonCode at most once, ENUMERATED 0..10 but 7 (unused in RFC 5280);
 * nothing critical. */
static int get_entry_exts(unsigned char *p, const unsigned char *end, uint8_t *reason,
                          const char **why)
{
    bool seen = false;

    *why = "malformed CRL entry extensions";
    if (p == end)
        return -1; /* present, so not empty (SIZE (1..MAX)) */
    while (p < end) {
        struct ext e;
        if (get_ext(&p, end, &e) != 0)
            return -1;
        if (EXT_IS(&e, MBEDTLS_OID_ID_CE "\x15")) {
            int r;
            unsigned char *v = e.v;
            *why = "malformed reasonCode in a CRL entry";
            if (seen || mbedtls_asn1_get_enum(&v, e.v_end, &r) != 0 || v != e.v_end || r < 0 ||
                r > 10 || r == 7)
                return -1;
            *reason = (uint8_t)r;
            seen = true;
        } else if (e.critical) {
            *why = "a critical extension is not understood";
            return -1;
        }
    }
    return 0;
}

/* revokedCertificates, into out->entries (at most entries_cap; never more than the limit). */
static int get_entries(unsigned char *p, const unsigned char *end, struct x509_crl *out,
                       const char **why)
{
    out->count = 0;
    while (p < end) {
        size_t n;
        struct x509_crl_entry e = {.reason = X509_CRL_REASON_UNSPECIFIED};

        if (out->count == X509_CRL_ENTRIES_MAX) {
            *why = "more than 16384 entries";
            return -E2BIG;
        }
        if (out->count == out->entries_cap) {
            *why = "more entries than there is room for";
            return -E2BIG;
        }
        *why = "malformed CRL entry";
        if (mbedtls_asn1_get_tag(&p, end, &n, DER_SEQ) != 0)
            return -EINVAL;
        unsigned char *e_end = p + n;
        if (get_serial(&p, e_end, e.serial) != 0) {
            *why = "a CRL entry's serial is not a 16-octet Signet serial";
            return -EINVAL;
        }
        if (get_time(&p, e_end, &e.revoked_at) != 0)
            return -EINVAL;
        if (p < e_end) {
            if (mbedtls_asn1_get_tag(&p, e_end, &n, DER_SEQ) != 0 || p + n != e_end ||
                get_entry_exts(p, e_end, &e.reason, why) != 0)
                return -EINVAL;
        }
        out->entries[out->count++] = e;
        p = e_end;
    }
    return 0;
}

/* cRLNumber ::= INTEGER (0..MAX), DER-minimal; we hold numbers of up to 64 bits. */
static int get_number(const struct ext *e, uint64_t *number)
{
    unsigned char *p = e->v;
    size_t n;

    if (mbedtls_asn1_get_tag(&p, e->v_end, &n, MBEDTLS_ASN1_INTEGER) != 0 || p + n != e->v_end ||
        n == 0 || (p[0] & 0x80) || (n > 1 && p[0] == 0 && !(p[1] & 0x80)))
        return -1;
    if (p[0] == 0) {
        p++;
        n--;
    }
    if (n > 8)
        return -1;
    *number = 0;
    for (size_t i = 0; i < n; i++)
        *number = *number << 8 | p[i];
    return 0;
}

/* AuthorityKeyIdentifier: when it has a keyIdentifier [0], it must be the issuer's. */
static int check_aki(const struct ext *e, const uint8_t key_id[20])
{
    unsigned char *p = e->v;
    size_t n;

    if (mbedtls_asn1_get_tag(&p, e->v_end, &n, DER_SEQ) != 0 || p + n != e->v_end)
        return -1;
    if (p < e->v_end && *p == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 0)) {
        if (mbedtls_asn1_get_tag(&p, e->v_end, &n, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 0) != 0 ||
            n != 20 || memcmp(p, key_id, 20) != 0)
            return -1;
    }
    return 0;
}

/* ARC.8: SEQUENCE OF UTF8String, each a user name (x509_user_name_ok) of 1..X509_CN_MAX. */
static int get_excluded(const struct ext *e, struct x509_crl *out, const char **why)
{
    unsigned char *p = e->v;
    size_t n;

    *why = "malformed signetExcludedUsers extension";
    if (mbedtls_asn1_get_tag(&p, e->v_end, &n, DER_SEQ) != 0 || p + n != e->v_end)
        return -EINVAL;
    out->excluded_count = 0;
    while (p < e->v_end) {
        if (out->excluded_count == X509_CRL_EXCLUDED_MAX) {
            *why = "more than 128 excluded users";
            return -E2BIG;
        }
        if (mbedtls_asn1_get_tag(&p, e->v_end, &n, MBEDTLS_ASN1_UTF8_STRING) != 0 || n < 1 ||
            n > X509_CN_MAX)
            return -EINVAL;
        for (size_t i = 0; i < n; i++)
            if (p[i] < 0x20 || p[i] > 0x7e)
                return -EINVAL;
        memcpy(out->excluded[out->excluded_count], p, n);
        out->excluded[out->excluded_count][n] = '\0';
        if (!x509_user_name_ok(out->excluded[out->excluded_count++]))
            return -EINVAL;
        p += n;
    }
    return 0;
}

/* crlExtensions: AKI (matching the issuer), cRLNumber (required), ARC.8; each at most once,
 * nothing critical we do not know (we know none that must be: issuingDistributionPoint and
 * deltaCRLIndicator, always critical, are refused with the rest). */
static int get_crl_exts(unsigned char *p, const unsigned char *end, const uint8_t key_id[20],
                        struct x509_crl *out, const char **why)
{
    bool have_aki = false, have_number = false, have_excluded = false;
    size_t n;

    *why = "malformed CRL extensions";
    if (mbedtls_asn1_get_tag(&p, end, &n, DER_SEQ) != 0 || p + n != end || n == 0)
        return -EINVAL;
    while (p < end) {
        struct ext e;
        if (get_ext(&p, end, &e) != 0)
            return -EINVAL;
        if (EXT_IS(&e, MBEDTLS_OID_AUTHORITY_KEY_IDENTIFIER)) {
            *why = "the CRL's authority key identifier is not the issuer's key";
            if (have_aki || check_aki(&e, key_id) != 0)
                return -EINVAL;
            have_aki = true;
        } else if (EXT_IS(&e, MBEDTLS_OID_CRL_NUMBER)) {
            *why = "malformed or too large cRLNumber";
            if (have_number || get_number(&e, &out->number) != 0)
                return -EINVAL;
            have_number = true;
        } else if (EXT_IS(&e, SIGNET_OID_EXCLUDED)) {
            int ret = have_excluded ? -EINVAL : get_excluded(&e, out, why);
            if (ret)
                return ret;
            have_excluded = true;
        } else if (e.critical) {
            *why = "a critical extension is not understood";
            return -EINVAL;
        }
        *why = "malformed CRL extensions";
    }
    *why = "the CRL has no cRLNumber";
    return have_number ? 0 : -EINVAL;
}

/* The TBSCertList after its signature field: issuer (checked by the caller), times, entries,
 * extensions, nothing else. */
static int get_tbs_body(unsigned char *p, const unsigned char *end, const uint8_t key_id[20],
                        struct x509_crl *out, const char **why)
{
    size_t n;
    int ret;

    *why = "malformed CRL dates (thisUpdate, nextUpdate required)";
    if (get_time(&p, end, &out->this_update) != 0 || get_time(&p, end, &out->next_update) != 0)
        return -EINVAL;
    /* Whether it is current is the caller's to judge; one that never was is refused here. */
    *why = "the CRL's nextUpdate is before its thisUpdate";
    if (x509_time_cmp(&out->next_update, &out->this_update) < 0)
        return -EINVAL;
    if (p < end && *p == DER_SEQ) {
        *why = "malformed revokedCertificates";
        if (mbedtls_asn1_get_tag(&p, end, &n, DER_SEQ) != 0)
            return -EINVAL;
        if ((ret = get_entries(p, p + n, out, why)) != 0)
            return ret;
        p += n;
    }
    *why = "the CRL has no extensions (cRLNumber required)";
    if (p == end || mbedtls_asn1_get_tag(&p, end, &n, CTX0_C) != 0 || p + n != end)
        return -EINVAL;
    return get_crl_exts(p, end, key_id, out, why);
}

/* The parts of CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signature }. */
struct crl_parts {
    unsigned char *tbs, *tbs_end; /* the signed bytes, tag included */
    unsigned char *alg, *alg_end; /* signatureAlgorithm, tag included */
    mbedtls_asn1_buf alg_oid, alg_params;
    unsigned char *sig;
    size_t sig_len;
};

static int split(const uint8_t *der, size_t len, struct crl_parts *c)
{
    unsigned char *p = (unsigned char *)(uintptr_t)der, *end = p + len;
    size_t n;

    if (mbedtls_asn1_get_tag(&p, end, &n, DER_SEQ) != 0 || p + n != end)
        return -1;
    c->tbs = p;
    if (mbedtls_asn1_get_tag(&p, end, &n, DER_SEQ) != 0)
        return -1;
    p += n;
    c->tbs_end = p;
    c->alg = p;
    if (mbedtls_asn1_get_alg(&p, end, &c->alg_oid, &c->alg_params) != 0)
        return -1;
    c->alg_end = p;
    if (mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_BIT_STRING) != 0 || p + n != end || n < 2 ||
        p[0] != 0)
        return -1;
    c->sig = p + 1;
    c->sig_len = n - 1;
    return 0;
}

/* The signature algorithm is one x509_signature_profile allows, for the issuer's key:
 * RSA PKCS#1 v1.5 (NULL or no parameters) or ECDSA (none), SHA-256/384/512. */
static int sig_alg(const struct crl_parts *c, const mbedtls_pk_context *key, mbedtls_md_type_t *md)
{
    mbedtls_pk_type_t pk;

    if (mbedtls_oid_get_sig_alg(&c->alg_oid, md, &pk) != 0 ||
        (*md != MBEDTLS_MD_SHA256 && *md != MBEDTLS_MD_SHA384 && *md != MBEDTLS_MD_SHA512))
        return -1;
    if (pk == MBEDTLS_PK_RSA)
        return mbedtls_pk_get_type(key) == MBEDTLS_PK_RSA && mbedtls_pk_get_bitlen(key) >= 2048 &&
                       c->alg_params.len == 0 &&
                       (c->alg_params.tag == MBEDTLS_ASN1_NULL || c->alg_params.tag == 0)
                   ? 0
                   : -1;
    if (pk == MBEDTLS_PK_ECDSA)
        return mbedtls_pk_can_do(key, MBEDTLS_PK_ECDSA) &&
                       (mbedtls_pk_get_bitlen(key) == 256 || mbedtls_pk_get_bitlen(key) == 384) &&
                       c->alg_params.tag == 0 && c->alg_params.len == 0
                   ? 0
                   : -1;
    return -1;
}

static int verify_sig(const struct crl_parts *c, mbedtls_x509_crt *issuer)
{
    unsigned char hash[MBEDTLS_MD_MAX_SIZE];
    mbedtls_md_type_t md;

    if (sig_alg(c, &issuer->pk, &md) != 0)
        return -1;
    const mbedtls_md_info_t *info = mbedtls_md_info_from_type(md);
    if (!info || mbedtls_md(info, c->tbs, (size_t)(c->tbs_end - c->tbs), hash) != 0)
        return -1;
    return mbedtls_pk_verify(&issuer->pk, md, hash, mbedtls_md_get_size(info), c->sig,
                             c->sig_len) == 0
               ? 0
               : -1;
}

/* "not issued by <CN>": the expected issuer's name, in printable characters. The text lives in
 * a static buffer until the next refusal of this kind: the firmware reads CRLs from one task. */
static const char *not_issued_by(const mbedtls_x509_crt *crt)
{
    static char msg[32 + X509_CN_MAX];
    const mbedtls_x509_name *n = &crt->subject;
    int len = 0;

    while (n && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) != 0)
        n = n->next;
    len = snprintf(msg, sizeof(msg), "not issued by ");
    for (size_t i = 0; n && i < n->val.len && i < X509_CN_MAX; i++)
        msg[len++] = (n->val.p[i] >= 0x20 && n->val.p[i] < 0x7f) ? (char)n->val.p[i] : '?';
    msg[len] = '\0';
    return msg;
}

/* The TBSCertList's head: v2, the same signature algorithm as outside, the issuer's Name. Leaves
 * p after the issuer. */
static int get_tbs_head(const struct crl_parts *c, const mbedtls_x509_crt *issuer,
                        unsigned char **p, const char **why)
{
    size_t n;
    int version;

    *p = c->tbs;
    *why = "not a v2 CRL";
    if (mbedtls_asn1_get_tag(p, c->tbs_end, &n, DER_SEQ) != 0 ||
        mbedtls_asn1_get_int(p, c->tbs_end, &version) != 0 || version != 1)
        return -1;
    *why = "the CRL's two signature algorithms differ";
    unsigned char *alg = *p;
    if (mbedtls_asn1_get_tag(p, c->tbs_end, &n, DER_SEQ) != 0)
        return -1;
    *p += n;
    if ((size_t)(*p - alg) != (size_t)(c->alg_end - c->alg) ||
        memcmp(alg, c->alg, (size_t)(*p - alg)) != 0)
        return -1;
    unsigned char *name = *p;
    *why = "not a CRL";
    if (mbedtls_asn1_get_tag(p, c->tbs_end, &n, DER_SEQ) != 0)
        return -1;
    *p += n;
    *why = not_issued_by(issuer);
    if ((size_t)(*p - name) != issuer->subject_raw.len ||
        memcmp(name, issuer->subject_raw.p, issuer->subject_raw.len) != 0)
        return -1;
    return 0;
}

int x509_crl_read(const uint8_t *der, size_t len, struct x509_cert issuer, struct x509_crl *out,
                  const char **why)
{
    mbedtls_x509_crt crt;
    struct crl_parts c;
    uint8_t key_id[20];
    unsigned char *p;
    int ret = -EINVAL;

    mbedtls_x509_crt_init(&crt);
    out->count = out->excluded_count = 0;
    out->number = 0;
    *why = "larger than 1 MiB";
    if (len > X509_CRL_DER_MAX) {
        ret = -E2BIG;
        goto out;
    }
    *why = "not a CRL";
    if (!der || split(der, len, &c) != 0)
        goto out;
    *why = "the CRL's issuer is not a certificate Signet can read";
    if (mbedtls_x509_crt_parse_der(&crt, issuer.der, issuer.len) != 0 ||
        der_key_identifier(crt.pk_raw.p, crt.pk_raw.len, key_id) != 0)
        goto out;
    *why = "the issuer's certificate may not sign CRLs";
    if (mbedtls_x509_crt_check_key_usage(&crt, MBEDTLS_X509_KU_CRL_SIGN) != 0)
        goto out;
    if (get_tbs_head(&c, &crt, &p, why) != 0)
        goto out;
    /* The signature before the body: nothing below is done for bytes nobody signed. */
    *why = "bad signature";
    if (verify_sig(&c, &crt) != 0)
        goto out;
    if ((ret = get_tbs_body(p, c.tbs_end, key_id, out, why)) != 0)
        goto out;
    ret = -EINVAL;
    x509_crl_sort(out->entries, out->count);
    *why = "a serial appears twice in the CRL";
    for (size_t i = 1; i < out->count; i++)
        if (serial_cmp(&out->entries[i - 1], &out->entries[i]) == 0)
            goto out;
    ret = 0;
out:
    if (ret)
        out->count = out->excluded_count = 0;
    mbedtls_x509_crt_free(&crt);
    return ret;
}

/* ---- PEM ---- */

#define PEM_BEGIN "-----BEGIN X509 CRL-----"
#define PEM_END   "-----END X509 CRL-----"

int x509_crl_pem_write(const uint8_t *der, size_t len, char *out, size_t cap, size_t *olen)
{
    size_t at = 0;

    /* head, 64 columns (48 bytes) per line, tail, NUL */
    size_t need = sizeof(PEM_BEGIN) + sizeof(PEM_END) + (len + 47) / 48 * 65 + 1;
    if (!der || len == 0 || cap < need)
        return -ENOSPC;
    memcpy(out, PEM_BEGIN "\n", sizeof(PEM_BEGIN));
    at = sizeof(PEM_BEGIN);
    for (size_t i = 0; i < len; i += 48) {
        size_t chunk = len - i < 48 ? len - i : 48, w = 0;
        if (mbedtls_base64_encode((unsigned char *)out + at, cap - at, &w, der + i, chunk) != 0)
            return -ENOSPC;
        at += w;
        out[at++] = '\n';
    }
    memcpy(out + at, PEM_END "\n", sizeof(PEM_END) + 1);
    at += sizeof(PEM_END);
    *olen = at;
    return 0;
}

/* The first occurrence of needle in hay[len] (text need not be NUL-terminated). */
static const char *find(const char *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);

    for (size_t i = 0; n <= len && i <= len - n; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, n) == 0)
            return hay + i;
    return NULL;
}

int x509_crl_pem_read(const char *text, size_t len, uint8_t *der, size_t cap, size_t *der_len)
{
    const char *b = find(text, len, PEM_BEGIN);

    if (!b)
        return -EINVAL;
    b += sizeof(PEM_BEGIN) - 1;
    const char *e = find(b, len - (size_t)(b - text), PEM_END);
    if (!e)
        return -EINVAL;
    size_t n = 0;
    int ret = mbedtls_base64_decode(der, cap, &n, (const unsigned char *)b, (size_t)(e - b));
    if (ret == MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL)
        return -ENOSPC;
    if (ret != 0 || n == 0)
        return -EINVAL;
    *der_len = n;
    return 0;
}
