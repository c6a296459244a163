/*
 * Unit tests of crypto/x509_crl: CRLs built by our writer and signed by OpenSSL's libcrypto (keys
 * made at run time), read back by our reader and by OpenSSL (X509_CRL_verify, and a chain
 * verified with CRL checking, as `openssl verify -crl_check` does); CRLs made by OpenSSL read by
 * ours, and hostile variants of them refused with one-line reasons.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include "crypto/x509_crl.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "soft_key.h"
#include "unit.h"

#define ARC_TXT "1.2.840.113556.1.8000.2554.23324.11786.32063.19041.40078.3099501.9051703"

static x509_time at(int year, int mon, int day)
{
    x509_time t = {year, mon, day, 12, 0, 0};
    return t;
}

struct cert {
    uint8_t der[2048];
    size_t len;
    struct x509_info info;
};

static struct soft_key root_key, slc_key, other_key, leaf_key;
static struct cert root, slc, leaf, ckek;

static struct x509_issuer issuer_of(struct soft_key *k, const struct cert *c)
{
    struct x509_issuer is = {k->alg, NULL, 0, k->spki, k->spki_len, soft_sign, k};
    if (c) {
        is.name = c->info.subject;
        is.name_len = c->info.subject_len;
    }
    return is;
}

static int issue(struct cert *out, const char *cn, struct soft_key *subject, bool ca,
                 enum x509_kind kind, uint8_t serial_tail, struct soft_key *issuer_key,
                 const struct cert *issuer_cert)
{
    struct x509_profile p = {0};
    const char *why;

    p.cn = cn;
    p.org = "Signet test";
    memset(p.serial, 0x5a, sizeof(p.serial));
    p.serial[15] = serial_tail;
    x509_serial_fix(p.serial);
    p.not_before = at(2026, 1, 1);
    p.not_after = at(2036, 1, 1);
    p.spki = subject->spki;
    p.spki_len = subject->spki_len;
    p.ca = ca;
    p.path_len = ca ? 1 : 0;
    p.rights = ca ? X509_RIGHTS_ALL : 0;
    p.kind = kind;
    p.crl_url = "https://rms.example.test/v1/crl";
    struct x509_issuer is = issuer_of(issuer_key, issuer_cert);
    int ret = x509_build(&p, &is, out->der, sizeof(out->der), &out->len);
    if (ret == 0)
        ret = x509_read(out->der, out->len, &out->info, &why);
    return ret;
}

/* ---- building our CRLs ---- */

static uint8_t crl_buf[X509_CRL_DER_MAX + 64];
static struct x509_crl_entry entries_in[X509_CRL_ENTRIES_MAX + 1];
static struct x509_crl_entry entries_out[X509_CRL_ENTRIES_MAX + 1];
static char excluded_in[X509_CRL_EXCLUDED_MAX + 1][X509_CN_MAX + 1];
static struct x509_crl crl;

static void serial_of(uint8_t s[X509_SERIAL_LEN], uint32_t i)
{
    memset(s, 0, X509_SERIAL_LEN);
    for (int k = 0; k < X509_SERIAL_LEN; k++)
        s[k] = (uint8_t)((i * 2654435761u) >> (k % 4 * 8)) ^ (uint8_t)(k * 37);
    s[12] = (uint8_t)(i >> 24);
    s[13] = (uint8_t)(i >> 16);
    s[14] = (uint8_t)(i >> 8);
    s[15] = (uint8_t)i;
    x509_serial_fix(s);
}

static struct x509_crl_profile profile(size_t count, size_t excluded, uint64_t number)
{
    struct x509_crl_profile p = {0};
    static const uint8_t reasons[5] = {0, 1, 3, 4, 5};

    for (size_t i = 0; i < count; i++) {
        serial_of(entries_in[i].serial, (uint32_t)i + 1);
        entries_in[i].revoked_at = at(2026, 11, 1 + (int)(i % 28));
        entries_in[i].reason = reasons[i % 5];
    }
    for (size_t i = 0; i < excluded; i++)
        snprintf(excluded_in[i], sizeof(excluded_in[i]), "user%zu@contoso.example", i);
    p.number = number;
    p.this_update = at(2026, 12, 1);
    p.next_update = at(2026, 12, 2);
    p.entries = entries_in;
    p.count = count;
    p.excluded = (const char(*)[X509_CN_MAX + 1]) excluded_in;
    p.excluded_count = excluded;
    return p;
}

/* TBS, signed by sign_key (through our issuer callback), assembled: the CRL's length or 0. */
static size_t build(const struct x509_crl_profile *p, struct soft_key *sign_key,
                    const struct cert *issuer)
{
    struct x509_issuer is = issuer_of(sign_key, issuer);
    uint8_t sig[512];
    size_t tbs_len = 0, sig_len = 0, len = 0;

    if (x509_crl_tbs_build(p, &is, crl_buf, sizeof(crl_buf), &tbs_len) != 0 ||
        soft_sign(sign_key, crl_buf + sizeof(crl_buf) - tbs_len, tbs_len, sig, sizeof(sig),
                  &sig_len) != 0 ||
        x509_assemble(&is, crl_buf, sizeof(crl_buf), tbs_len, sig, sig_len, &len) != 0)
        return 0;
    return len;
}

static int read_crl(const uint8_t *der, size_t len, const struct cert *issuer, const char **why)
{
    memset(&crl, 0, sizeof(crl));
    crl.entries = entries_out;
    crl.entries_cap = X509_CRL_ENTRIES_MAX;
    return x509_crl_read(der, len, (struct x509_cert){issuer->der, issuer->len}, &crl, why);
}

static X509 *x509_of(const struct cert *c)
{
    const unsigned char *p = c->der;
    return d2i_X509(NULL, &p, (long)c->len);
}

