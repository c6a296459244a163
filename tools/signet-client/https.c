/*
 * tools/signet-client/https — see https.h. libcurl with its OpenSSL backend: the fingerprint
 * check is an OpenSSL certificate-verification callback installed through
 * CURLOPT_SSL_CTX_FUNCTION, so a wrong server fails the handshake itself.
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include "https.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "lib/hex.h"

#define CONNECT_TIMEOUT_S  10
#define TRANSFER_TIMEOUT_S 60

int https_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

void https_global_free(void)
{
    curl_global_cleanup();
}

int https_peer_init(struct https_peer *p, const char *url, const char *fingerprint, bool insecure,
                    const char **why)
{
    size_t len = strnlen(url, HTTPS_URL_MAX + 1);

    memset(p, 0, sizeof(*p));
    *why = "give --tls-fingerprint SHA256 (from 'tls fingerprint' on the appliance console) "
           "or --insecure";
    if (!fingerprint == !insecure)
        return -EINVAL;
    *why = "--url wants https://HOST:PORT (at most 256 printable characters)";
    if (len > HTTPS_URL_MAX || strncmp(url, "https://", 8) != 0 || len == 8)
        return -EINVAL;
    for (size_t i = 0; i < len; i++)
        if (url[i] <= ' ' || url[i] > '~')
            return -EINVAL;
    if (url[len - 1] == '/')
        len--;
    if (memchr(url + 8, '/', len - 8) || memchr(url, '?', len) || memchr(url, '#', len) ||
        memchr(url, '@', len)) {
        *why = "--url is the appliance's address only: https://HOST:PORT, no path";
        return -EINVAL;
    }
    memcpy(p->base, url, len);
    p->base[len] = '\0';
    p->insecure = insecure;
    *why = "--tls-fingerprint wants 32 hex pairs (AA:BB:..., colons optional)";
    if (fingerprint &&
        hex_parse_fingerprint(fingerprint, p->fingerprint, HTTPS_FINGERPRINT_LEN) != 0)
        return -EINVAL;
    return 0;
}

/* ---- the pin ---- */

struct pin {
    const uint8_t *want;
    uint8_t seen[HTTPS_FINGERPRINT_LEN];
    bool saw, matched;
};

/* Replaces OpenSSL's chain verification for this connection: the server's own certificate must
 * have the pinned SHA-256 fingerprint; nothing else about it matters (it is self-signed). */
static int pin_verify(X509_STORE_CTX *store, void *arg)
{
    struct pin *pin = arg;
    X509 *leaf = X509_STORE_CTX_get0_cert(store);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;

    if (!leaf || X509_digest(leaf, EVP_sha256(), md, &md_len) != 1 ||
        md_len != HTTPS_FINGERPRINT_LEN) {
        X509_STORE_CTX_set_error(store, X509_V_ERR_UNSPECIFIED);
        return 0;
    }
    memcpy(pin->seen, md, HTTPS_FINGERPRINT_LEN);
    pin->saw = true;
    if (CRYPTO_memcmp(md, pin->want, HTTPS_FINGERPRINT_LEN) != 0) {
        X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
        return 0;
    }
    pin->matched = true;
    return 1;
}

static CURLcode pin_install(CURL *curl, void *ssl_ctx, void *arg)
{
    (void)curl;
    SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_cert_verify_callback(ssl_ctx, pin_verify, arg);
    return CURLE_OK;
}

#define FINGERPRINT_TEXT_MAX (3 * HTTPS_FINGERPRINT_LEN) /* "AA:" each, the last ':' a NUL */

static void fingerprint_text(const uint8_t fp[HTTPS_FINGERPRINT_LEN],
                             char out[FINGERPRINT_TEXT_MAX])
{
    for (size_t i = 0; i < HTTPS_FINGERPRINT_LEN; i++)
        snprintf(out + 3 * i, FINGERPRINT_TEXT_MAX - 3 * i,
                 i + 1 < HTTPS_FINGERPRINT_LEN ? "%02X:" : "%02X", fp[i]);
}

/* ---- the answer ---- */

struct sink {
    char *buf;
    size_t cap, len;
    bool overflow;
};

static size_t sink_write(char *data, size_t size, size_t n, void *arg)
{
    struct sink *s = arg;
    size_t len = size * n; /* curl: size is always 1 */

    if (len > s->cap - s->len) {
        s->overflow = true;
        return 0; /* aborts the transfer */
    }
    memcpy(s->buf + s->len, data, len);
    s->len += len;
    return len;
}

/* The first line of an error body, printable ASCII only, bounded. */
static void reason_from(const char *body, size_t len, char why[HTTPS_WHY_MAX])
{
    size_t o = 0;

    for (size_t i = 0; i < len && body[i] != '\n' && body[i] != '\r' && o + 1 < HTTPS_WHY_MAX; i++)
        why[o++] = body[i] >= ' ' && body[i] <= '~' ? body[i] : '?';
    why[o] = '\0';
    if (o == 0)
        snprintf(why, HTTPS_WHY_MAX, "no reason given");
}

