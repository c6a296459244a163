/*
 * tests/fuzz/fuzz_doc.c — arbitrary bytes into every document parser (enrollment request and
 * response, the six license documents) and into the armor reader.
 *
 * The input goes in a buffer exactly as long as it, so ASan sees every read past it. On success
 * the output must respect every bound of crypto/doc.h (strings NUL-terminated, printable,
 * lengths within their arrays) and must survive a round trip: what was read is written back and
 * read again to the same thing. On refusal the reason must be one line and the output all zero.
 * Nothing may stay allocated on the crypto heap after any call.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/doc.h"
#include "crypto/heap.h"
#include "crypto/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* crypto/doc salts expat from the RNG; unseeded half the time to cover the fallback. */
static unsigned rng_turn;

int rng_random(void *p_rng, unsigned char *out, size_t len);
int rng_random(void *p_rng, unsigned char *out, size_t len)
{
    (void)p_rng;
    if (rng_turn++ & 1)
        return -1;
    for (size_t i = 0; i < len; i++)
        out[i] = (unsigned char)(rng_turn * 31 + i);
    return 0;
}

static void check(int ok)
{
    if (!ok)
        abort();
}

static int zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return 0;
    return 1;
}

static void check_why(const char *why)
{
    check(why != NULL && why[0] != '\0' && memchr(why, '\n', strlen(why)) == NULL);
}

/* NUL-terminated within cap, 1..max printable ASCII characters, no space at either end. */
static void check_text(const char *s, size_t cap, size_t max)
{
    const char *z = memchr(s, '\0', cap);
    check(z != NULL && z > s && (size_t)(z - s) <= max && s[0] != ' ' && z[-1] != ' ');
    for (const char *p = s; p < z; p++)
        check(*p >= 0x20 && *p <= 0x7e);
}

static int same_request(const struct doc_request *a, const struct doc_request *b)
{
    return a->kind == b->kind && strcmp(a->server_name, b->server_name) == 0 &&
           strcmp(a->cluster_url, b->cluster_url) == 0 && strcmp(a->sku, b->sku) == 0 &&
           strcmp(a->version, b->version) == 0 && a->revocation == b->revocation &&
           a->revoker_key_len == b->revoker_key_len &&
           memcmp(a->revoker_key, b->revoker_key, a->revoker_key_len) == 0 &&
           a->public_key_len == b->public_key_len &&
           memcmp(a->public_key, b->public_key, a->public_key_len) == 0 &&
           a->pop_len == b->pop_len && memcmp(a->pop, b->pop, a->pop_len) == 0;
}

static void fuzz_request(const char *buf, size_t size)
{
    static struct doc_request r, again;
    static char xml[DOC_XML_MAX + 1];
    const char *why = NULL;
    size_t len;

    if (doc_request_parse(buf, size, &r, &why) != 0) {
        check_why(why);
        check(zero(&r, sizeof(r)));
        return;
    }
    check((unsigned)r.kind <= DOC_SUBENROLLMENT);
    check_text(r.server_name, sizeof(r.server_name), DOC_NAME_MAX);
    check_text(r.cluster_url, sizeof(r.cluster_url), DOC_URL_MAX);
    check_text(r.sku, sizeof(r.sku), DOC_SKU_MAX);
    check_text(r.version, sizeof(r.version), DOC_VERSION_MAX);
    check(strncmp(r.cluster_url, "http://", 7) == 0 || strncmp(r.cluster_url, "https://", 8) == 0);
    check((unsigned)r.revocation <= DOC_REVOCATION_CUSTOM);
    check(r.revocation == DOC_REVOCATION_CUSTOM ? r.revoker_key_len > 0 : r.revoker_key_len == 0);
    check(r.revoker_key_len <= DOC_KEY_MAX && r.public_key_len > 0 &&
          r.public_key_len <= DOC_KEY_MAX && r.pop_len > 0 && r.pop_len <= DOC_CSR_MAX);
    check(doc_request_write(&r, xml, sizeof(xml), &len) == 0 && len <= DOC_XML_MAX);
    check(doc_request_parse(xml, len, &again, &why) == 0 && same_request(&r, &again));
}

