/*
 * Unit tests of crypto/x509: certificates and PKCS#10 built by our writer, signed by OpenSSL's
 * libcrypto with keys made at run time (so no key material is stored anywhere), then read and
 * verified by our mbedTLS-based code — and parsed and checked by OpenSSL as well, which is the
 * interoperability that matters (DESIGN.md: every chain must pass `openssl verify`).
 */
#include "crypto/x509.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <string.h>

#include "unit.h"

/* A key pair in OpenSSL's memory, for this test run only. */
struct soft_key {
    EVP_PKEY *pkey;
    enum x509_key_alg alg;
    uint8_t spki[X509_SPKI_MAX];
    size_t spki_len;
};

static void key_new(struct soft_key *k, enum x509_key_alg alg)
{
    k->alg = alg;
    k->pkey = alg == X509_KEY_RSA ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
    unsigned char *p = k->spki;
    int n = i2d_PUBKEY(k->pkey, &p);
    k->spki_len = n > 0 ? (size_t)n : 0;
}

static int soft_sign(void *ctx, const uint8_t *tbs, size_t len, uint8_t *sig, size_t cap,
                     size_t *sig_len)
{
    struct soft_key *k = ctx;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    size_t n = cap;
    int ok = EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k->pkey) == 1 &&
             EVP_DigestSign(md, sig, &n, tbs, len) == 1;
    EVP_MD_CTX_free(md);
    *sig_len = n;
    return ok ? 0 : -1;
}

static x509_time at(int year, int mon, int day)
{
    x509_time t = {year, mon, day, 12, 0, 0};
    return t;
}

static const x509_time now_t = {2026, 11, 25, 12, 0, 0};

/* Certificate DER plus what issuing from it needs. */
struct cert {
    uint8_t der[2048];
    size_t len;
    struct x509_info info;
};

static struct x509_issuer issuer_of(struct soft_key *k, const struct cert *c)
{
    struct x509_issuer is = {k->alg, NULL, 0, k->spki, k->spki_len, soft_sign, k};
    if (c) {
        is.name = c->info.subject;
        is.name_len = c->info.subject_len;
    }
    return is;
}

static int issue(struct cert *out, const char *cn, struct soft_key *subject, bool ca, int path,
                 uint32_t rights, struct soft_key *issuer_key, const struct cert *issuer_cert,
                 x509_time nb, x509_time na)
{
    struct x509_profile p = {0};
    const char *why;

    p.cn = cn;
    p.org = "Signet test";
    memset(p.serial, 0x5a, sizeof(p.serial));
    p.serial[15] = (uint8_t)strlen(cn);
    x509_serial_fix(p.serial);
    p.not_before = nb;
    p.not_after = na;
    p.spki = subject->spki;
    p.spki_len = subject->spki_len;
    p.ca = ca;
    p.path_len = path;
    p.rights = rights;
    p.cluster_url = "https://rms.example.test/";
    p.sku = "Signet Root";
    p.version = "0.1.0";
    struct x509_issuer is = issuer_of(issuer_key, issuer_cert);
    int ret = x509_build(&p, &is, out->der, sizeof(out->der), &out->len);
    if (ret == 0)
        ret = x509_read(out->der, out->len, &out->info, &why);
    return ret;
}

static struct soft_key root_key, slc_key, lic_key, other_key;
static struct cert root, slc, lic;

static void make_hierarchy(void)
{
    key_new(&root_key, X509_KEY_RSA);
    key_new(&slc_key, X509_KEY_EC);
    key_new(&lic_key, X509_KEY_RSA);
    key_new(&other_key, X509_KEY_RSA);
}