static X509_CRL *crl_of(const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    X509_CRL *x = d2i_X509_CRL(NULL, &p, (long)len);
    if (x && p != der + len) {
        X509_CRL_free(x);
        return NULL;
    }
    return x;
}

/* OpenSSL's verdict on leaf -> mid -> anchor with the CRLs crls[ncrl] in its store, checking the
 * leaf's issuer's CRL (`openssl verify -crl_check`) or, with all, every issuer's
 * (`-crl_check_all`): X509_V_OK or the error. */
static int openssl_verify_crl(const struct cert *l, const struct cert *mid, const struct cert *anc,
                              X509_CRL **crls, size_t ncrl, bool all)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *chain = sk_X509_new_null();
    X509 *lx = x509_of(l), *ax = x509_of(anc);

    if (mid)
        sk_X509_push(chain, x509_of(mid));
    X509_STORE_add_cert(store, ax);
    for (size_t i = 0; i < ncrl; i++)
        X509_STORE_add_crl(store, crls[i]);
    X509_STORE_CTX_init(ctx, store, lx, chain);
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_time(param, 1796130000); /* 2026-12-01T13:00:00Z */
    X509_VERIFY_PARAM_set_flags(param,
                                X509_V_FLAG_CRL_CHECK | (all ? X509_V_FLAG_CRL_CHECK_ALL : 0));
    int ok = X509_verify_cert(ctx);
    int err = ok == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    sk_X509_pop_free(chain, X509_free);
    X509_free(lx);
    X509_free(ax);
    return err;
}

static EVP_PKEY *pub_of(const struct cert *c)
{
    X509 *x = x509_of(c);
    EVP_PKEY *k = X509_get_pubkey(x);
    X509_free(x);
    return k;
}

TEST(reason_names)
{
    enum x509_crl_reason r = X509_CRL_REASON_UNSPECIFIED;
    const char *why = "";

    CHECK_EQ(x509_crl_reason_parse("keyCompromise", &r, &why), 0);
    CHECK_EQ(r, X509_CRL_REASON_KEY_COMPROMISE);
    CHECK_EQ(x509_crl_reason_parse("affiliationChanged", &r, &why), 0);
    CHECK_EQ(r, 3);
    CHECK_EQ(x509_crl_reason_parse("superseded", &r, &why), 0);
    CHECK_EQ(r, 4);
    CHECK_EQ(x509_crl_reason_parse("cessationOfOperation", &r, &why), 0);
    CHECK_EQ(r, 5);
    static const char *const bad[] = {"keycompromise", "KeyCompromise",   "unspecified",
                                      "cACompromise",  "certificateHold", "",
                                      "keyCompromise "};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why = NULL;
        CHECK_EQ(x509_crl_reason_parse(bad[i], &r, &why), -EINVAL);
        CHECK(why && !strchr(why, '\n'));
    }
    CHECK_STR(x509_crl_reason_name(0), "unspecified");
    CHECK_STR(x509_crl_reason_name(1), "keyCompromise");
    CHECK_STR(x509_crl_reason_name(2), "cACompromise");
    CHECK_STR(x509_crl_reason_name(6), "certificateHold");
    CHECK_STR(x509_crl_reason_name(10), "aACompromise");
    CHECK_STR(x509_crl_reason_name(7), "unknown");
    CHECK_STR(x509_crl_reason_name(11), "unknown");
    CHECK_STR(x509_crl_reason_name(-1), "unknown");
}

static int entry_cmp(const void *a, const void *b)
{
    return memcmp(((const struct x509_crl_entry *)a)->serial,
                  ((const struct x509_crl_entry *)b)->serial, X509_SERIAL_LEN);
}

TEST(heap_sort_and_binary_search_agree_with_qsort_and_a_scan)
{
    static struct x509_crl_entry a[5000], b[5000];
    static const size_t sizes[] = {0, 1, 2, 3, 7, 64, 511, 512, 4999, 5000};
    uint32_t seed = 12345;

    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        size_t n = sizes[s];
        for (size_t i = 0; i < n; i++) {
            for (int k = 0; k < X509_SERIAL_LEN; k++) {
                seed = seed * 1103515245u + 12345u;
                a[i].serial[k] = (uint8_t)(seed >> 16);
            }
            if (s % 3 == 1 && i) /* runs of serials that share long prefixes */
                memcpy(a[i].serial, a[i - 1].serial, X509_SERIAL_LEN - 1);
            a[i].reason = (uint8_t)(i % 11);
        }
        if (s % 3 == 2) /* already sorted, then reversed */
            qsort(a, n, sizeof(a[0]), entry_cmp);
        if (s % 3 == 2)
            for (size_t i = 0; i < n / 2; i++) {
                struct x509_crl_entry t = a[i];
                a[i] = a[n - 1 - i];
                a[n - 1 - i] = t;
            }
        memcpy(b, a, n * sizeof(a[0]));
        x509_crl_sort(a, n);
        qsort(b, n, sizeof(b[0]), entry_cmp);
        for (size_t i = 0; i < n; i++)
            CHECK(memcmp(a[i].serial, b[i].serial, X509_SERIAL_LEN) == 0);
        for (size_t i = 0; i < n; i++) {
            const struct x509_crl_entry *e = x509_crl_search(a, n, b[i].serial);
            CHECK(e && memcmp(e->serial, b[i].serial, X509_SERIAL_LEN) == 0);
            uint8_t miss[X509_SERIAL_LEN];
            memcpy(miss, b[i].serial, X509_SERIAL_LEN);
            miss[X509_SERIAL_LEN - 1] ^= 0x80;
            bool present = false;
            for (size_t j = 0; j < n; j++)
                present |= memcmp(a[j].serial, miss, X509_SERIAL_LEN) == 0;
            CHECK_EQ(x509_crl_search(a, n, miss) != NULL, present);
            /* By prefix: the first entry starting with it, as a scan finds it, or none. */
            for (size_t plen = 1; plen <= X509_SERIAL_LEN; plen += 7) {
                const struct x509_crl_entry *first = NULL;
                for (size_t j = 0; j < n && !first; j++)
                    if (memcmp(a[j].serial, miss, plen) == 0)
                        first = &a[j];
                CHECK(x509_crl_search_prefix(a, n, miss, plen) == first);
                first = NULL;
                for (size_t j = 0; j < n && !first; j++)
                    if (memcmp(a[j].serial, b[i].serial, plen) == 0)
                        first = &a[j];
                CHECK(first && x509_crl_search_prefix(a, n, b[i].serial, plen) == first);
            }
        }
    }
    CHECK(x509_crl_search_prefix(a, 5000, a[0].serial, X509_SERIAL_LEN + 1) == NULL);
    uint8_t any[X509_SERIAL_LEN] = {0x40};
    CHECK(x509_crl_search(NULL, 0, any) == NULL);
}