static int transport_error(CURLcode rc, const struct pin *pin, const struct https_peer *p,
                           const struct sink *s, const char *curl_why, char why[HTTPS_WHY_MAX])
{
    char seen[FINGERPRINT_TEXT_MAX];

    if (s->overflow) {
        snprintf(why, HTTPS_WHY_MAX, "the answer is larger than %zu bytes", s->cap);
        return -E2BIG;
    }
    if (!p->insecure && pin->saw && !pin->matched) {
        fingerprint_text(pin->seen, seen);
        snprintf(why, HTTPS_WHY_MAX,
                 "the server's TLS certificate has fingerprint %s, not the one given", seen);
        return -EPERM;
    }
    snprintf(why, HTTPS_WHY_MAX, "%.80s: %.150s", p->base,
             curl_why[0] ? curl_why : curl_easy_strerror(rc));
    return -EIO;
}

int https_post(const struct https_peer *p, const char *path, const char *body, size_t len,
               char *answer, size_t cap, size_t *answer_len, long *status, char why[HTTPS_WHY_MAX])
{
    char url[HTTPS_URL_MAX + 64], curl_why[CURL_ERROR_SIZE] = "";
    struct pin pin = {.want = p->fingerprint};
    struct sink sink = {.buf = answer, .cap = cap ? cap - 1 : 0};
    struct curl_slist *headers = NULL, *h = NULL;
    CURL *curl = curl_easy_init();
    CURLcode rc = CURLE_FAILED_INIT;
    int ret = -EIO;

    *answer_len = 0;
    *status = 0;
    snprintf(why, HTTPS_WHY_MAX, "cannot set up the HTTPS request");
    if (!curl || cap == 0 || snprintf(url, sizeof(url), "%s%s", p->base, path) >= (int)sizeof(url))
        goto out;
    /* "Expect:" off: the appliance reads the body at once, no 100-continue round trip. */
    h = curl_slist_append(NULL, "Content-Type: application/xml");
    if (!h)
        goto out;
    headers = h;
    h = curl_slist_append(headers, "Accept: application/xml");
    if (!h)
        goto out;
    h = curl_slist_append(headers, "Expect:");
    if (!h)
        goto out;
    if (curl_easy_setopt(curl, CURLOPT_URL, url) != CURLE_OK ||
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https") != CURLE_OK ||
        curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S) != CURLE_OK ||
        curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)TRANSFER_TIMEOUT_S) != CURLE_OK ||
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_why) != CURLE_OK ||
        curl_easy_setopt(curl, CURLOPT_USERAGENT, "signet-client") != CURLE_OK ||
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers) != CURLE_OK ||
        curl_easy_setopt(curl, CURLOPT_POST, 1L) != CURLE_OK ||
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) != CURLE_OK ||
        curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)sink.cap) != CURLE_OK ||
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, sink_write) != CURLE_OK ||
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink) != CURLE_OK ||
        curl_easy_setopt(curl, CURLOPT_SSL_SESSIONID_CACHE, 0L) != CURLE_OK ||
        /* libcurl's own checks are off in both modes: a CA cannot vouch for a self-signed
         * certificate, and the pin below is the check. */
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L) != CURLE_OK ||
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L) != CURLE_OK)
        goto out;
    /* curl reads a PEM SSLCERT as a chain file: the intermediates after the leaf go too. */
    if (p->id_cert && (curl_easy_setopt(curl, CURLOPT_SSLCERT, p->id_cert) != CURLE_OK ||
                       curl_easy_setopt(curl, CURLOPT_SSLCERTTYPE, "PEM") != CURLE_OK ||
                       curl_easy_setopt(curl, CURLOPT_SSLKEY, p->id_key) != CURLE_OK ||
                       curl_easy_setopt(curl, CURLOPT_SSLKEYTYPE, "PEM") != CURLE_OK))
        goto out;
    if (!p->insecure) {
        const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
        snprintf(why, HTTPS_WHY_MAX,
                 "this libcurl is not built with OpenSSL: cannot pin the "
                 "server's certificate (use --insecure at your own risk)");
        if (!v || !v->ssl_version || strncmp(v->ssl_version, "OpenSSL/", 8) != 0 ||
            curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, pin_install) != CURLE_OK ||
            curl_easy_setopt(curl, CURLOPT_SSL_CTX_DATA, &pin) != CURLE_OK)
            goto out;
    }
    rc = curl_easy_perform(curl);
    if (rc != CURLE_OK) {
        ret = transport_error(rc, &pin, p, &sink, curl_why, why);
        goto out;
    }
    /* A connection that was never verified (no handshake seen) is not trusted either. */
    snprintf(why, HTTPS_WHY_MAX, "the server's certificate was not checked");
    if (!p->insecure && !pin.matched)
        goto out;
    snprintf(why, HTTPS_WHY_MAX, "no HTTP status");
    if (curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status) != CURLE_OK)
        goto out;
    answer[sink.len] = '\0';
    *answer_len = sink.len;
    why[0] = '\0';
    if (*status != 200)
        reason_from(answer, sink.len, why);
    ret = 0;
out:
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return ret;
}
