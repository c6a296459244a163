#include "identity.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/tlv.h"
#include "mbedtls/sha256.h"

#define OBJ_IDENTITY "signet-identity"

/* The record: one TLV item per source, its value TLV items again (unknown tags are skipped, so a
 * newer firmware may add some). Subject text and fingerprint are derived from the certificate
 * when it is read back, so they cannot disagree with it. */
enum { ID_TAG_SOURCE = 1 };
enum { SRC_TAG_CERT = 1, SRC_TAG_DOMAINS = 2, SRC_TAG_NOT_AFTER = 3 };
#define NOT_AFTER_LEN    7 /* year (2 bytes, big-endian), month, day, hour, minute, second */
#define DOMAINS_TEXT_MAX (IDENTITY_DOMAINS_MAX * (IDENTITY_DOMAIN_MAX + 1))

static uint8_t io[TOKEN_DATA_MAX];

static const char why_unauthenticated[] =
    "authenticate with your identity certificate (a TLS client certificate from your "
    "organisation's user CA)";
static const char why_untrusted[] = "not issued by a trusted identity source";

void identity_init(struct identity *ids, struct token *token)
{
    memset(ids, 0, sizeof(*ids));
    ids->token = token;
}

/* ---- domains ---- */

static bool label_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* A lowercase DNS name: labels of letters, digits and '-' (not at a label's ends), dots between. */
static bool domain_ok(const char *d, size_t n)
{
    size_t label = 0;

    if (n == 0 || n > IDENTITY_DOMAIN_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (d[i] == '.') {
            if (label == 0 || d[i - 1] == '-')
                return false;
            label = 0;
        } else if (!label_char(d[i]) || (label == 0 && d[i] == '-') || ++label > 63) {
            return false;
        }
    }
    return label > 0 && d[n - 1] != '-';
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

int identity_parse_domains(const char *text,
                           char out[IDENTITY_DOMAINS_MAX][IDENTITY_DOMAIN_MAX + 1], size_t *count,
                           const char **why)
{
    static char why_buf[96];
    const char *p = text;
    size_t n = 0;

    *count = 0;
    *why = "name at least one domain (contoso.example or contoso.example,fabrikam.example)";
    if (!text || !*text)
        return -EINVAL;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (n == IDENTITY_DOMAINS_MAX) {
            snprintf(why_buf, sizeof(why_buf), "at most %d domains per identity source",
                     IDENTITY_DOMAINS_MAX);
            *why = why_buf;
            return -EINVAL;
        }
        snprintf(why_buf, sizeof(why_buf),
                 "domain %d is not a DNS name (letters, digits, '-', dots; 1..%d characters)",
                 (int)n + 1, IDENTITY_DOMAIN_MAX);
        *why = why_buf;
        if (len > IDENTITY_DOMAIN_MAX)
            return -EINVAL;
        char d[IDENTITY_DOMAIN_MAX + 1];
        for (size_t k = 0; k < len; k++)
            d[k] = lower(p[k]);
        d[len] = '\0';
        if (!domain_ok(d, len))
            return -EINVAL;
        for (size_t i = 0; i < n; i++)
            if (strcmp(out[i], d) == 0) {
                snprintf(why_buf, sizeof(why_buf), "domain %.62s is named twice", d);
                return -EINVAL;
            }
        memcpy(out[n++], d, len + 1);
        if (!comma)
            break;
        p = comma + 1;
    }
    *count = n;
    return 0;
}

static bool domains_text(const struct identity_source *s, char *out, size_t cap)
{
    size_t len = 0;

    out[0] = '\0';
    for (size_t i = 0; i < s->domain_count; i++) {
        int w = snprintf(out + len, cap - len, "%s%s", i ? "," : "", s->domains[i]);
        if (w < 0 || (size_t)w >= cap - len)
            return false;
        len += (size_t)w;
    }
    return true;
}

/* ---- the record ---- */

/* Subject text, fingerprint and domains of a source from its certificate and domain text. */
static int source_fill(struct identity_source *s, const uint8_t *der, size_t len,
                       const char *domains)
{
    const char *why;

    if (len == 0 || len > sizeof(s->cert))
        return -EINVAL;
    if (identity_parse_domains(domains, s->domains, &s->domain_count, &why) != 0)
        return -EINVAL;
    if (x509_user_describe(der, len, s->subject, sizeof(s->subject), s->fp) != 0)
        return -EINVAL;
    memcpy(s->cert, der, len);
    s->cert_len = len;
    return 0;
}

static int decode_source(struct identity_source *s, const uint8_t *buf, size_t len)
{
    const uint8_t *cert = NULL, *v;
    size_t cert_len = 0, n;
    char domains[DOMAINS_TEXT_MAX + 1] = "";
    bool have_time = false;
    struct tlv_reader r;
    uint8_t tag;

    memset(s, 0, sizeof(*s));
    tlv_reader_init(&r, buf, len);
    while (tlv_next(&r, &tag, &v, &n)) {
        if (tag == SRC_TAG_CERT) {
            cert = v;
            cert_len = n;
        } else if (tag == SRC_TAG_DOMAINS) {
            if (n == 0 || n > DOMAINS_TEXT_MAX || memchr(v, '\0', n))
                return -EINVAL;
            memcpy(domains, v, n);
            domains[n] = '\0';
        } else if (tag == SRC_TAG_NOT_AFTER) {
            if (n != NOT_AFTER_LEN)
                return -EINVAL;
            s->not_after = (x509_time){.year = v[0] << 8 | v[1],
                                       .mon = v[2],
                                       .day = v[3],
                                       .hour = v[4],
                                       .min = v[5],
                                       .sec = v[6]};
            have_time = true;
        }
    }
    if (r.bad || !cert || !have_time)
        return -EINVAL;
    return source_fill(s, cert, cert_len, domains);
}

static int index_of(const struct identity_source *list, size_t count, const uint8_t fp[X509_FP_LEN])
{
    for (size_t i = 0; i < count; i++)
        if (memcmp(list[i].fp, fp, X509_FP_LEN) == 0)
            return (int)i;
    return -1;
}

/* What was verified against other sources (or other domains) proves nothing now. */
static void forget_seen(struct identity *ids)
{
    memset(ids->seen, 0, sizeof(ids->seen));
}

static int decode(struct identity *ids, const uint8_t *buf, size_t len)
{
    struct tlv_reader r;
    uint8_t tag;
    const uint8_t *v;
    size_t n;

    ids->count = 0;
    tlv_reader_init(&r, buf, len);
    while (tlv_next(&r, &tag, &v, &n)) {
        if (tag != ID_TAG_SOURCE)
            continue; /* written by a newer firmware */
        if (ids->count == IDENTITY_SOURCES_MAX)
            return -EINVAL;
        struct identity_source *s = &ids->sources[ids->count];
        if (decode_source(s, v, n) != 0 || index_of(ids->sources, ids->count, s->fp) >= 0)
            return -EINVAL;
        ids->count++;
    }
    return r.bad ? -EINVAL : 0;
}

int identity_load(struct identity *ids, const char **why)
{
    size_t len = 0;

    /* A token that does not answer signs nothing either: what was loaded may stay until it
     * answers again, so a glitch in the link does not turn every user away for a refresh
     * period. */
    *why = "the token did not answer";
    if (token_data_read(ids->token, OBJ_IDENTITY, io, sizeof(io), &len) != CKR_OK)
        return -EIO;
    forget_seen(ids);
    ids->loaded = true;
    ids->damaged = false;
    *why = "the stored identity sources are damaged; no user is trusted until they are rewritten";
    if (decode(ids, io, len) != 0) {
        ids->count = 0;
        ids->damaged = true;
        return -EINVAL;
    }
    return 0;
}

/* One source's item into io at *len; -ENOSPC when it does not fit. */
static int encode_source(const struct identity_source *s, size_t *len)
{
    static uint8_t item[DOC_CERT_MAX + DOMAINS_TEXT_MAX + 32];
    char domains[DOMAINS_TEXT_MAX + 1];
    const x509_time *t = &s->not_after;
    uint8_t when[NOT_AFTER_LEN] = {(uint8_t)(t->year >> 8), (uint8_t)t->year, (uint8_t)t->mon,
                                   (uint8_t)t->day,         (uint8_t)t->hour, (uint8_t)t->min,
                                   (uint8_t)t->sec};
    size_t n = 0;

    if (!domains_text(s, domains, sizeof(domains)) ||
        tlv_put(item, sizeof(item), &n, SRC_TAG_CERT, s->cert, s->cert_len) != 0 ||
        tlv_put(item, sizeof(item), &n, SRC_TAG_DOMAINS, domains, strlen(domains)) != 0 ||
        tlv_put(item, sizeof(item), &n, SRC_TAG_NOT_AFTER, when, sizeof(when)) != 0)
        return -ENOSPC;
    return tlv_put(io, sizeof(io), len, ID_TAG_SOURCE, item, n) ? -ENOSPC : 0;
}

/* Write list[0..count) to the token; only then does RAM take it. */
static int store(struct identity *ids, const struct identity_source *list, size_t count,
                 const char **why)
{
    size_t len = 0;

    for (size_t i = 0; i < count; i++)
        if (encode_source(&list[i], &len) != 0) {
            *why = "the identity store is full (the sources do not fit in the token object); "
                   "remove one first";
            return -ENOSPC;
        }
    *why = "could not store the identity sources in the token";
    if (token_data_write(ids->token, OBJ_IDENTITY, io, len) != CKR_OK)
        return -EIO;
    forget_seen(ids);
    if (list != ids->sources)
        memcpy(ids->sources, list, count * sizeof(*list));
    ids->count = count;
    ids->damaged = false;
    return 0;
}

/* ---- changes ---- */

static struct identity_source next[IDENTITY_SOURCES_MAX];

int identity_import(struct identity *ids, const uint8_t *der, size_t len, const char *domains,
                    const x509_time *now, const char **why)
{
    static struct identity_source s;
    size_t count = ids->count;

    *why = "the identity sources are not loaded (log in)";
    if (!ids->loaded)
        return -EIO;
    *why = "the certificate is too large (over 2048 bytes DER)";
    if (len == 0 || len > sizeof(s.cert))
        return -EINVAL;
    memset(&s, 0, sizeof(s));
    if (identity_parse_domains(domains, s.domains, &s.domain_count, why) != 0)
        return -EINVAL;
    if (x509_user_ca_check(der, len, now, s.subject, sizeof(s.subject), &s.not_after, why) != 0)
        return -EINVAL;
    x509_time not_after = s.not_after;
    *why = "the certificate does not parse";
    if (source_fill(&s, der, len, domains) != 0)
        return -EINVAL;
    s.not_after = not_after;
    memcpy(next, ids->sources, count * sizeof(next[0]));
    int i = index_of(next, count, s.fp);
    if (i < 0) {
        *why = "the identity store is full (8 sources); remove one first";
        if (count == IDENTITY_SOURCES_MAX)
            return -ENOSPC;
        i = (int)count++;
    }
    next[i] = s;
    return store(ids, next, count, why);
}

int identity_remove(struct identity *ids, const uint8_t fp[X509_FP_LEN], const char **why)
{
    size_t count = 0;

    *why = "the identity sources are not loaded (log in)";
    if (!ids->loaded)
        return -EIO;
    int i = index_of(ids->sources, ids->count, fp);
    *why = "no identity source has that fingerprint";
    if (i < 0)
        return -ENOENT;
    for (size_t k = 0; k < ids->count; k++)
        if ((int)k != i)
            next[count++] = ids->sources[k];
    return store(ids, next, count, why);
}

/* ---- the decision ---- */

struct span {
    const uint8_t *p;
    size_t n;
};

/* The DER element at *p (before end): *whole the element with its header, *val its contents;
 * *p moves past it. false when it does not fit. */
static bool der_next(const uint8_t **p, const uint8_t *end, uint8_t want, struct span *whole,
                     struct span *val)
{
    const uint8_t *q = *p;
    size_t len;

    if (end - q < 2 || q[0] != want)
        return false;
    len = q[1];
    q += 2;
    if (len & 0x80) {
        size_t k = len & 0x7f;
        if (k == 0 || k > 2 || (size_t)(end - q) < k)
            return false;
        for (len = 0; k > 0; k--)
            len = len << 8 | *q++;
    }
    if ((size_t)(end - q) < len)
        return false;
    whole->p = *p;
    whole->n = (size_t)(q - *p) + len;
    val->p = q;
    val->n = len;
    *p = q + len;
    return true;
}

/* A certificate's issuer and subject Names as they are encoded (RFC 5280 §4.1). */
static bool cert_names(struct x509_cert c, struct span *issuer, struct span *subject)
{
    struct span whole, cert, tbs, skip;

    if (!c.der)
        return false;
    const uint8_t *p = c.der, *end = c.der + c.len;
    if (!der_next(&p, end, 0x30, &whole, &cert) || p != end)
        return false;
    p = cert.p;
    end = cert.p + cert.n;
    if (!der_next(&p, end, 0x30, &whole, &tbs))
        return false;
    p = tbs.p;
    end = tbs.p + tbs.n;
    if (p < end && *p == 0xa0 && !der_next(&p, end, 0xa0, &whole, &skip)) /* version */
        return false;
    return der_next(&p, end, 0x02, &whole, &skip) && /* serialNumber */
           der_next(&p, end, 0x30, &whole, &skip) && /* signature */
           der_next(&p, end, 0x30, issuer, &skip) && /* issuer */
           der_next(&p, end, 0x30, &whole, &skip) && /* validity */
           der_next(&p, end, 0x30, subject, &skip);  /* subject */
}

static bool span_eq(struct span a, struct span b)
{
    return a.n == b.n && memcmp(a.p, b.p, a.n) == 0;
}

/* How far the chain goes below the anchor: the first certificate that names the anchor's
 * subject as its issuer, or -1 (then verifying is not worth its signature checks). The
 * Names compare as encoded: issuers copy their subject's bytes. */
static int issued_below(struct x509_cert anchor, const struct x509_cert *chain, size_t n)
{
    struct span a_issuer, a_subject, issuer, subject;

    if (!cert_names(anchor, &a_issuer, &a_subject))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (cert_names(chain[i], &issuer, &subject) && span_eq(issuer, a_subject))
            return (int)i;
    return -1;
}

static bool domain_held(const struct identity_source *s, const char *name)
{
    const char *d = x509_user_domain(name);

    for (size_t i = 0; d && i < s->domain_count; i++)
        if (strcmp(s->domains[i], d) == 0)
            return true;
    return false;
}

/* How telling a refusal is: the most telling one is what the user hears. */
enum { WHY_UNTRUSTED, WHY_CERT, WHY_DOMAIN };

/* chain[0..n): the user's chain, leaf first. */
static int verify_user(const struct identity *ids, const struct x509_cert *chain, size_t n,
                       const x509_time *now, struct x509_user *out, const char **why)
{
    static char why_buf[X509_CN_MAX + 128];
    int rank = WHY_UNTRUSTED;

    *why = why_untrusted;
    for (size_t i = 0; i < ids->count; i++) {
        const struct identity_source *s = &ids->sources[i];
        struct x509_cert anchor = {s->cert, s->cert_len};
        int below = issued_below(anchor, chain, n);
        const char *vwhy = why_untrusted;
        if (below < 0)
            continue;
        /* leaf, then chain[1..below]: the anchor and whatever the user sent above it go. */
        int ret = x509_user_verify(chain[0], chain + 1, (size_t)below, anchor, now, out, &vwhy);
        if (ret == 0 && domain_held(s, out->name))
            return 0;
        if (ret == 0) {
            snprintf(why_buf, sizeof(why_buf),
                     "%s is outside the domains its identity source vouches for", out->name);
            rank = WHY_DOMAIN;
        } else if (ret != 0 && rank < WHY_CERT && strcmp(vwhy, why_untrusted) != 0) {
            snprintf(why_buf, sizeof(why_buf), "identity certificate %s", vwhy);
            rank = WHY_CERT;
        }
        if (rank > WHY_UNTRUSTED)
            *why = why_buf;
    }
    memset(out, 0, sizeof(*out));
    return -EPERM;
}

/* ---- chains verified lately (identity.h, identity_who) ---- */

static void chain_hash(const struct x509_cert *chain, size_t n, uint8_t out[X509_FP_LEN])
{
    mbedtls_sha256_context h;

    mbedtls_sha256_init(&h);
    (void)mbedtls_sha256_starts(&h, 0);
    for (size_t i = 0; i < n; i++) {
        /* Length-prefixed, so that no two chains hash the same bytes. */
        uint8_t len[4] = {(uint8_t)(chain[i].len >> 24), (uint8_t)(chain[i].len >> 16),
                          (uint8_t)(chain[i].len >> 8), (uint8_t)chain[i].len};
        (void)mbedtls_sha256_update(&h, len, sizeof(len));
        (void)mbedtls_sha256_update(&h, chain[i].der, chain[i].len);
    }
    (void)mbedtls_sha256_finish(&h, out);
    mbedtls_sha256_free(&h);
}

static bool seen_find(struct identity *ids, const uint8_t hash[X509_FP_LEN], const x509_time *now,
                      struct x509_user *out)
{
    for (size_t i = 0; i < IDENTITY_SEEN_MAX; i++) {
        struct identity_seen *w = &ids->seen[i];
        if (!w->used || memcmp(w->chain, hash, X509_FP_LEN) != 0)
            continue;
        if (x509_time_cmp(now, &w->cert.valid_from) < 0 ||
            x509_time_cmp(now, &w->cert.valid_until) > 0) {
            w->used = false; /* the clock left what was verified: verify again */
            return false;
        }
        w->last = ++ids->seen_clock;
        *out = w->cert;
        return true;
    }
    return false;
}

static void seen_put(struct identity *ids, const uint8_t hash[X509_FP_LEN],
                     const struct x509_user *cert)
{
    struct identity_seen *w = &ids->seen[0];

    for (size_t i = 1; i < IDENTITY_SEEN_MAX && w->used; i++)
        if (!ids->seen[i].used || ids->seen[i].last < w->last)
            w = &ids->seen[i];
    memcpy(w->chain, hash, X509_FP_LEN);
    w->cert = *cert;
    w->last = ++ids->seen_clock;
    w->used = true;
}

int identity_who(struct identity *ids, const struct acl *acl, const struct x509_cert *tls,
                 size_t tls_n, const uint8_t tls_fp[X509_FP_LEN], const struct x509_cert *fwd,
                 size_t fwd_n, const x509_time *now, struct identity_user *out, const char **why)
{
    const struct x509_cert *chain = tls;
    size_t n = tls_n;

    memset(out, 0, sizeof(*out));
    *why = "no identity source is trusted";
    if (!ids->loaded || ids->count == 0)
        return -EPERM;
    if (fwd_n > 0) {
        /* Only a server this root sub-enrolled vouches for having seen the user's key. */
        const struct acl_entry *e = tls_n > 0 && tls_fp ? acl_find(acl, tls_fp) : NULL;
        *why = "a user chain is taken only from a granted licensing server";
        if (!e)
            return -EPERM;
        snprintf(out->via, sizeof(out->via), "%s", e->name);
        chain = fwd;
        n = fwd_n;
    } else if (tls_n == 0) {
        *why = why_unauthenticated;
        return -EACCES;
    }
    *why = "identity certificate chain too long (at most 4 certificates)";
    if (n > X509_USER_CHAIN_MAX) {
        out->via[0] = '\0';
        return -EPERM;
    }
    uint8_t hash[X509_FP_LEN];
    bool direct = fwd_n == 0;
    if (direct) {
        chain_hash(chain, n, hash);
        if (seen_find(ids, hash, now, &out->cert))
            return 0;
    }
    int ret = verify_user(ids, chain, n, now, &out->cert, why);
    if (ret != 0)
        out->via[0] = '\0';
    else if (direct)
        seen_put(ids, hash, &out->cert);
    return ret;
}