/* Our CRL, read by us and by OpenSSL: every field as written. */
static void check_our_crl_reads_everywhere(struct soft_key *k, const struct cert *issuer)
{
    const char *why = "";
    struct x509_crl_profile p = profile(7, 3, 0x1234567890ull);
    size_t len = build(&p, k, issuer);
    CHECK(len > 0);
    CHECK_EQ(read_crl(crl_buf, len, issuer, &why), 0);
    CHECK_EQ(crl.number, 0x1234567890ull);
    CHECK_EQ(x509_time_cmp(&crl.this_update, &p.this_update), 0);
    CHECK_EQ(x509_time_cmp(&crl.next_update, &p.next_update), 0);
    CHECK_EQ(crl.count, 7);
    CHECK_EQ(crl.excluded_count, 3);
    CHECK_STR(crl.excluded[2], "user2@contoso.example");
    CHECK(x509_crl_excludes(&crl, "user1@CONTOSO.example"));
    CHECK(!x509_crl_excludes(&crl, "User1@contoso.example"));
    CHECK(!x509_crl_excludes(&crl, "user9@contoso.example"));
    for (size_t i = 1; i < crl.count; i++)
        CHECK(memcmp(crl.entries[i - 1].serial, crl.entries[i].serial, X509_SERIAL_LEN) < 0);
    for (size_t i = 0; i < 7; i++) {
        const struct x509_crl_entry *e = x509_crl_find(&crl, entries_in[i].serial);
        CHECK(e != NULL);
        CHECK_EQ(e->reason, entries_in[i].reason);
        CHECK_EQ(x509_time_cmp(&e->revoked_at, &entries_in[i].revoked_at), 0);
    }
    uint8_t absent[X509_SERIAL_LEN];
    serial_of(absent, 100);
    CHECK(x509_crl_find(&crl, absent) == NULL);

    /* OpenSSL: the signature, the number, the reasons (none where unspecified), the AKI */
    X509_CRL *x = crl_of(crl_buf, len);
    CHECK(x != NULL);
    EVP_PKEY *pub = pub_of(issuer);
    CHECK_EQ(X509_CRL_verify(x, pub), 1);
    EVP_PKEY_free(pub);
    CHECK_EQ(X509_CRL_get_version(x), X509_CRL_VERSION_2);
    ASN1_INTEGER *num = X509_CRL_get_ext_d2i(x, NID_crl_number, NULL, NULL);
    uint64_t n = 0;
    CHECK(num && ASN1_INTEGER_get_uint64(&n, num) == 1 && n == 0x1234567890ull);
    ASN1_INTEGER_free(num);
    AUTHORITY_KEYID *aki = X509_CRL_get_ext_d2i(x, NID_authority_key_identifier, NULL, NULL);
    X509 *ix = x509_of(issuer);
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(ix);
    CHECK(aki && aki->keyid && ski && ASN1_OCTET_STRING_cmp(aki->keyid, ski) == 0);
    CHECK_EQ(X509_NAME_cmp(X509_CRL_get_issuer(x), X509_get_subject_name(ix)), 0);
    AUTHORITY_KEYID_free(aki);
    X509_free(ix);
    STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(x);
    CHECK_EQ(sk_X509_REVOKED_num(revs), 7);
    for (int i = 0; i < 7; i++) {
        X509_REVOKED *r = sk_X509_REVOKED_value(revs, i);
        const ASN1_INTEGER *sn = X509_REVOKED_get0_serialNumber(r);
        CHECK_EQ(sn->length, X509_SERIAL_LEN);
        CHECK(memcmp(sn->data, entries_in[i].serial, X509_SERIAL_LEN) == 0); /* order given */
        int crit = -1;
        ASN1_ENUMERATED *reason = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, &crit, NULL);
        if (entries_in[i].reason == 0) {
            CHECK(reason == NULL && crit == -1);
        } else {
            CHECK(reason && ASN1_ENUMERATED_get(reason) == entries_in[i].reason && crit == 0);
        }
        ASN1_ENUMERATED_free(reason);
    }
    /* ARC.8 non-critical, the names as a SEQUENCE OF UTF8String */
    ASN1_OBJECT *arc8 = OBJ_txt2obj(ARC_TXT ".8", 1);
    int idx = X509_CRL_get_ext_by_OBJ(x, arc8, -1);
    CHECK(idx >= 0);
    X509_EXTENSION *ext = X509_CRL_get_ext(x, idx);
    CHECK_EQ(X509_EXTENSION_get_critical(ext), 0);
    const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(ext);
    CHECK(v->length > 2 && v->data[0] == 0x30 && v->data[2] == 0x0c);
    ASN1_OBJECT_free(arc8);
    X509_CRL_free(x);
}

TEST(our_crl_reads_back_here_and_in_openssl_ec_and_rsa_issuers)
{
    check_our_crl_reads_everywhere(&slc_key, &slc);
    if (unit_current_failed)
        return;
    check_our_crl_reads_everywhere(&root_key, &root);
}