/* OpenSSL's own verdict on leaf, with untrusted intermediates, against the anchor. */
static int openssl_verify(const struct cert *leaf, const struct cert *mid, const struct cert *anc)
{
    const unsigned char *p;
    X509 *l, *a, *m = NULL;
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *chain = sk_X509_new_null();

    p = leaf->der;
    l = d2i_X509(NULL, &p, (long)leaf->len);
    p = anc->der;
    a = d2i_X509(NULL, &p, (long)anc->len);
    if (mid) {
        p = mid->der;
        m = d2i_X509(NULL, &p, (long)mid->len);
        sk_X509_push(chain, m);
    }
    X509_STORE_add_cert(store, a);
    X509_STORE_CTX_init(ctx, store, l, chain);
    X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), 1795000000); /* 2026-11-18 */
    int ok = X509_verify_cert(ctx);
    int err = X509_STORE_CTX_get_error(ctx);
    if (ok != 1)
        printf("# openssl: %s\n", X509_verify_cert_error_string(err));
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    sk_X509_pop_free(chain, X509_free);
    X509_free(l);
    X509_free(a);
    return ok == 1 ? 0 : -1;
}

TEST(root_slc_and_licensing_slc_verify_here_and_in_openssl)
{
    const char *why = "";
    CHECK_EQ(issue(&root, "Signet Enrollment Authority", &root_key, true, -1, X509_RIGHTS_ALL,
                   &root_key, NULL, at(2026, 1, 1), at(2046, 1, 1)),
             0);
    CHECK(root.info.ca && root.info.path_len == -1 && root.info.rights == X509_RIGHTS_ALL);
    CHECK_STR(root.info.cn, "Signet Enrollment Authority");
    CHECK_EQ(issue(&slc, "root1", &slc_key, true, 1, X509_RIGHTS_ALL, &root_key, &root,
                   at(2026, 11, 1), at(2027, 11, 1)),
             0);
    CHECK(slc.info.ca && slc.info.path_len == 1);
    CHECK_STR(slc.info.cluster_url, "https://rms.example.test/");
    CHECK_STR(slc.info.sku, "Signet Root");
    CHECK_STR(slc.info.version, "0.1.0");
    CHECK(slc.info.spki_len == slc_key.spki_len &&
          memcmp(slc.info.spki, slc_key.spki, slc_key.spki_len) == 0);
    CHECK_EQ(issue(&lic, "licensing1", &lic_key, true, 0,
                   X509_RIGHT_ISSUE_USE | X509_RIGHT_ISSUE_PUBLISH, &slc_key, &slc, at(2026, 11, 2),
                   at(2027, 11, 1)),
             0);
    struct x509_cert chain[2] = {{slc.der, slc.len}, {root.der, root.len}};
    struct x509_cert anchor = {root.der, root.len};
    CHECK_EQ(x509_chain_verify((struct x509_cert){slc.der, slc.len}, chain + 1, 1, anchor, &now_t,
                               X509_RIGHT_SUBENROLL, &why),
             0);
    CHECK_EQ(x509_chain_verify((struct x509_cert){lic.der, lic.len}, chain, 2, anchor, &now_t,
                               X509_RIGHT_ISSUE_USE, &why),
             0);
    /* The same without the anchor repeated at the end. */
    CHECK_EQ(x509_chain_verify((struct x509_cert){lic.der, lic.len}, chain, 1, anchor, &now_t,
                               X509_RIGHT_ISSUE_USE, &why),
             0);
    CHECK_EQ(openssl_verify(&slc, NULL, &root), 0);
    CHECK_EQ(openssl_verify(&lic, &slc, &root), 0);
}

TEST(validity_is_checked_at_now_for_every_certificate)
{
    const char *why = "";
    struct x509_cert anchor = {root.der, root.len};
    x509_time early = at(2026, 10, 1), late = at(2028, 1, 1);

    CHECK_EQ(
        x509_chain_verify((struct x509_cert){slc.der, slc.len}, NULL, 0, anchor, &late, 0, &why),
        -EPERM);
    CHECK_STR(why, "expired");
    CHECK_EQ(
        x509_chain_verify((struct x509_cert){slc.der, slc.len}, NULL, 0, anchor, &early, 0, &why),
        -EPERM);
    CHECK_STR(why, "not valid yet");
    struct x509_cert mid = {slc.der, slc.len};
    CHECK_EQ(
        x509_chain_verify((struct x509_cert){lic.der, lic.len}, &mid, 1, anchor, &late, 0, &why),
        -EPERM);
}

