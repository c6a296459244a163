/*
 * tools/signet-client/revocation — certificates of a bundle against their issuers' CRLs
 * (revocation.h). One CRL is held at a time in static buffers: the DER (up to
 * X509_CRL_DER_MAX), its sorted entries, and the PEM text when a file is PEM.
 */
#include "revocation.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "crypto/x509_crl.h"
#include "files.h"
#include "lib/civil_time.h"

#define WHY_MAX         320
#define FETCH_TIMEOUT   20L /* seconds, whole transfer */
#define CONNECT_TIMEOUT 10L

static char why_buf[WHY_MAX];
static uint8_t text[X509_CRL_DER_MAX * 4 / 3 + X509_CRL_DER_MAX / 32 + 128]; /* PEM or DER */
static uint8_t der[X509_CRL_DER_MAX];
static struct x509_crl_entry entries[X509_CRL_ENTRIES_MAX];
static struct x509_crl crl = {.entries = entries, .entries_cap = X509_CRL_ENTRIES_MAX};

static int fail(int err, const char **why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(int err, const char **why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why_buf, sizeof(why_buf), fmt, ap);
    va_end(ap);
    *why = why_buf;
    return err;
}

/* text[len] as a CRL's DER in der[]: PEM when it holds the BEGIN line, else DER as it is. */
static int to_der(size_t len, size_t *der_len)
{
    static const char begin[] = "-----BEGIN X509 CRL-----";
    bool pem = false;

    for (size_t i = 0; i + sizeof(begin) - 1 <= len && !pem; i++)
        pem = memcmp(text + i, begin, sizeof(begin) - 1) == 0;
    if (pem)
        return x509_crl_pem_read((const char *)text, len, der, sizeof(der), der_len);
    if (len > sizeof(der))
        return -E2BIG;
    memcpy(der, text, len);
    *der_len = len;
    return 0;
}

struct sink {
    size_t len;
    bool overflow;
};

static size_t sink_write(char *data, size_t size, size_t n, void *arg)
{
    struct sink *s = arg;
    size_t len = size * n;

    if (len > sizeof(text) - s->len) {
        s->overflow = true;
        return 0;
    }
    memcpy(text + s->len, data, len);
    s->len += len;
    return len;
}

/* GET url into text[]. The transport is not what is trusted (the CRL's signature is, checked
 * after), so an https distribution point's certificate is not verified: an appliance's is
 * self-signed. No redirects, http(s) only, bounded size and time. */
static int fetch(const char *url, size_t *len, const char **why)
{
    struct sink s = {0};
    long status = 0;
    CURL *curl = curl_easy_init();

    if (!curl)
        return fail(-EIO, why, "cannot check revocation: no libcurl handle");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, FETCH_TIMEOUT);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
    CURLcode rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    if (s.overflow)
        return fail(-EIO, why, "cannot check revocation: the CRL at %.200s is over %u bytes", url,
                    (unsigned)sizeof(text));
    if (rc != CURLE_OK)
        return fail(-EIO, why, "cannot check revocation: %.200s: %s", url, curl_easy_strerror(rc));
    if (status != 200)
        return fail(-EIO, why, "cannot check revocation: %.200s answered %ld", url, status);
    *len = s.len;
    return 0;
}

static int64_t epoch(const x509_time *t)
{
    struct civil_time ct = {(int32_t)t->year, (uint8_t)t->mon, (uint8_t)t->day,
                            (uint8_t)t->hour, (uint8_t)t->min, (uint8_t)t->sec};
    return civil_to_epoch(&ct);
}

/* The CRL is current at now, or *why says it is not. */
static int current(const x509_time *now, const char *cn, const char **why)
{
    /* Signet's CRLs backdate thisUpdate as certificates backdate notBefore; others' may not.
     * A client whose clock is behind by the skew certificates allow (X509_BACKDATE_SECS)
     * takes a CRL fresh from either. */
    if (epoch(&crl.this_update) > epoch(now) + X509_BACKDATE_SECS)
        return fail(-EIO, why, "cannot check revocation: the CRL of %.64s is not valid yet", cn);
    if (x509_time_cmp(&crl.next_update, now) < 0)
        return fail(-EIO, why,
                    "cannot check revocation: the CRL of %.64s is out of date (nextUpdate "
                    "%04u-%02u-%02uT%02u:%02u:%02uZ)",
                    cn, (unsigned)crl.next_update.year % 10000u,
                    (unsigned)crl.next_update.mon % 100u, (unsigned)crl.next_update.day % 100u,
                    (unsigned)crl.next_update.hour % 100u, (unsigned)crl.next_update.min % 100u,
                    (unsigned)crl.next_update.sec % 100u);
    return 0;
}