TEST(openssl_chain_verification_with_our_crls)
{
    const char *why = "";
    /* the SLC's CRL revokes the leaf; the root's CRL is empty */
    struct x509_crl_profile p = profile(3, 0, 2);
    memcpy(entries_in[1].serial, leaf.info.serial, X509_SERIAL_LEN);
    size_t len = build(&p, &slc_key, &slc);
    CHECK(len > 0);
    X509_CRL *slc_crl = crl_of(crl_buf, len);
    struct x509_crl_profile empty = profile(0, 0, 1);
    len = build(&empty, &root_key, &root);
    CHECK(len > 0);
    CHECK_EQ(read_crl(crl_buf, len, &root, &why), 0);
    CHECK_EQ(crl.count, 0);
    X509_CRL *root_crl = crl_of(crl_buf, len);
    CHECK(slc_crl && root_crl);
    X509_CRL *both[2] = {slc_crl, root_crl};
    CHECK_EQ(openssl_verify_crl(&leaf, &slc, &root, both, 2, true), X509_V_ERR_CERT_REVOKED);
    CHECK_EQ(openssl_verify_crl(&ckek, &slc, &root, both, 2, true), X509_V_OK);
    CHECK_EQ(openssl_verify_crl(&slc, NULL, &root, both + 1, 1, false), X509_V_OK);
    /* without the SLC's CRL, checking the whole chain fails closed */
    CHECK_EQ(openssl_verify_crl(&ckek, &slc, &root, both + 1, 1, true),
             X509_V_ERR_UNABLE_TO_GET_CRL);
    /* the root's CRL revoking the SLC: the whole chain below it is refused */
    p = profile(1, 0, 3);
    memcpy(entries_in[0].serial, slc.info.serial, X509_SERIAL_LEN);
    len = build(&p, &root_key, &root);
    X509_CRL *revoking = crl_of(crl_buf, len);
    X509_CRL *both2[2] = {slc_crl, revoking};
    CHECK_EQ(openssl_verify_crl(&ckek, &slc, &root, both2, 2, true), X509_V_ERR_CERT_REVOKED);
    CHECK_EQ(read_crl(crl_buf, len, &root, &why), 0);
    CHECK(x509_crl_find(&crl, slc.info.serial) != NULL);
    X509_CRL_free(slc_crl);
    X509_CRL_free(root_crl);
    X509_CRL_free(revoking);
}

TEST(the_largest_list_builds_signs_and_reads_within_the_limits)
{
    const char *why = "";
    struct x509_crl_profile p = profile(X509_CRL_ENTRIES_MAX, X509_CRL_EXCLUDED_MAX, 99);
    for (size_t i = 0; i < X509_CRL_EXCLUDED_MAX; i++) /* the longest names */
        snprintf(excluded_in[i], sizeof(excluded_in[i]), "%048zu@contoso.example", i);
    CHECK_EQ(strlen(excluded_in[0]), X509_CN_MAX);
    struct timespec t0, t1, t2;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t len = build(&p, &slc_key, &slc);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK(len > 0 && len <= X509_CRL_DER_MAX);
    CHECK_EQ(read_crl(crl_buf, len, &slc, &why), 0);
    clock_gettime(CLOCK_MONOTONIC, &t2);
    printf("# %d entries, %d names: %zu bytes; built+signed %.1f ms, read+verified+sorted %.1f ms"
           " (ASan build)\n",
           X509_CRL_ENTRIES_MAX, X509_CRL_EXCLUDED_MAX, len,
           (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
           (double)(t2.tv_sec - t1.tv_sec) * 1e3 + (double)(t2.tv_nsec - t1.tv_nsec) / 1e6);
    CHECK_EQ(crl.count, X509_CRL_ENTRIES_MAX);
    CHECK_EQ(crl.excluded_count, X509_CRL_EXCLUDED_MAX);
    for (size_t i = 0; i < X509_CRL_ENTRIES_MAX; i += 97)
        CHECK(x509_crl_find(&crl, entries_in[i].serial) != NULL);
    CHECK(x509_crl_find(&crl, entries_in[X509_CRL_ENTRIES_MAX - 1].serial) != NULL);
    X509_CRL *x = crl_of(crl_buf, len);
    EVP_PKEY *pub = pub_of(&slc);
    CHECK(x && X509_CRL_verify(x, pub) == 1);
    CHECK_EQ(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(x)), X509_CRL_ENTRIES_MAX);
    EVP_PKEY_free(pub);
    X509_CRL_free(x);
    /* a reader with less room says so */
    crl.entries_cap = 100;
    CHECK_EQ(x509_crl_read(crl_buf, len, (struct x509_cert){slc.der, slc.len}, &crl, &why), -E2BIG);
    CHECK_STR(why, "more entries than there is room for");
    /* one more entry or name: not built */
    p.count = X509_CRL_ENTRIES_MAX + 1;
    CHECK_EQ(build(&p, &slc_key, &slc), 0);
    p.count = X509_CRL_ENTRIES_MAX;
    p.excluded_count = X509_CRL_EXCLUDED_MAX + 1;
    CHECK_EQ(build(&p, &slc_key, &slc), 0);
    /* more than the DER limit: refused before anything is parsed */
    CHECK_EQ(read_crl(crl_buf, X509_CRL_DER_MAX + 1, &slc, &why), -E2BIG);
    CHECK_STR(why, "larger than 1 MiB");
}