static void fuzz_response(const char *buf, size_t size)
{
    static struct doc_response r, again;
    static char xml[DOC_XML_MAX + 1];
    const char *why = NULL;
    size_t len;

    if (doc_response_parse(buf, size, &r, &why) != 0) {
        check_why(why);
        check(zero(&r, sizeof(r)));
        return;
    }
    check(r.slc_len > 0 && r.slc_len <= DOC_CERT_MAX);
    check(r.chain_count >= 1 && r.chain_count <= DOC_CHAIN_MAX);
    for (size_t i = 0; i < DOC_CHAIN_MAX; i++)
        check(i < r.chain_count ? r.chain_len[i] > 0 && r.chain_len[i] <= DOC_CERT_MAX
                                : r.chain_len[i] == 0);
    check(doc_response_write(&r, xml, sizeof(xml), &len) == 0 && len <= DOC_XML_MAX);
    check(doc_response_parse(xml, len, &again, &why) == 0);
    check(again.slc_len == r.slc_len && memcmp(again.slc, r.slc, r.slc_len) == 0 &&
          again.chain_count == r.chain_count);
    for (size_t i = 0; i < r.chain_count; i++)
        check(again.chain_len[i] == r.chain_len[i] &&
              memcmp(again.chain[i], r.chain[i], r.chain_len[i]) == 0);
}

static void check_binary(size_t len, size_t max, int carried)
{
    check(carried ? len > 0 && len <= max : len == 0);
}

static int same_license(const struct doc_license *a, const struct doc_license *b)
{
    if (a->kind != b->kind || a->csr_len != b->csr_len || a->rac_len != b->rac_len ||
        a->pl_len != b->pl_len || a->ul_len != b->ul_len || a->chain_count != b->chain_count ||
        a->grant_count != b->grant_count || memcmp(a->csr, b->csr, a->csr_len) != 0 ||
        memcmp(a->rac, b->rac, a->rac_len) != 0 || memcmp(a->pl, b->pl, a->pl_len) != 0 ||
        memcmp(a->ul, b->ul, a->ul_len) != 0)
        return 0;
    for (size_t i = 0; i < a->chain_count; i++)
        if (a->chain_len[i] != b->chain_len[i] ||
            memcmp(a->chain[i], b->chain[i], a->chain_len[i]) != 0)
            return 0;
    for (size_t i = 0; i < a->grant_count; i++)
        if (strcmp(a->grants[i].user, b->grants[i].user) != 0 ||
            a->grants[i].rights != b->grants[i].rights)
            return 0;
    if (a->user_chain_count != b->user_chain_count)
        return 0;
    for (size_t i = 0; i < a->user_chain_count; i++)
        if (a->user_chain_len[i] != b->user_chain_len[i] ||
            memcmp(a->user_chain[i], b->user_chain[i], a->user_chain_len[i]) != 0)
            return 0;
    return 1;
}