/* Load into crl the CRL issued by issuer for cert: a given --crl file first (the first one
 * whose signature the issuer's key verifies), else cert's distribution point. 1: none exists
 * (no file of this issuer, no distribution point); 0 loaded; negative with *why. */
static int load_crl(const struct revocation *r, const struct x509_info *cert,
                    struct x509_cert issuer, const char *issuer_cn, const char **why)
{
    size_t len = 0, der_len = 0;
    const char *crl_why = "";

    for (size_t i = 0; i < r->count; i++) {
        if (file_read(r->paths[i], text, sizeof(text), &len) != 0)
            return fail(-EIO, why, "cannot read --crl %.200s", r->paths[i]);
        if (to_der(len, &der_len) != 0)
            return fail(-EIO, why, "--crl %.200s is not a CRL (PEM or DER)", r->paths[i]);
        if (x509_crl_read(der, der_len, issuer, &crl, &crl_why) == 0)
            return 0;
    }
    if (!cert->crl_url[0])
        return 1;
    int ret = fetch(cert->crl_url, &len, why);
    if (ret != 0)
        return ret;
    if (to_der(len, &der_len) != 0)
        return fail(-EIO, why, "cannot check revocation: %.200s sent no CRL", cert->crl_url);
    if (x509_crl_read(der, der_len, issuer, &crl, &crl_why) != 0)
        return fail(-EIO, why, "cannot check revocation: the CRL at %.200s: %.64s (issuer %.64s)",
                    cert->crl_url, crl_why, issuer_cn);
    return 0;
}

static void serial_hex(const uint8_t s[X509_SERIAL_LEN], char out[2 * X509_SERIAL_LEN + 1])
{
    for (size_t i = 0; i < X509_SERIAL_LEN; i++)
        snprintf(out + 2 * i, 3, "%02x", s[i]);
}

/* One certificate against the CRL loaded. */
static int judge(const struct x509_info *cert, const char **why)
{
    char hex[2 * X509_SERIAL_LEN + 1];
    /* Every serial of the hierarchy is X509_SERIAL_LEN bytes; another length is in no CRL. */
    const struct x509_crl_entry *e =
        cert->serial_len == X509_SERIAL_LEN ? x509_crl_find(&crl, cert->serial) : NULL;

    serial_hex(cert->serial, hex);
    if (e)
        return fail(-EPERM, why, "revoked: %.64s (serial %s, %s)", cert->cn, hex,
                    x509_crl_reason_name(e->reason));
    /* signetVia: the server's serial prefix (or, before prefixes, a whole serial starting with
     * it); any revoked serial starting with it revokes the server (docs/certificates.md). */
    if (cert->kind == X509_KIND_RAC && cert->has_via &&
        (e = x509_crl_search_prefix(crl.entries, crl.count, cert->via, X509_SERIAL_PREFIX_LEN))) {
        serial_hex(e->serial, hex);
        return fail(-EPERM, why,
                    "revoked: %.64s was certified through the licensing server %s, which is "
                    "revoked",
                    cert->cn, hex);
    }
    if (cert->kind == X509_KIND_RAC && x509_crl_excludes(&crl, cert->cn))
        return fail(-EPERM, why, "revoked: %.64s is excluded", cert->cn);
    return 0;
}

int revocation_check(const struct revocation *r, const struct bundle *b, struct x509_cert anchor,
                     const x509_time *now, const char **why)
{
    static struct x509_info cert, issuer;
    const char *read_why = "";

    for (size_t i = 0; i < b->count; i++) {
        struct x509_cert iss =
            i + 1 < b->count ? (struct x509_cert){b->der[i + 1], b->len[i + 1]} : anchor;
        if (x509_read(b->der[i], b->len[i], &cert, &read_why) != 0 ||
            x509_read(iss.der, iss.len, &issuer, &read_why) != 0)
            return fail(-EIO, why, "cannot check revocation: %.64s", read_why);
        /* The anchor (self-signed, last in many bundles) is trusted, not revoked by itself. */
        if (cert.subject_len == issuer.subject_len && b->len[i] == iss.len &&
            memcmp(b->der[i], iss.der, iss.len) == 0)
            continue;
        int ret = load_crl(r, &cert, iss, issuer.cn, why);
        if (ret == 1)
            continue;
        if (ret == 0)
            ret = current(now, issuer.cn, why);
        if (ret == 0)
            ret = judge(&cert, why);
        if (ret != 0)
            return ret;
    }
    return 0;
}