TEST(build_refuses_bad_profiles_and_small_buffers)
{
    struct x509_crl_profile p = profile(3, 1, 5);
    struct x509_issuer is = issuer_of(&slc_key, &slc);
    size_t tbs_len = 0;
    static uint8_t small[600];

    CHECK_EQ(x509_crl_tbs_build(&p, &is, crl_buf, sizeof(crl_buf), &tbs_len), 0);
    CHECK_EQ(x509_crl_tbs_build(&p, &is, small, 100, &tbs_len), -ENOSPC);
    p.number = 0;
    CHECK_EQ(x509_crl_tbs_build(&p, &is, crl_buf, sizeof(crl_buf), &tbs_len), -EINVAL);
    p = profile(3, 1, 5);
    p.next_update = p.this_update;
    CHECK_EQ(x509_crl_tbs_build(&p, &is, crl_buf, sizeof(crl_buf), &tbs_len), -EINVAL);
    p = profile(3, 1, 5);
    entries_in[1].reason = 2; /* cACompromise: not ours to give */
    CHECK_EQ(x509_crl_tbs_build(&p, &is, crl_buf, sizeof(crl_buf), &tbs_len), -EINVAL);
    p = profile(3, 1, 5);
    entries_in[2].serial[0] = 0x80; /* negative */
    CHECK_EQ(x509_crl_tbs_build(&p, &is, crl_buf, sizeof(crl_buf), &tbs_len), -EINVAL);
    entries_in[2].serial[0] = 0x00; /* not minimal */
    CHECK_EQ(x509_crl_tbs_build(&p, &is, crl_buf, sizeof(crl_buf), &tbs_len), -EINVAL);
    p = profile(3, 1, 5);
    strcpy(excluded_in[0], "no-domain");
    CHECK_EQ(x509_crl_tbs_build(&p, &is, crl_buf, sizeof(crl_buf), &tbs_len), -EINVAL);
    p = profile(3, 1, 5);
    entries_in[0].revoked_at.mon = 13;
    CHECK_EQ(x509_crl_tbs_build(&p, &is, crl_buf, sizeof(crl_buf), &tbs_len), -EINVAL);
    p = profile(3, 1, 5);
    p.entries = NULL;
    CHECK_EQ(x509_crl_tbs_build(&p, &is, crl_buf, sizeof(crl_buf), &tbs_len), -EINVAL);
    p = profile(3, 1, 5);
    is.name = NULL; /* a CRL always names its issuer */
    CHECK_EQ(x509_crl_tbs_build(&p, &is, crl_buf, sizeof(crl_buf), &tbs_len), -EINVAL);
    /* GeneralizedTime from 2050, as certificates */
    is = issuer_of(&slc_key, &slc);
    p.this_update = at(2049, 12, 31);
    p.next_update = at(2050, 1, 1);
    size_t len = build(&p, &slc_key, &slc);
    const char *why = "";
    CHECK(len > 0);
    CHECK_EQ(read_crl(crl_buf, len, &slc, &why), 0);
    CHECK_EQ(crl.this_update.year, 2049);
    CHECK_EQ(crl.next_update.year, 2050);
    X509_CRL *x = crl_of(crl_buf, len);
    CHECK(x && ASN1_STRING_type(X509_CRL_get0_nextUpdate(x)) == V_ASN1_GENERALIZEDTIME &&
          ASN1_STRING_type(X509_CRL_get0_lastUpdate(x)) == V_ASN1_UTCTIME);
    X509_CRL_free(x);
}

/* ---- CRLs made by OpenSSL, and hostile ones ---- */

struct ossl_opts {
    int version; /* X509_CRL_VERSION_2 */
    bool no_number, no_aki, no_next, critical_idp, dup_serial, critical_entry_ext, sha1;
    bool wrong_aki, two_numbers, reason_unspecified, bad_excluded, many_excluded, next_first;
    int serial_len; /* 16 */
    long number;    /* 1 */
    EVP_PKEY *sign; /* slc_key */
    const struct cert *issuer_name;
};

static void add_raw_ext(X509_CRL *x, const char *oid, bool critical, const void *der, size_t n)
{
    ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING_set(os, der, (int)n);
    X509_EXTENSION *e = X509_EXTENSION_create_by_OBJ(NULL, o, critical, os);
    X509_CRL_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(o);
}

static void add_revoked(X509_CRL *x, int serial_len, uint8_t tail, int reason, bool crit_ext)
{
    X509_REVOKED *r = X509_REVOKED_new();
    uint8_t sn[20];
    memset(sn, 0x41, sizeof(sn));
    sn[serial_len - 1] = tail;
    ASN1_INTEGER *i = ASN1_INTEGER_new();
    BIGNUM *bn = BN_bin2bn(sn, serial_len, NULL);
    BN_to_ASN1_INTEGER(bn, i);
    X509_REVOKED_set_serialNumber(r, i);
    ASN1_TIME *t = ASN1_TIME_set(NULL, 1795000000);
    X509_REVOKED_set_revocationDate(r, t);
    if (reason >= 0) {
        ASN1_ENUMERATED *e = ASN1_ENUMERATED_new();
        ASN1_ENUMERATED_set(e, reason);
        X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, e, 0, 0);
        ASN1_ENUMERATED_free(e);
    }
    if (crit_ext) {
        ASN1_OBJECT *o = OBJ_txt2obj(ARC_TXT ".99", 1);
        ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
        ASN1_OCTET_STRING_set(os, (const unsigned char *)"\x05\x00", 2);
        X509_EXTENSION *e = X509_EXTENSION_create_by_OBJ(NULL, o, 1, os);
        X509_REVOKED_add_ext(r, e, -1);
        X509_EXTENSION_free(e);
        ASN1_OCTET_STRING_free(os);
        ASN1_OBJECT_free(o);
    }
    X509_CRL_add0_revoked(x, r);
    ASN1_TIME_free(t);
    ASN1_INTEGER_free(i);
    BN_free(bn);
}