/* What each kind carries (crypto/doc.h's table). */
static void check_license(const struct doc_license *d, enum doc_license_kind k)
{
    int chain = k != DOC_CERTIFY_REQUEST;

    check(d->kind == k);
    check_binary(d->csr_len, DOC_CSR_MAX, k == DOC_CERTIFY_REQUEST);
    check_binary(d->rac_len, DOC_CERT_MAX,
                 k == DOC_CERTIFY_RESPONSE || k == DOC_PUBLISH_REQUEST || k == DOC_LICENSE_REQUEST);
    check_binary(d->pl_len, DOC_LICENSE_MAX, k == DOC_PUBLISH_RESPONSE || k == DOC_LICENSE_REQUEST);
    check_binary(d->ul_len, DOC_LICENSE_MAX,
                 k == DOC_PUBLISH_RESPONSE || k == DOC_LICENSE_RESPONSE);
    check(chain ? d->chain_count >= 1 && d->chain_count <= DOC_CHAIN_MAX : d->chain_count == 0);
    for (size_t i = 0; i < DOC_CHAIN_MAX; i++)
        check(i < d->chain_count ? d->chain_len[i] > 0 && d->chain_len[i] <= DOC_CERT_MAX
                                 : d->chain_len[i] == 0);
    /* A UserChain is optional, and only in a certify request. */
    check(k == DOC_CERTIFY_REQUEST ? d->user_chain_count <= DOC_USER_CHAIN_MAX
                                   : d->user_chain_count == 0);
    for (size_t i = 0; i < DOC_USER_CHAIN_MAX; i++)
        check(i < d->user_chain_count
                  ? d->user_chain_len[i] > 0 && d->user_chain_len[i] <= DOC_CERT_MAX
                  : d->user_chain_len[i] == 0);
    check(k == DOC_PUBLISH_REQUEST ? d->grant_count >= 1 && d->grant_count <= DOC_GRANTS_MAX
                                   : d->grant_count == 0);
    for (size_t i = 0; i < d->grant_count; i++) {
        check_text(d->grants[i].user, sizeof(d->grants[i].user), DOC_USER_MAX);
        check(d->grants[i].rights != 0 && !(d->grants[i].rights & ~X509_GRANTS_ALL));
        for (size_t j = 0; j < i; j++)
            check(strcmp(d->grants[i].user, d->grants[j].user) != 0);
    }
}

static void fuzz_license(const char *buf, size_t size, enum doc_license_kind k)
{
    static struct doc_license d, again;
    static char xml[DOC_LICENSE_XML_MAX + 1];
    const char *why = NULL;
    size_t len;

    if (doc_license_parse(buf, size, k, &d, &why) != 0) {
        check_why(why);
        check(zero(&d, sizeof(d)));
        return;
    }
    check_license(&d, k);
    check(doc_license_write(&d, xml, sizeof(xml), &len) == 0 && len <= DOC_LICENSE_XML_MAX);
    check(doc_license_parse(xml, len, k, &again, &why) == 0 && same_license(&d, &again));
}

static void fuzz_unarmor(const char *buf, size_t size, const char *label, size_t cap)
{
    static uint8_t out[DOC_XML_MAX], back[DOC_XML_MAX];
    static char text[DOC_ARMOR_TEXT_MAX];
    const char *why = NULL;
    size_t n = 1, m, t;

    memset(out, 0, sizeof(out));
    if (doc_unarmor(buf, size, label, out, cap, &n, &why) != 0) {
        check_why(why);
        check(n == 0 && zero(out, sizeof(out)));
        return;
    }
    check(n <= cap && zero(out + n, sizeof(out) - n));
    check(doc_armor(label, out, n, text, sizeof(text), &t) == 0);
    check(doc_unarmor(text, t, label, back, sizeof(back), &m, &why) == 0);
    check(m == n && memcmp(back, out, n) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct crypto_heap_stats st;
    char *buf = malloc(size ? size : 1);

    if (!buf)
        return 0;
    memcpy(buf, data, size);
    fuzz_request(buf, size);
    fuzz_response(buf, size);
    for (int k = DOC_CERTIFY_REQUEST; k <= DOC_LICENSE_RESPONSE; k++)
        fuzz_license(buf, size, (enum doc_license_kind)k);
    /* every label, and one with a short buffer so that running out is exercised too */
    static const char *const labels[] = {"SIGNET ENROLLMENT REQUEST", "SIGNET RENEWAL REQUEST",
                                         "SIGNET ENROLLMENT RESPONSE", "CERTIFICATE"};
    for (size_t i = 0; i < 4; i++)
        fuzz_unarmor(buf, size, labels[i], DOC_XML_MAX);
    fuzz_unarmor(buf, size, labels[size % 4], 16);
    free(buf);
    crypto_heap_stats(&st);
    check(st.in_use == 0);
    return 0;
}