TEST(tampered_untrusted_and_out_of_order_are_refused)
{
    const char *why = "";
    struct x509_cert anchor = {root.der, root.len};
    struct cert bad = slc, other_root;

    bad.der[bad.len - 5] ^= 0x01; /* inside the signature */
    CHECK_EQ(
        x509_chain_verify((struct x509_cert){bad.der, bad.len}, NULL, 0, anchor, &now_t, 0, &why),
        -EPERM);
    CHECK(strstr(why, "trusted") != NULL);
    bad = slc;
    bad.der[200] ^= 0x20; /* inside the TBS */
    CHECK(x509_chain_verify((struct x509_cert){bad.der, bad.len}, NULL, 0, anchor, &now_t, 0,
                            &why) != 0);
    CHECK_EQ(issue(&other_root, "Signet Enrollment Authority", &other_key, true, -1,
                   X509_RIGHTS_ALL, &other_key, NULL, at(2026, 1, 1), at(2046, 1, 1)),
             0);
    CHECK_EQ(x509_chain_verify((struct x509_cert){slc.der, slc.len}, NULL, 0,
                               (struct x509_cert){other_root.der, other_root.len}, &now_t, 0, &why),
             -EPERM);
    struct x509_cert wrong[1] = {{root.der, root.len}};
    CHECK_EQ(
        x509_chain_verify((struct x509_cert){lic.der, lic.len}, wrong, 1, anchor, &now_t, 0, &why),
        -EPERM);
    CHECK(strstr(why, "order") != NULL);
}

TEST(rights_flow_down_only)
{
    const char *why = "";
    struct x509_cert anchor = {root.der, root.len};
    struct cert weak, child;

    /* An SLC without sub-enroll cannot make an issuer below it... */
    CHECK_EQ(issue(&weak, "weak", &slc_key, true, 1, X509_RIGHT_ISSUE_USE, &root_key, &root,
                   at(2026, 11, 1), at(2027, 11, 1)),
             0);
    CHECK_EQ(issue(&child, "child", &lic_key, true, 0, X509_RIGHT_ISSUE_USE, &slc_key, &weak,
                   at(2026, 11, 1), at(2027, 11, 1)),
             0);
    struct x509_cert mid = {weak.der, weak.len};
    CHECK_EQ(x509_chain_verify((struct x509_cert){child.der, child.len}, &mid, 1, anchor, &now_t, 0,
                               &why),
             -EPERM);
    CHECK(strstr(why, "sub-enroll") != NULL);
    /* ...nor grant a right it lacks. */
    CHECK_EQ(issue(&child, "child", &lic_key, false, -1, X509_RIGHT_CERTIFY, &slc_key, &weak,
                   at(2026, 11, 1), at(2027, 11, 1)),
             0);
    CHECK_EQ(x509_chain_verify((struct x509_cert){child.der, child.len}, &mid, 1, anchor, &now_t, 0,
                               &why),
             -EPERM);
    CHECK(strstr(why, "right its issuer") != NULL);
    /* And a leaf must hold what the caller requires. */
    struct x509_cert chain1 = {slc.der, slc.len};
    CHECK_EQ(x509_chain_verify((struct x509_cert){lic.der, lic.len}, &chain1, 1, anchor, &now_t,
                               X509_RIGHT_CERTIFY, &why),
             -EPERM);
}

TEST(path_length_is_enforced)
{
    const char *why = "";
    struct cert deep;
    struct x509_cert anchor = {root.der, root.len};
    struct x509_cert chain[2] = {{lic.der, lic.len}, {slc.der, slc.len}};

    /* lic has pathLen 0: a CA below it breaks the constraint. */
    CHECK_EQ(issue(&deep, "deep", &other_key, true, 0, X509_RIGHT_ISSUE_USE, &lic_key, &lic,
                   at(2026, 11, 3), at(2027, 11, 1)),
             0);
    CHECK(x509_chain_verify((struct x509_cert){deep.der, deep.len}, chain, 2, anchor, &now_t, 0,
                            &why) != 0);
}