static size_t ossl_crl(const struct ossl_opts *o, uint8_t *out, size_t cap)
{
    X509_CRL *x = X509_CRL_new();
    X509 *ix = x509_of(o->issuer_name ? o->issuer_name : &slc);
    X509 *sx = x509_of(&slc);

    X509_CRL_set_version(x, o->version);
    X509_CRL_set_issuer_name(x, X509_get_subject_name(ix));
    ASN1_TIME *t = ASN1_TIME_set(NULL, 1796000000);
    X509_CRL_set1_lastUpdate(x, t);
    ASN1_TIME_set(t, o->next_first ? 1795999999 : 1796500000);
    if (!o->no_next)
        X509_CRL_set1_nextUpdate(x, t);
    add_revoked(x, o->serial_len, 1, o->reason_unspecified ? 0 : 1, false);
    add_revoked(x, o->serial_len, 2, -1, o->critical_entry_ext);
    add_revoked(x, o->serial_len, o->dup_serial ? 1 : 3, 5, false);
    if (!o->no_aki) {
        const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(sx);
        AUTHORITY_KEYID *aki = AUTHORITY_KEYID_new();
        aki->keyid = ASN1_OCTET_STRING_dup(ski);
        if (o->wrong_aki)
            aki->keyid->data[0] ^= 1;
        X509_CRL_add1_ext_i2d(x, NID_authority_key_identifier, aki, 0, 0);
        AUTHORITY_KEYID_free(aki);
    }
    if (!o->no_number) {
        ASN1_INTEGER *n = ASN1_INTEGER_new();
        ASN1_INTEGER_set(n, o->number);
        X509_CRL_add1_ext_i2d(x, NID_crl_number, n, 0, 0);
        if (o->two_numbers)
            X509_CRL_add1_ext_i2d(x, NID_crl_number, n, 0, X509V3_ADD_APPEND);
        ASN1_INTEGER_free(n);
    }
    if (o->critical_idp) /* issuingDistributionPoint, onlyContainsUserCerts */
        add_raw_ext(x, "2.5.29.28", true, "\x30\x03\x81\x01\xff", 5);
    if (o->bad_excluded)
        add_raw_ext(x, ARC_TXT ".8", false,
                    "\x30\x05\x0c\x03"
                    "bob",
                    7);
    if (o->many_excluded) {
        static uint8_t names[2 + 4 + 129 * 13];
        size_t n = 0;
        for (int i = 0; i < 129; i++) {
            names[6 + n++] = 0x0c;
            names[6 + n++] = 11;
            memcpy(names + 6 + n, "u@e.example", 11);
            n += 11;
        }
        names[0] = 0x30;
        names[1] = 0x82;
        names[2] = (uint8_t)(n >> 8);
        names[3] = (uint8_t)n;
        memmove(names + 4, names + 6, n);
        add_raw_ext(x, ARC_TXT ".8", false, names, n + 4);
    }
    X509_CRL_sign(x, o->sign ? o->sign : slc_key.pkey, o->sha1 ? EVP_sha1() : EVP_sha256());
    unsigned char *p = out;
    int n = i2d_X509_CRL(x, NULL);
    size_t len = 0;
    if (n > 0 && (size_t)n <= cap && i2d_X509_CRL(x, &p) == n)
        len = (size_t)n;
    ASN1_TIME_free(t);
    X509_free(ix);
    X509_free(sx);
    X509_CRL_free(x);
    return len;
}

static struct ossl_opts defaults(void)
{
    struct ossl_opts o = {0};
    o.version = X509_CRL_VERSION_2;
    o.serial_len = X509_SERIAL_LEN;
    o.number = 1;
    return o;
}

TEST(openssl_made_crls_read_here)
{
    static uint8_t der[8192];
    const char *why = "";
    struct ossl_opts o = defaults();

    o.number = 4242;
    size_t len = ossl_crl(&o, der, sizeof(der));
    CHECK(len > 0);
    CHECK_EQ(read_crl(der, len, &slc, &why), 0);
    CHECK_EQ(crl.number, 4242);
    CHECK_EQ(crl.count, 3);
    CHECK_EQ(crl.excluded_count, 0);
    CHECK_EQ(crl.this_update.year, 2026);
    CHECK_EQ(crl.entries[0].reason, 1);
    CHECK_EQ(crl.entries[1].reason, 0);
    CHECK_EQ(crl.entries[2].reason, 5);
    /* no AKI at all is fine (it is checked only when present); reasonCode 0 written out too */
    o = defaults();
    o.no_aki = true;
    o.reason_unspecified = true;
    len = ossl_crl(&o, der, sizeof(der));
    CHECK_EQ(read_crl(der, len, &slc, &why), 0);
    CHECK_EQ(crl.entries[0].reason, 0);
    /* a cRLNumber of 64 bits reads; more does not */
    o = defaults();
    o.number = 0x7fffffffffffffffL;
    len = ossl_crl(&o, der, sizeof(der));
    CHECK_EQ(read_crl(der, len, &slc, &why), 0);
    CHECK_EQ(crl.number, 0x7fffffffffffffffull);
}

TEST(hostile_crls_are_refused_with_one_line_reasons)
{
    static uint8_t der[8192];
    static const struct {
        const char *what;
        const char *why; /* NULL: any one-line reason */
        int ret;
    } cases[] = {
        {"v1", "not a v2 CRL", -EINVAL},
        {"no cRLNumber", "the CRL has no cRLNumber", -EINVAL},
        {"no nextUpdate", NULL, -EINVAL},
        {"critical issuingDistributionPoint", "a critical extension is not understood", -EINVAL},
        {"duplicate serial", "a serial appears twice in the CRL", -EINVAL},
        {"critical entry extension", "a critical extension is not understood", -EINVAL},
        {"sha1", "bad signature", -EINVAL},
        {"wrong AKI", "the CRL's authority key identifier is not the issuer's key", -EINVAL},
        {"two cRLNumbers", "malformed or too large cRLNumber", -EINVAL},
        {"15-octet serials", "a CRL entry's serial is not a 16-octet Signet serial", -EINVAL},
        {"20-octet serials", "a CRL entry's serial is not a 16-octet Signet serial", -EINVAL},
        {"another key", "bad signature", -EINVAL},
        {"another issuer name", "not issued by root1", -EINVAL},
        {"excluded name without domain", "malformed signetExcludedUsers extension", -EINVAL},
        {"129 excluded names", "more than 128 excluded users", -E2BIG},
        {"nextUpdate first", "the CRL's nextUpdate is before its thisUpdate", -EINVAL},
    };
    const char *why;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ossl_opts o = defaults();
        const struct cert *against = &slc;
        switch (i) {
        case 0:
            o.version = X509_CRL_VERSION_1;
            break;
        case 1:
            o.no_number = true;
            break;
        case 2:
            o.no_next = true;
            break;
        case 3:
            o.critical_idp = true;
            break;
        case 4:
            o.dup_serial = true;
            break;
        case 5:
            o.critical_entry_ext = true;
            break;
        case 6:
            o.sha1 = true;
            break;
        case 7:
            o.wrong_aki = true;
            break;
        case 8:
            o.two_numbers = true;
            break;
        case 9:
            o.serial_len = 15;
            break;
        case 10:
            o.serial_len = 20;
            break;
        case 11:
            o.sign = other_key.pkey;
            break;
        case 12:
            o.issuer_name = &root;
            against = &slc;
            break;
        case 13:
            o.bad_excluded = true;
            break;
        case 14:
            o.many_excluded = true;
            break;
        case 15:
            o.next_first = true;
            break;
        }
        size_t len = ossl_crl(&o, der, sizeof(der));
        CHECK(len > 0);
        why = NULL;
        int ret = read_crl(der, len, against, &why);
        if (ret != cases[i].ret || !why || strchr(why, '\n') ||
            (cases[i].why && strcmp(why, cases[i].why) != 0)) {
            printf("# %s: %d %s\n", cases[i].what, ret, why ? why : "(null)");
            CHECK(0);
        }
        CHECK_EQ(crl.count, 0); /* nothing half-read is left to use */
    }
    /* the issuer named in the CRL, but its key may not sign CRLs (a CKEK certificate) */
    struct ossl_opts o = defaults();
    o.issuer_name = &ckek;
    o.sign = leaf_key.pkey;
    size_t len = ossl_crl(&o, der, sizeof(der));
    CHECK_EQ(read_crl(der, len, &ckek, &why), -EINVAL);
    CHECK_STR(why, "the issuer's certificate may not sign CRLs");
    /* not even an issuer certificate */
    CHECK_EQ(x509_crl_read(der, len, (struct x509_cert){der, len}, &crl, &why), -EINVAL);
    CHECK_STR(why, "the CRL's issuer is not a certificate Signet can read");
}

TEST(truncated_extended_and_flipped_crls_are_refused)
{
    static uint8_t der[4096], copy[4096 + 1];
    const char *why;
    struct x509_crl_profile p = profile(3, 2, 9);
    size_t len = build(&p, &slc_key, &slc);
    CHECK(len > 0 && len < sizeof(der));
    memcpy(der, crl_buf, len);
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *h = malloc(cut ? cut : 1); /* exactly as long: ASan sees a read past it */
        memcpy(h, der, cut);
        why = NULL;
        int ret = read_crl(h, cut, &slc, &why);
        free(h);
        CHECK(ret == -EINVAL && why && !strchr(why, '\n'));
    }
    memcpy(copy, der, len);
    copy[len] = 0;
    CHECK_EQ(read_crl(copy, len + 1, &slc, &why), -EINVAL);
    CHECK_STR(why, "not a CRL");
    /* every byte of the signed part changed: refused, never read as something else */
    size_t refused = 0;
    for (size_t i = 0; i < len; i++) {
        memcpy(copy, der, len);
        copy[i] ^= 0x01;
        if (read_crl(copy, len, &slc, &why) != 0)
            refused++;
    }
    /* only the signature's last bits (ECDSA's DER integers are checked too) may be read as it is */
    CHECK(refused >= len - 1);
    memcpy(copy, der, len);
    CHECK_EQ(read_crl(copy, len, &slc, &why), 0);
}

/* The token signs a digest when the TBS is large (a DigestInfo with CKM_RSA_PKCS, the bare hash
 * with CKM_ECDSA): a signature made that way is the same CRL signature. */
TEST(signatures_over_a_digest_make_the_same_crl)
{
    static const uint8_t sha256_prefix[19] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
                                              0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                                              0x01, 0x05, 0x00, 0x04, 0x20};
    struct soft_key *keys[2] = {&root_key, &slc_key};
    const struct cert *certs[2] = {&root, &slc};
    const char *why = "";

    for (int k = 0; k < 2; k++) {
        struct x509_crl_profile p = profile(600, 4, 11);
        struct x509_issuer is = issuer_of(keys[k], certs[k]);
        size_t tbs_len = 0, len = 0, sig_len = 512;
        uint8_t digest_info[19 + 32], sig[512];
        CHECK_EQ(x509_crl_tbs_build(&p, &is, crl_buf, sizeof(crl_buf), &tbs_len), 0);
        CHECK(tbs_len > 8192);
        memcpy(digest_info, sha256_prefix, sizeof(sha256_prefix));
        EVP_Digest(crl_buf + sizeof(crl_buf) - tbs_len, tbs_len, digest_info + 19, NULL,
                   EVP_sha256(), NULL);
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(keys[k]->pkey, NULL);
        CHECK(EVP_PKEY_sign_init(ctx) == 1);
        if (k == 0) { /* raw PKCS#1 v1.5 over the DigestInfo, as CKM_RSA_PKCS */
            CHECK(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1);
            CHECK(EVP_PKEY_sign(ctx, sig, &sig_len, digest_info, sizeof(digest_info)) == 1);
        } else { /* ECDSA over the hash (OpenSSL gives DER, as the token's wrapper does) */
            CHECK(EVP_PKEY_sign(ctx, sig, &sig_len, digest_info + 19, 32) == 1);
        }
        EVP_PKEY_CTX_free(ctx);
        CHECK_EQ(x509_assemble(&is, crl_buf, sizeof(crl_buf), tbs_len, sig, sig_len, &len), 0);
        CHECK_EQ(read_crl(crl_buf, len, certs[k], &why), 0);
        CHECK_EQ(crl.count, 600);
        X509_CRL *x = crl_of(crl_buf, len);
        EVP_PKEY *pub = pub_of(certs[k]);
        CHECK(x && X509_CRL_verify(x, pub) == 1);
        EVP_PKEY_free(pub);
        X509_CRL_free(x);
    }
}