TEST(csr_proves_possession_of_exactly_its_key)
{
    uint8_t csr[1024];
    size_t len = 0;
    const char *why = "";
    struct x509_issuer self = issuer_of(&slc_key, NULL);

    CHECK_EQ(x509_csr_build("root1", slc_key.spki, slc_key.spki_len, &self, csr, sizeof(csr), &len),
             0);
    CHECK_EQ(x509_csr_verify(csr, len, slc_key.spki, slc_key.spki_len, &why), 0);
    CHECK_EQ(x509_csr_verify(csr, len, lic_key.spki, lic_key.spki_len, &why), -EINVAL);
    CHECK(strstr(why, "another key") != NULL);
    csr[len - 3] ^= 1;
    CHECK_EQ(x509_csr_verify(csr, len, slc_key.spki, slc_key.spki_len, &why), -EINVAL);
    for (size_t cut = 0; cut < len; cut += 7)
        CHECK(x509_csr_verify(csr, cut, slc_key.spki, slc_key.spki_len, &why) != 0);
    /* OpenSSL reads it and agrees the signature is good. */
    csr[len - 3] ^= 1;
    const unsigned char *p = csr;
    X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)len);
    CHECK(req != NULL);
    CHECK_EQ(X509_REQ_verify(req, slc_key.pkey), 1);
    X509_REQ_free(req);
}

TEST(build_refuses_bad_profiles_and_small_buffers)
{
    struct x509_profile p = {0};
    struct x509_issuer is = issuer_of(&root_key, NULL);
    uint8_t out[2048];
    size_t len;

    p.cn = "x";
    p.serial[0] = 0x40;
    p.not_before = at(2026, 1, 1);
    p.not_after = at(2027, 1, 1);
    p.spki = root_key.spki;
    p.spki_len = root_key.spki_len;
    CHECK_EQ(x509_build(&p, &is, out, sizeof(out), &len), 0);
    CHECK_EQ(x509_build(&p, &is, out, 100, &len), -ENOSPC);
    p.serial[0] = 0x80; /* would be negative */
    CHECK_EQ(x509_build(&p, &is, out, sizeof(out), &len), -EINVAL);
    p.serial[0] = 0x40;
    p.not_after = p.not_before;
    CHECK_EQ(x509_build(&p, &is, out, sizeof(out), &len), -EINVAL);
    p.not_after = at(2051, 1, 1); /* GeneralizedTime from 2050 on */
    CHECK_EQ(x509_build(&p, &is, out, sizeof(out), &len), 0);
    struct x509_info info;
    const char *why;
    CHECK_EQ(x509_read(out, len, &info, &why), 0);
    CHECK_EQ(info.not_after.year, 2051);
    CHECK(!info.ca && info.rights == 0);
}

TEST(read_refuses_truncations_and_trailing_bytes)
{
    struct x509_info info;
    const char *why;
    uint8_t buf[2100];

    for (size_t cut = 0; cut < slc.len; cut++)
        CHECK(x509_read(slc.der, cut, &info, &why) != 0);
    memcpy(buf, slc.der, slc.len);
    buf[slc.len] = 0;
    CHECK(x509_read(buf, slc.len + 1, &info, &why) != 0);
}

int main(void)
{
    make_hierarchy();
    RUN(root_slc_and_licensing_slc_verify_here_and_in_openssl);
    RUN(validity_is_checked_at_now_for_every_certificate);
    RUN(tampered_untrusted_and_out_of_order_are_refused);
    RUN(rights_flow_down_only);
    RUN(path_length_is_enforced);
    RUN(csr_proves_possession_of_exactly_its_key);
    RUN(build_refuses_bad_profiles_and_small_buffers);
    RUN(read_refuses_truncations_and_trailing_bytes);
    EVP_PKEY_free(root_key.pkey);
    EVP_PKEY_free(slc_key.pkey);
    EVP_PKEY_free(lic_key.pkey);
    EVP_PKEY_free(other_key.pkey);
    return unit_summary();
}