TEST(pem_round_trip_and_openssl_reads_our_pem)
{
    static char pem[8192];
    static uint8_t back[4096];
    const char *why = "";
    size_t len = build(&(struct x509_crl_profile){0}, &slc_key, &slc);
    CHECK_EQ(len, 0); /* an empty profile (number 0) is refused */
    struct x509_crl_profile p = profile(5, 1, 3);
    len = build(&p, &slc_key, &slc);
    CHECK(len > 0);
    size_t plen = 0, blen = 0;
    CHECK_EQ(x509_crl_pem_write(crl_buf, len, pem, sizeof(pem), &plen), 0);
    CHECK_EQ(plen, strlen(pem));
    CHECK(strncmp(pem, "-----BEGIN X509 CRL-----\n", 25) == 0);
    CHECK(strcmp(pem + plen - 23, "-----END X509 CRL-----\n") == 0);
    for (const char *l = strchr(pem, '\n') + 1; *l != '-'; l = strchr(l, '\n') + 1)
        CHECK(strchr(l, '\n') - l <= 64);
    BIO *bio = BIO_new_mem_buf(pem, (int)plen);
    X509_CRL *x = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
    EVP_PKEY *pub = pub_of(&slc);
    CHECK(x && X509_CRL_verify(x, pub) == 1);
    EVP_PKEY_free(pub);
    X509_CRL_free(x);
    BIO_free(bio);
    CHECK_EQ(x509_crl_pem_write(crl_buf, len, pem, plen, &plen), -ENOSPC);
    CHECK_EQ(x509_crl_pem_write(crl_buf, len, pem, sizeof(pem), &plen), 0);
    /* read back from amid other text, with CRLF line ends, not NUL-terminated */
    static char text[9000];
    int n = snprintf(text, sizeof(text), "pasted:\r\n");
    for (const char *s = pem; *s; s++) {
        if (*s == '\n')
            text[n++] = '\r';
        text[n++] = *s;
    }
    memcpy(text + n, "signet# ", 8);
    n += 8;
    CHECK_EQ(x509_crl_pem_read(text, (size_t)n, back, sizeof(back), &blen), 0);
    CHECK(blen == len && memcmp(back, crl_buf, len) == 0);
    CHECK_EQ(read_crl(back, blen, &slc, &why), 0);
    CHECK_EQ(x509_crl_pem_read(text, (size_t)n, back, len - 1, &blen), -ENOSPC);
    /* no END, no BEGIN, a certificate's label, garbage inside */
    CHECK_EQ(x509_crl_pem_read(pem, plen - 10, back, sizeof(back), &blen), -EINVAL);
    CHECK_EQ(x509_crl_pem_read(pem + 1, plen - 1, back, sizeof(back), &blen), -EINVAL);
    CHECK_EQ(x509_crl_pem_read("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 58,
                               back, sizeof(back), &blen),
             -EINVAL);
    const char *bad = "-----BEGIN X509 CRL-----\nMII*\n-----END X509 CRL-----\n";
    CHECK_EQ(x509_crl_pem_read(bad, strlen(bad), back, sizeof(back), &blen), -EINVAL);
    const char *empty = "-----BEGIN X509 CRL-----\n-----END X509 CRL-----\n";
    CHECK_EQ(x509_crl_pem_read(empty, strlen(empty), back, sizeof(back), &blen), -EINVAL);
}

int main(void)
{
    key_new(&root_key, X509_KEY_RSA);
    key_new(&slc_key, X509_KEY_EC);
    key_new(&other_key, X509_KEY_EC);
    key_new(&leaf_key, X509_KEY_RSA);
    if (issue(&root, "Signet Enrollment Authority", &root_key, true, X509_KIND_NONE, 1, &root_key,
              NULL) != 0 ||
        issue(&slc, "root1", &slc_key, true, X509_KIND_NONE, 2, &root_key, &root) != 0 ||
        issue(&leaf, "alice@contoso.example", &leaf_key, false, X509_KIND_RAC, 3, &slc_key, &slc) !=
            0 ||
        issue(&ckek, "root1 CKEK", &leaf_key, false, X509_KIND_CKEK, 4, &slc_key, &slc) != 0) {
        printf("not ok - setup: the hierarchy does not build\n");
        return 1;
    }
    RUN(reason_names);
    RUN(heap_sort_and_binary_search_agree_with_qsort_and_a_scan);
    RUN(our_crl_reads_back_here_and_in_openssl_ec_and_rsa_issuers);
    RUN(openssl_chain_verification_with_our_crls);
    RUN(the_largest_list_builds_signs_and_reads_within_the_limits);
    RUN(build_refuses_bad_profiles_and_small_buffers);
    RUN(openssl_made_crls_read_here);
    RUN(hostile_crls_are_refused_with_one_line_reasons);
    RUN(truncated_extended_and_flipped_crls_are_refused);
    RUN(signatures_over_a_digest_make_the_same_crl);
    RUN(pem_round_trip_and_openssl_reads_our_pem);
    EVP_PKEY_free(root_key.pkey);
    EVP_PKEY_free(slc_key.pkey);
    EVP_PKEY_free(other_key.pkey);
    EVP_PKEY_free(leaf_key.pkey);
    return unit_summary();
}
