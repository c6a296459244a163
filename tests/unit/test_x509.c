/*
 * Unit tests of crypto/x509: certificates and PKCS#10 built by our writer, signed by OpenSSL's
 * libcrypto with keys made at run time (so no key material is stored anywhere), then read and
 * verified by our mbedTLS-based code — and parsed and checked by OpenSSL as well, which is the
 * interoperability that matters (docs/requirements.md R21: every chain must pass `openssl verify`).
 */
#include "crypto/spki.h"
#include "crypto/x509.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "soft_key.h"
#include "unit.h"

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

static struct soft_key root_key, slc_key, lic_key, other_key, user_key, ckek_key;
static struct cert root, slc, lic;

static void make_hierarchy(void)
{
    key_new(&root_key, X509_KEY_RSA);
    key_new(&slc_key, X509_KEY_EC);
    key_new(&lic_key, X509_KEY_RSA);
    key_new(&other_key, X509_KEY_RSA);
    key_new(&user_key, X509_KEY_RSA);
    key_new(&ckek_key, X509_KEY_RSA);
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
    CHECK(strstr(why, "another issuer") != NULL); /* its issuer, the SLC, is not there */
    struct x509_cert twice[2] = {{slc.der, slc.len}, {slc.der, slc.len}};
    CHECK_EQ(
        x509_chain_verify((struct x509_cert){lic.der, lic.len}, twice, 2, anchor, &now_t, 0, &why),
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

/* ---- content rights as text ---- */

TEST(grant_text_vectors)
{
    static const struct {
        const char *text;
        int ret;
        uint32_t rights;
        const char *canonical; /* what format gives back; NULL: text itself */
    } v[] = {
        {"view", 0, X509_GRANT_VIEW, NULL},
        {"edit", 0, X509_GRANT_EDIT, NULL},
        {"print", 0, X509_GRANT_PRINT, NULL},
        {"export", 0, X509_GRANT_EXPORT, NULL},
        {"forward", 0, X509_GRANT_FORWARD, NULL},
        {"owner", 0, X509_GRANT_OWNER, NULL},
        {"view,print", 0, X509_GRANT_VIEW | X509_GRANT_PRINT, NULL},
        {"print,view", 0, X509_GRANT_VIEW | X509_GRANT_PRINT, "view,print"},
        {"owner,forward,export,print,edit,view", 0, X509_GRANTS_ALL,
         "view,edit,print,export,forward,owner"},
        {"", -EINVAL, 0, NULL},
        {",", -EINVAL, 0, NULL},
        {"view,", -EINVAL, 0, NULL},
        {",view", -EINVAL, 0, NULL},
        {"view,,print", -EINVAL, 0, NULL},
        {"view, print", -EINVAL, 0, NULL},
        {" view", -EINVAL, 0, NULL},
        {"view ", -EINVAL, 0, NULL},
        {"View", -EINVAL, 0, NULL},
        {"VIEW", -EINVAL, 0, NULL},
        {"view,view", -EINVAL, 0, NULL},
        {"view,print,view", -EINVAL, 0, NULL},
        {"read", -EINVAL, 0, NULL},
        {"vie", -EINVAL, 0, NULL},
        {"viewer", -EINVAL, 0, NULL},
        {"forwardx", -EINVAL, 0, NULL},
        {"view;print", -EINVAL, 0, NULL},
        {"view\tprint", -EINVAL, 0, NULL},
        {"all", -EINVAL, 0, NULL},
    };
    char out[64];

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        uint32_t r = 0x5a5a;
        int ret = x509_grant_parse(v[i].text, &r);
        if (ret != v[i].ret)
            printf("# \"%s\": %d\n", v[i].text, ret);
        CHECK_EQ(ret, v[i].ret);
        if (ret != 0) {
            CHECK_EQ(r, 0x5a5a); /* untouched on refusal */
            continue;
        }
        CHECK_EQ(r, v[i].rights);
        CHECK_EQ(x509_grant_format(r, out, sizeof(out)), 0);
        CHECK_STR(out, v[i].canonical ? v[i].canonical : v[i].text);
    }
    /* every set of rights goes round */
    for (uint32_t r = 1; r <= X509_GRANTS_ALL; r++) {
        uint32_t back = 0;
        CHECK_EQ(x509_grant_format(r, out, sizeof(out)), 0);
        CHECK_EQ(x509_grant_parse(out, &back), 0);
        CHECK_EQ(back, r);
    }
    CHECK_EQ(x509_grant_format(0, out, sizeof(out)), -EINVAL);
    CHECK_EQ(x509_grant_format(0x40, out, sizeof(out)), -EINVAL);
    CHECK_EQ(x509_grant_parse(NULL, &(uint32_t){0}), -EINVAL);
    /* "view,print" needs 11 bytes with its NUL */
    CHECK_EQ(x509_grant_format(X509_GRANT_VIEW | X509_GRANT_PRINT, out, 11), 0);
    for (size_t cap = 0; cap < 11; cap++) {
        memset(out, 'x', sizeof(out));
        CHECK_EQ(x509_grant_format(X509_GRANT_VIEW | X509_GRANT_PRINT, out, cap), -ENOSPC);
        CHECK(cap == 0 || out[0] == '\0');
    }
    /* a very long text is refused at its first unknown name */
    static char longtext[100000];
    memset(longtext, 'v', sizeof(longtext) - 1);
    CHECK_EQ(x509_grant_parse(longtext, &(uint32_t){0}), -EINVAL);
}

/* ---- the certificate kinds: RAC, publishing and use licenses, CKEK certificates ---- */

static void sample_content(struct x509_content *c, size_t grants)
{
    static const uint8_t wrapped[256] = {1, 2, 3};
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < X509_CONTENT_ID_LEN; i++)
        c->id[i] = (uint8_t)(0xc0 + i);
    strcpy(c->owner, "alice@contoso.example");
    c->wrapped = wrapped;
    c->wrapped_len = sizeof(wrapped);
    c->grant_count = grants;
    for (size_t i = 0; i < grants; i++) {
        snprintf(c->grants[i].user, sizeof(c->grants[i].user), "user%zu@contoso.example", i);
        c->grants[i].rights = (uint32_t)(i % X509_GRANTS_ALL + 1);
    }
}

static int issue_kind(struct cert *out, const char *cn, struct soft_key *subject,
                      enum x509_kind kind, const struct x509_content *content,
                      struct soft_key *issuer_key, const struct cert *issuer_cert)
{
    struct x509_profile p = {0};
    const char *why = "";

    p.cn = cn;
    p.org = "Signet test";
    memset(p.serial, 0x33, sizeof(p.serial));
    p.serial[15] = (uint8_t)kind;
    x509_serial_fix(p.serial);
    p.not_before = at(2026, 11, 3);
    p.not_after = at(2027, 11, 1);
    p.spki = subject->spki;
    p.spki_len = subject->spki_len;
    p.kind = kind;
    p.content = content;
    struct x509_issuer is = issuer_of(issuer_key, issuer_cert);
    int ret = x509_build(&p, &is, out->der, sizeof(out->der), &out->len);
    if (ret == 0 && (ret = x509_read(out->der, out->len, &out->info, &why)) != 0)
        printf("# read back: %s\n", why);
    return ret;
}

/* OpenSSL's text dump of a certificate (what `openssl x509 -text` prints). */
static int openssl_text(const struct cert *c, char *out, size_t cap)
{
    const unsigned char *p = c->der;
    X509 *x = d2i_X509(NULL, &p, (long)c->len);
    BIO *bio = BIO_new(BIO_s_mem());
    int ok = x && p == c->der + c->len && X509_print(bio, x) == 1;
    int n = BIO_read(bio, out, (int)cap - 1);
    out[n > 0 ? n : 0] = '\0';
    BIO_free(bio);
    X509_free(x);
    return ok && n > 0 ? 0 : -1;
}

static int same_content(const struct x509_content *a, const struct x509_content *b)
{
    if (memcmp(a->id, b->id, sizeof(a->id)) != 0 || strcmp(a->owner, b->owner) != 0 ||
        a->wrapped_len != b->wrapped_len || memcmp(a->wrapped, b->wrapped, a->wrapped_len) != 0 ||
        a->grant_count != b->grant_count)
        return 0;
    for (size_t i = 0; i < a->grant_count; i++)
        if (strcmp(a->grants[i].user, b->grants[i].user) != 0 ||
            a->grants[i].rights != b->grants[i].rights)
            return 0;
    return 1;
}

TEST(every_kind_builds_reads_back_and_verifies_here_and_in_openssl)
{
    static const struct {
        enum x509_kind kind;
        size_t grants;
        const char *usage; /* OpenSSL's words for the keyUsage */
    } kinds[] = {
        {X509_KIND_RAC, 0, "Digital Signature, Key Encipherment"},
        {X509_KIND_PUBLISHING, 16, "Key Encipherment"},
        {X509_KIND_PUBLISHING, 1, "Key Encipherment"},
        {X509_KIND_USE, 1, "Key Encipherment"},
        {X509_KIND_CKEK, 0, "Key Encipherment"},
    };
    static struct cert leaf;
    static char text[16384];
    struct x509_content content;
    struct x509_cert chain[2] = {{slc.der, slc.len}, {root.der, root.len}};
    struct x509_cert anchor = {root.der, root.len};
    const char *why = "";

    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        sample_content(&content, kinds[i].grants);
        const struct x509_content *c = kinds[i].grants ? &content : NULL;
        struct soft_key *key = kinds[i].kind == X509_KIND_CKEK ? &ckek_key : &user_key;
        CHECK_EQ(issue_kind(&leaf, "alice@contoso.example", key, kinds[i].kind, c, &slc_key, &slc),
                 0);
        CHECK_EQ(leaf.info.kind, kinds[i].kind);
        CHECK(!leaf.info.ca && leaf.info.rights == 0);
        CHECK_EQ(leaf.info.has_content, c != NULL);
        if (c) {
            CHECK(same_content(&leaf.info.content, c));
            /* wrapped points into the DER */
            CHECK(leaf.info.content.wrapped > leaf.der &&
                  leaf.info.content.wrapped < leaf.der + leaf.len);
        }
        CHECK_EQ(x509_chain_verify((struct x509_cert){leaf.der, leaf.len}, chain, 2, anchor, &now_t,
                                   0, &why),
                 0);
        CHECK_EQ(openssl_verify(&leaf, &slc, &root), 0);
        CHECK_EQ(openssl_text(&leaf, text, sizeof(text)), 0);
        CHECK(strstr(text, "X509v3 Key Usage: critical") != NULL);
        char *ku = strstr(text, "X509v3 Key Usage: critical");
        char *line = ku ? strchr(ku, '\n') : NULL;
        CHECK(line != NULL);
        while (*line == '\n' || *line == ' ')
            line++;
        CHECK(strncmp(line, kinds[i].usage, strlen(kinds[i].usage)) == 0 &&
              line[strlen(kinds[i].usage)] == '\n');
        /* OpenSSL shows our extensions by their OID, non-critical */
        CHECK(
            strstr(text,
                   "1.2.840.113556.1.8000.2554.23324.11786.32063.19041.40078.3099501.9051703.5:") !=
            NULL);
        CHECK_EQ(
            strstr(text,
                   "1.2.840.113556.1.8000.2554.23324.11786.32063.19041.40078.3099501.9051703.6:") !=
                NULL,
            c != NULL);
    }
}

TEST(kind_needs_its_issuer_right)
{
    static const struct {
        uint32_t issuer_rights;
        enum x509_kind kind;
        const char *why; /* NULL: accepted */
    } v[] = {
        {X509_RIGHT_CERTIFY, X509_KIND_RAC, NULL},
        {X509_RIGHT_ISSUE_USE | X509_RIGHT_ISSUE_PUBLISH, X509_KIND_RAC,
         "issuer may not issue rights account certificates"},
        {X509_RIGHT_ISSUE_PUBLISH, X509_KIND_PUBLISHING, NULL},
        {X509_RIGHT_ISSUE_USE | X509_RIGHT_CERTIFY, X509_KIND_PUBLISHING,
         "issuer may not issue publishing licenses"},
        {X509_RIGHT_ISSUE_USE, X509_KIND_USE, NULL},
        {X509_RIGHT_ISSUE_PUBLISH | X509_RIGHT_CERTIFY, X509_KIND_USE,
         "issuer may not issue use licenses"},
        {X509_RIGHT_ISSUE_USE, X509_KIND_CKEK, NULL},
        {X509_RIGHT_ISSUE_PUBLISH, X509_KIND_CKEK, NULL},
        {X509_RIGHT_CERTIFY, X509_KIND_CKEK, NULL},
        {X509_RIGHT_SUBENROLL, X509_KIND_CKEK, "CKEK certificate"},
        {0, X509_KIND_CKEK, "CKEK certificate"},
        {0, X509_KIND_NONE, NULL},
    };
    static struct cert issuer, leaf;
    struct x509_content content;
    struct x509_cert anchor = {root.der, root.len};
    const char *why = "";

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        CHECK_EQ(issue(&issuer, "server", &slc_key, true, 0, v[i].issuer_rights, &root_key, &root,
                       at(2026, 11, 1), at(2027, 11, 1)),
                 0);
        sample_content(&content, 1);
        bool license = v[i].kind == X509_KIND_PUBLISHING || v[i].kind == X509_KIND_USE;
        CHECK_EQ(issue_kind(&leaf, "leaf", &user_key, v[i].kind, license ? &content : NULL,
                            &slc_key, &issuer),
                 0);
        struct x509_cert mid = {issuer.der, issuer.len};
        int ret = x509_chain_verify((struct x509_cert){leaf.der, leaf.len}, &mid, 1, anchor, &now_t,
                                    0, &why);
        if (v[i].why) {
            CHECK_EQ(ret, -EPERM);
            CHECK(strstr(why, v[i].why) != NULL);
        } else {
            if (ret)
                printf("# case %zu: %s\n", i, why);
            CHECK_EQ(ret, 0);
        }
        /* OpenSSL knows nothing of our rights: it accepts every one of them */
        CHECK_EQ(openssl_verify(&leaf, &issuer, &root), 0);
    }
    /* a RAC straight under the root (the anchor as the issuer) */
    CHECK_EQ(issue_kind(&leaf, "leaf", &user_key, X509_KIND_RAC, NULL, &root_key, &root), 0);
    CHECK_EQ(
        x509_chain_verify((struct x509_cert){leaf.der, leaf.len}, NULL, 0, anchor, &now_t, 0, &why),
        0);
}

TEST(build_refuses_bad_kinds_and_content)
{
    struct x509_profile p = {0};
    struct x509_issuer is = issuer_of(&slc_key, &slc);
    struct x509_content c;
    static uint8_t out[4096], big[X509_WRAPPED_MAX + 1];
    size_t len;

    p.cn = "x";
    p.serial[0] = 0x40;
    p.not_before = at(2026, 11, 3);
    p.not_after = at(2027, 1, 1);
    p.spki = user_key.spki;
    p.spki_len = user_key.spki_len;
    for (int k = 0; k <= 5; k++) {
        bool license = k == X509_KIND_PUBLISHING || k == X509_KIND_USE;
        sample_content(&c, 1);
        p.kind = (enum x509_kind)k;
        /* content where it belongs and nowhere else; no kind is a CA */
        p.content = &c;
        CHECK_EQ(x509_build(&p, &is, out, sizeof(out), &len), license ? 0 : -EINVAL);
        p.content = NULL;
        CHECK_EQ(x509_build(&p, &is, out, sizeof(out), &len), license || k == 5 ? -EINVAL : 0);
        p.ca = true;
        p.path_len = 0;
        CHECK_EQ(x509_build(&p, &is, out, sizeof(out), &len), k == 0 ? 0 : -EINVAL);
        p.ca = false;
    }
    p.kind = X509_KIND_USE;
    p.content = &c;
    for (int i = 0; i < 14; i++) {
        sample_content(&c, 1);
        switch (i) {
        case 0:
            c.grant_count = 2;
            break; /* a use license holds one grant */
        case 1:
            c.grant_count = 0;
            break;
        case 2:
            c.grants[0].rights = 0;
            break;
        case 3:
            c.grants[0].rights = 0x40;
            break;
        case 4:
            c.grants[0].user[0] = '\0';
            break;
        case 5:
            strcpy(c.grants[0].user, "tab\there");
            break;
        case 6:
            memset(c.grants[0].user, 'u', sizeof(c.grants[0].user));
            break;
        case 7:
            c.owner[0] = '\0';
            break;
        case 8:
            c.owner[3] = '\x80';
            break;
        case 9:
            c.wrapped_len = 0;
            break;
        case 10:
            c.wrapped = big;
            c.wrapped_len = sizeof(big);
            break;
        case 11:
            c.wrapped = NULL;
            break;
        case 12:
            p.kind = X509_KIND_PUBLISHING;
            c.grant_count = 17;
            break;
        case 13:
            p.kind = X509_KIND_PUBLISHING;
            sample_content(&c, 3);
            strcpy(c.grants[2].user, c.grants[0].user);
            break;
        }
        if (x509_build(&p, &is, out, sizeof(out), &len) != -EINVAL) {
            printf("# case %d\n", i);
            CHECK(0);
        }
        p.kind = X509_KIND_USE;
    }
    /* at the bounds: 16 grants of 64-character users, 512 wrapped bytes, every right */
    p.kind = X509_KIND_PUBLISHING;
    sample_content(&c, X509_GRANTS_MAX);
    c.wrapped = big;
    c.wrapped_len = X509_WRAPPED_MAX;
    for (size_t i = 0; i < X509_GRANTS_MAX; i++) {
        memset(c.grants[i].user, 'a' + (int)i, X509_CN_MAX);
        c.grants[i].user[X509_CN_MAX] = '\0';
        c.grants[i].rights = X509_GRANTS_ALL;
    }
    CHECK_EQ(x509_build(&p, &is, out, sizeof(out), &len), 0);
    printf("# largest publishing license: %zu bytes\n", len);
    struct x509_info info;
    const char *why;
    CHECK_EQ(x509_read(out, len, &info, &why), 0);
    CHECK(same_content(&info.content, &c));
    /* ECDSA signatures vary by a few bytes in length: short by 16 never fits */
    CHECK_EQ(x509_build(&p, &is, out, len - 16, &len), -ENOSPC);
}

/* ---- hostile extensions, built around our writer by OpenSSL ---- */

#define ARC_TXT "1.2.840.113556.1.8000.2554.23324.11786.32063.19041.40078.3099501.9051703"
/* The arc's DER content octets, as crypto/x509_oid.h has them (written out here, so that a
 * change there is caught). */
static const uint8_t arc_der[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x14, 0x01, 0xbe, 0x40, 0x93, 0x7a,
                                  0x81, 0xb6, 0x1c, 0xdc, 0x0a, 0x81, 0xfa, 0x3f, 0x81, 0x94, 0x61,
                                  0x82, 0xb9, 0x0e, 0x81, 0xbd, 0x96, 0x6d, 0x84, 0xa8, 0xbc, 0x37};

struct der {
    uint8_t b[4096];
    size_t n;
};

static void put(struct der *d, const void *p, size_t n)
{
    memcpy(d->b + d->n, p, n);
    d->n += n;
}

/* tag, length, content; lengths up to 65535 */
static void tlv(struct der *d, uint8_t tag, const void *p, size_t n)
{
    uint8_t h[4] = {tag};
    size_t hl = 2;
    if (n < 0x80) {
        h[1] = (uint8_t)n;
    } else if (n < 0x100) {
        h[1] = 0x81;
        h[2] = (uint8_t)n;
        hl = 3;
    } else {
        h[1] = 0x82;
        h[2] = (uint8_t)(n >> 8);
        h[3] = (uint8_t)n;
        hl = 4;
    }
    put(d, h, hl);
    put(d, p, n);
}

static void kind_oid(struct der *d, uint8_t n)
{
    uint8_t oid[sizeof(arc_der) + 2];
    memcpy(oid, arc_der, sizeof(arc_der));
    oid[sizeof(arc_der)] = 5;
    oid[sizeof(arc_der) + 1] = n;
    tlv(d, 0x06, oid, sizeof(oid));
}

static void grant(struct der *d, const char *user, const uint8_t *bits, size_t nbits)
{
    struct der g = {0};
    tlv(&g, 0x0c, user, strlen(user));
    tlv(&g, 0x03, bits, nbits);
    tlv(d, 0x30, g.b, g.n);
}

/* signetContent with these fields (id_len bytes of id, owner, wrapped_len bytes) and grants. */
static void content_der(struct der *d, size_t id_len, const char *owner, size_t wrapped_len,
                        const struct der *grants)
{
    static const uint8_t zeros[1024] = {9};
    struct der c = {0};
    tlv(&c, 0x04, zeros, id_len);
    tlv(&c, 0x0c, owner, strlen(owner));
    tlv(&c, 0x04, zeros, wrapped_len);
    tlv(&c, 0x30, grants->b, grants->n);
    tlv(d, 0x30, c.b, c.n);
}

/* A leaf under slc for user_key, CN "hostile", to carry extensions a test adds; NULL on failure. */
static X509 *hostile_leaf(long serial)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    const unsigned char *ip = slc.info.subject;
    X509_NAME *issuer = d2i_X509_NAME(NULL, &ip, (long)slc.info.subject_len);

    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"hostile", -1, -1,
                               0);
    X509_set_subject_name(x, name);
    X509_set_issuer_name(x, issuer);
    X509_set_pubkey(x, user_key.pkey);
    ASN1_TIME_set(X509_getm_notBefore(x), 1794000000);
    ASN1_TIME_set(X509_getm_notAfter(x), 1796000000);
    X509_NAME_free(name);
    X509_NAME_free(issuer);
    return x;
}

/* A non-critical extension oid (dotted text) whose extnValue is v, as given. */
static void add_raw_ext(X509 *x, const char *oid, const struct der *v)
{
    ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING_set(os, v->b, (int)v->n);
    X509_EXTENSION *e = X509_EXTENSION_create_by_OBJ(NULL, o, 0, os);
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(o);
}

/* x signed by the SLC's key into out (DER), and freed. */
static int sign_hostile(struct cert *out, X509 *x)
{
    int ok = X509_sign(x, slc_key.pkey, EVP_sha256()) > 0;
    unsigned char *p = out->der;
    int n = ok ? i2d_X509(x, NULL) : -1;
    if (n > 0 && (size_t)n <= sizeof(out->der))
        n = i2d_X509(x, &p);
    out->len = n > 0 ? (size_t)n : 0;
    X509_free(x);
    return out->len ? 0 : -1;
}

/* A leaf under slc carrying these raw extensions (ARC.5 and ARC.6 values; n = 0 leaves one out,
 * twice = the first one twice), signed by OpenSSL. */
static int hostile(struct cert *out, const struct der *kind, const struct der *content, bool ca,
                   bool twice)
{
    X509 *x = hostile_leaf(77);
    const struct der *vals[2] = {kind, content};
    const char *oids[2] = {ARC_TXT ".5", ARC_TXT ".6"};

    if (ca) {
        X509_EXTENSION *bc =
            X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints, "critical,CA:TRUE");
        X509_add_ext(x, bc, -1);
        X509_EXTENSION_free(bc);
    }
    for (int i = 0; i < 2; i++)
        for (int k = 0; vals[i] && vals[i]->n && k < (twice && i == 0 ? 2 : 1); k++)
            add_raw_ext(x, oids[i], vals[i]);
    return sign_hostile(out, x);
}

TEST(hostile_kind_and_content_extensions_are_refused)
{
    static const uint8_t view[] = {0x07, 0x80}, all[] = {0x02, 0xfc};
    static const uint8_t not_der[] = {0x00, 0x80};    /* trailing zero bits kept */
    static const uint8_t unknown[] = {0x01, 0x82};    /* bit 6: no such right */
    static const uint8_t empty[] = {0x00};            /* no rights */
    static const uint8_t padded[] = {0x07, 0x81};     /* a padding bit set */
    static const uint8_t two[] = {0x07, 0x80, 0x00};  /* two octets */
    static const uint8_t bad_unused[] = {0x08, 0x00}; /* 8 unused bits */
    static struct cert c;
    struct der kind, content, grants;
    struct x509_info info;
    const char *why;

    /* The controls: hand-made DER our reader must accept, and read as written. */
    memset(&kind, 0, sizeof(kind));
    kind_oid(&kind, X509_KIND_PUBLISHING);
    memset(&grants, 0, sizeof(grants));
    grant(&grants, "bob", all, sizeof(all));
    grant(&grants, "carol", view, sizeof(view));
    memset(&content, 0, sizeof(content));
    content_der(&content, 16, "alice", 300, &grants);
    CHECK_EQ(hostile(&c, &kind, &content, false, false), 0);
    CHECK_EQ(x509_read(c.der, c.len, &info, &why), 0);
    CHECK(info.kind == X509_KIND_PUBLISHING && info.has_content);
    CHECK(info.content.grant_count == 2 && info.content.wrapped_len == 300);
    CHECK_STR(info.content.owner, "alice");
    CHECK_STR(info.content.grants[1].user, "carol");
    CHECK_EQ(info.content.grants[0].rights, X509_GRANTS_ALL);
    CHECK_EQ(info.content.grants[1].rights, X509_GRANT_VIEW);
    struct der none = {0};
    memset(&kind, 0, sizeof(kind));
    kind_oid(&kind, X509_KIND_RAC);
    CHECK_EQ(hostile(&c, &kind, &none, false, false), 0);
    CHECK_EQ(x509_read(c.der, c.len, &info, &why), 0);
    CHECK_EQ(info.kind, X509_KIND_RAC);

    /* Each case: the kind's arc number (0: no ARC.5; 99: not an OID), the content's form. */
    static const struct {
        int kind;
        size_t id_len, wrapped_len;
        const char *owner;
        const uint8_t *bits;
        size_t nbits, count;
        const char *users; /* one character per grant: its user's name */
        bool ca, twice, trailing;
        const char *why;
    } v[] = {
        {9, 0, 0, NULL, NULL, 0, 0, "", false, false, false, "unknown certificate kind"},
        {0x7f, 0, 0, NULL, NULL, 0, 0, "", false, false, false, "unknown certificate kind"},
        {99, 0, 0, NULL, NULL, 0, 0, "", false, false, false, "malformed signetKind"},
        {1, 0, 0, NULL, NULL, 0, 0, "", false, false, true, "malformed signetKind"},
        {1, 0, 0, NULL, NULL, 0, 0, "", false, true, false, "appears twice"},
        {1, 0, 0, NULL, NULL, 0, 0, "", true, false, false, "that is a CA"},
        {4, 16, 10, "a", view, 2, 1, "b", false, false, false, "not a license"},
        {0, 16, 10, "a", view, 2, 1, "b", false, false, false, "not a license"},
        {2, 0, 0, NULL, NULL, 0, 0, "", false, false, false, "license without signetContent"},
        {3, 0, 0, NULL, NULL, 0, 0, "", false, false, false, "license without signetContent"},
        {3, 16, 10, "a", view, 2, 2, "bc", false, false, false, "exactly one grant"},
        {2, 15, 10, "a", view, 2, 1, "b", false, false, false, "malformed signetContent"},
        {2, 17, 10, "a", view, 2, 1, "b", false, false, false, "malformed signetContent"},
        {2, 16, 0, "a", view, 2, 1, "b", false, false, false, "malformed signetContent"},
        {2, 16, 513, "a", view, 2, 1, "b", false, false, false, "malformed signetContent"},
        {2, 16, 10, "", view, 2, 1, "b", false, false, false, "malformed signetContent"},
        {2, 16, 10, "a\x01", view, 2, 1, "b", false, false, false, "malformed signetContent"},
        {2, 16, 10, "a", view, 2, 0, "", false, false, false, "without grants"},
        {2, 16, 10, "a", view, 2, 17, "abcdefghijklmnopq", false, false, false, "more than 16"},
        {2, 16, 10, "a", view, 2, 3, "bcb", false, false, false, "two grants"},
        {2, 16, 10, "a", not_der, 2, 1, "b", false, false, false, "rights"},
        {2, 16, 10, "a", unknown, 2, 1, "b", false, false, false, "rights"},
        {2, 16, 10, "a", empty, 1, 1, "b", false, false, false, "rights"},
        {2, 16, 10, "a", padded, 2, 1, "b", false, false, false, "rights"},
        {2, 16, 10, "a", two, 3, 1, "b", false, false, false, "rights"},
        {2, 16, 10, "a", bad_unused, 2, 1, "b", false, false, false, "rights"},
        {2, 16, 10, "a", view, 2, 1, "b", false, false, true, "malformed signetContent"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        memset(&kind, 0, sizeof(kind));
        memset(&content, 0, sizeof(content));
        memset(&grants, 0, sizeof(grants));
        if (v[i].kind == 99)
            tlv(&kind, 0x02, "\x01", 1);
        else if (v[i].kind)
            kind_oid(&kind, (uint8_t)v[i].kind);
        if (v[i].owner) {
            for (size_t g = 0; g < v[i].count; g++) {
                char user[2] = {v[i].users[g], 0};
                grant(&grants, user, v[i].bits, v[i].nbits);
            }
            content_der(&content, v[i].id_len, v[i].owner, v[i].wrapped_len, &grants);
        }
        if (v[i].trailing)
            put(v[i].owner ? &content : &kind, "\x05\x00", 2);
        CHECK_EQ(hostile(&c, &kind, &content, v[i].ca, v[i].twice), 0);
        memset(&info, 0x5a, sizeof(info));
        int ret = x509_read(c.der, c.len, &info, &why);
        if (ret != -EINVAL || !strstr(why, v[i].why))
            printf("# case %zu: %d %s\n", i, ret, why);
        CHECK_EQ(ret, -EINVAL);
        CHECK(strstr(why, v[i].why) != NULL);
        CHECK_EQ(info.kind, X509_KIND_NONE);
        CHECK(!info.has_content && info.content.grant_count == 0);
        /* and a chain with it in it is refused too */
        struct x509_cert mid = {slc.der, slc.len}, anchor = {root.der, root.len};
        CHECK_EQ(
            x509_chain_verify((struct x509_cert){c.der, c.len}, &mid, 1, anchor, &now_t, 0, &why),
            -EPERM);
    }
}

/* Our writer's extensions are byte for byte what the profile says (named bits, DER). */
TEST(content_extension_bytes)
{
    static struct cert leaf;
    struct x509_content c;
    struct der want = {0}, grants = {0};
    static const uint8_t view_print[] = {0x05, 0xa0}, owner[] = {0x02, 0x04};

    sample_content(&c, 2);
    c.grants[0].rights = X509_GRANT_VIEW | X509_GRANT_PRINT;
    c.grants[1].rights = X509_GRANT_OWNER;
    CHECK_EQ(issue_kind(&leaf, "x", &user_key, X509_KIND_PUBLISHING, &c, &slc_key, &slc), 0);
    grant(&grants, c.grants[0].user, view_print, sizeof(view_print));
    grant(&grants, c.grants[1].user, owner, sizeof(owner));
    struct der inner = {0};
    tlv(&inner, 0x04, c.id, 16);
    tlv(&inner, 0x0c, c.owner, strlen(c.owner));
    tlv(&inner, 0x04, c.wrapped, c.wrapped_len);
    tlv(&inner, 0x30, grants.b, grants.n);
    tlv(&want, 0x30, inner.b, inner.n);
    int found = 0;
    for (size_t i = 0; i + want.n <= leaf.len; i++)
        found |= memcmp(leaf.der + i, want.b, want.n) == 0;
    CHECK(found);
    struct der kind = {0};
    kind_oid(&kind, X509_KIND_PUBLISHING);
    found = 0;
    for (size_t i = 0; i + kind.n <= leaf.len; i++)
        found |= memcmp(leaf.der + i, kind.b, kind.n) == 0;
    CHECK(found);
}

TEST(rsa_key_size_of_a_spki)
{
    struct soft_key small;
    uint8_t buf[X509_SPKI_MAX + 2];
    unsigned bits = 0;

    CHECK_EQ(spki_rsa_bits(user_key.spki, user_key.spki_len, &bits), 0);
    CHECK_EQ(bits, 2048);
    small.pkey = EVP_RSA_gen(1024);
    unsigned char *p = small.spki;
    small.spki_len = (size_t)i2d_PUBKEY(small.pkey, &p);
    CHECK_EQ(spki_rsa_bits(small.spki, small.spki_len, &bits), 0);
    CHECK_EQ(bits, 1024);
    EVP_PKEY_free(small.pkey);
    CHECK_EQ(spki_rsa_bits(slc_key.spki, slc_key.spki_len, &bits), -EINVAL); /* EC */
    memcpy(buf, user_key.spki, user_key.spki_len);
    buf[user_key.spki_len] = 0;
    CHECK_EQ(spki_rsa_bits(buf, user_key.spki_len + 1, &bits), -EINVAL);
    for (size_t cut = 0; cut < user_key.spki_len; cut++)
        CHECK_EQ(spki_rsa_bits(user_key.spki, cut, &bits), -EINVAL);
    buf[user_key.spki_len - 1] ^= 0; /* the same key still reads */
    CHECK_EQ(spki_rsa_bits(buf, user_key.spki_len, &bits), 0);
    buf[5] ^= 0x01; /* inside the algorithm identifier */
    CHECK_EQ(spki_rsa_bits(buf, user_key.spki_len, &bits), -EINVAL);
    CHECK_EQ(spki_rsa_bits(NULL, 10, &bits), -EINVAL);
}

/* ---- cRLDistributionPoints and signetVia (ARC.7) ---- */

static const uint8_t via_sn[X509_SERIAL_LEN] = {0x4c, 1, 2,  3,  4,  5,  6,  7,
                                                8,    9, 10, 11, 12, 13, 14, 15};

static int issue_rac_cdp(struct cert *out, enum x509_kind kind, const char *crl_url,
                         const uint8_t *via)
{
    struct x509_profile p = {0};
    const char *why = "";

    p.cn = "alice@contoso.example";
    memset(p.serial, 0x44, sizeof(p.serial));
    x509_serial_fix(p.serial);
    p.not_before = at(2026, 11, 3);
    p.not_after = at(2027, 11, 1);
    p.spki = user_key.spki;
    p.spki_len = user_key.spki_len;
    p.kind = kind;
    p.crl_url = crl_url;
    p.via_prefix = via;
    struct x509_issuer is = issuer_of(&slc_key, &slc);
    int ret = x509_build(&p, &is, out->der, sizeof(out->der), &out->len);
    if (ret == 0 && (ret = x509_read(out->der, out->len, &out->info, &why)) != 0)
        printf("# read back: %s\n", why);
    return ret;
}

/* The first fullName URI of the certificate's cRLDistributionPoints, as OpenSSL reads it. */
static int openssl_cdp(const struct cert *c, char *out, size_t cap)
{
    const unsigned char *p = c->der;
    X509 *x = d2i_X509(NULL, &p, (long)c->len);
    STACK_OF(DIST_POINT) *dps =
        x ? X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL) : NULL;
    int ret = -1;

    out[0] = '\0';
    if (dps && sk_DIST_POINT_num(dps) == 1) {
        DIST_POINT *dp = sk_DIST_POINT_value(dps, 0);
        if (dp->distpoint && dp->distpoint->type == 0 && !dp->reasons && !dp->CRLissuer &&
            sk_GENERAL_NAME_num(dp->distpoint->name.fullname) == 1) {
            GENERAL_NAME *gn = sk_GENERAL_NAME_value(dp->distpoint->name.fullname, 0);
            if (gn->type == GEN_URI &&
                (size_t)ASN1_STRING_length(gn->d.uniformResourceIdentifier) < cap) {
                memcpy(out, ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier),
                       (size_t)ASN1_STRING_length(gn->d.uniformResourceIdentifier));
                out[ASN1_STRING_length(gn->d.uniformResourceIdentifier)] = '\0';
                ret = 0;
            }
        }
    }
    sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
    X509_free(x);
    return ret;
}

TEST(crl_url_and_via_build_and_read_back_here_and_in_openssl)
{
    static struct cert leaf;
    static char url[X509_URL_MAX + 2];
    char text[X509_URL_MAX + 1];
    struct x509_cert chain[2] = {{slc.der, slc.len}, {root.der, root.len}};
    struct x509_cert anchor = {root.der, root.len};
    const char *why = "";

    CHECK_EQ(issue_rac_cdp(&leaf, X509_KIND_RAC, "https://rms.example.test/v1/crl", via_sn), 0);
    CHECK_STR(leaf.info.crl_url, "https://rms.example.test/v1/crl");
    CHECK(leaf.info.has_via && leaf.info.via_len == X509_SERIAL_PREFIX_LEN &&
          memcmp(leaf.info.via, via_sn, X509_SERIAL_PREFIX_LEN) == 0);
    CHECK_EQ(x509_chain_verify((struct x509_cert){leaf.der, leaf.len}, chain, 2, anchor, &now_t, 0,
                               &why),
             0);
    CHECK_EQ(openssl_verify(&leaf, &slc, &root), 0);
    CHECK_EQ(openssl_cdp(&leaf, text, sizeof(text)), 0);
    CHECK_STR(text, "https://rms.example.test/v1/crl");
    /* ARC.7's bytes: OCTET STRING of the 8-byte serial prefix, non-critical */
    struct der want = {0};
    uint8_t oid[sizeof(arc_der) + 1];
    memcpy(oid, arc_der, sizeof(arc_der));
    oid[sizeof(arc_der)] = 7;
    struct der ext = {0}, val = {0};
    tlv(&val, 0x04, via_sn, X509_SERIAL_PREFIX_LEN);
    tlv(&ext, 0x06, oid, sizeof(oid));
    tlv(&ext, 0x04, val.b, val.n);
    tlv(&want, 0x30, ext.b, ext.n);
    int found = 0;
    for (size_t i = 0; i + want.n <= leaf.len; i++)
        found |= memcmp(leaf.der + i, want.b, want.n) == 0;
    CHECK(found);

    /* Neither: nothing read. A CKEK certificate with a CDP but no via. */
    CHECK_EQ(issue_rac_cdp(&leaf, X509_KIND_RAC, NULL, NULL), 0);
    CHECK_STR(leaf.info.crl_url, "");
    CHECK(!leaf.info.has_via);
    CHECK_EQ(openssl_cdp(&leaf, text, sizeof(text)), -1);
    CHECK_EQ(issue_rac_cdp(&leaf, X509_KIND_CKEK, "http://10.0.2.15/v1/crl", NULL), 0);
    CHECK_STR(leaf.info.crl_url, "http://10.0.2.15/v1/crl");
    CHECK(!leaf.info.has_via);

    /* The longest URI fits; one more, a space or a control character is refused at build. */
    memset(url, 'u', X509_URL_MAX);
    memcpy(url, "https://", 8);
    CHECK_EQ(issue_rac_cdp(&leaf, X509_KIND_RAC, url, NULL), 0);
    CHECK_EQ(strlen(leaf.info.crl_url), X509_URL_MAX);
    CHECK_EQ(openssl_cdp(&leaf, text, sizeof(text)), 0);
    url[X509_URL_MAX] = 'u';
    CHECK_EQ(issue_rac_cdp(&leaf, X509_KIND_RAC, url, NULL), -EINVAL);
    CHECK_EQ(issue_rac_cdp(&leaf, X509_KIND_RAC, "https://a b/v1/crl", NULL), -EINVAL);
    CHECK_EQ(issue_rac_cdp(&leaf, X509_KIND_RAC, "https://a\n/v1/crl", NULL), -EINVAL);
    /* via belongs to RACs only */
    CHECK_EQ(issue_rac_cdp(&leaf, X509_KIND_CKEK, NULL, via_sn), -EINVAL);
    CHECK_EQ(issue_rac_cdp(&leaf, X509_KIND_NONE, NULL, via_sn), -EINVAL);
}

/* A leaf under slc with a signetKind of kind (0: none) and these raw extensions, signed by
 * OpenSSL: oids[i] (dotted text) with value vals[i]. */
static int with_exts(struct cert *out, uint8_t kind, const char *const *oids,
                     const struct der *vals, size_t n)
{
    struct der k = {0};
    if (kind)
        kind_oid(&k, kind);
    X509 *x = hostile_leaf(78);
    for (size_t i = 0; i < n; i++)
        add_raw_ext(x, oids[i], &vals[i]);
    if (kind)
        add_raw_ext(x, ARC_TXT ".5", &k);
    return sign_hostile(out, x);
}

/* cRLDistributionPoints holding one DistributionPoint with these fullName GeneralNames. */
static void cdp_der(struct der *d, const struct der *names)
{
    struct der full = {0}, dp = {0}, seq = {0};
    tlv(&full, 0xa0, names->b, names->n);
    tlv(&dp, 0xa0, full.b, full.n);
    tlv(&seq, 0x30, dp.b, dp.n);
    tlv(d, 0x30, seq.b, seq.n);
}

TEST(hostile_crl_distribution_points_and_via_are_refused)
{
    static const char *const cdp[2] = {"2.5.29.31", "2.5.29.31"};
    static const char *const via[2] = {ARC_TXT ".7", ARC_TXT ".7"};
    static struct cert c;
    static char longuri[X509_URL_MAX + 1];
    struct der v[2], names;
    struct x509_info info;
    const char *why;

    /* control: a URI after another kind of name; a second URI is not the one */
    memset(v, 0, sizeof(v));
    memset(&names, 0, sizeof(names));
    tlv(&names, 0x82, "rms.example.test", 16); /* dNSName */
    tlv(&names, 0x86, "https://a.test/v1/crl", 21);
    tlv(&names, 0x86, "https://b.test/v1/crl", 21);
    cdp_der(&v[0], &names);
    CHECK_EQ(with_exts(&c, X509_KIND_RAC, cdp, v, 1), 0);
    CHECK_EQ(x509_read(c.der, c.len, &info, &why), 0);
    CHECK_STR(info.crl_url, "https://a.test/v1/crl");
    /* no URI at all, and a DistributionPoint with only reasons: read, no URL */
    memset(&names, 0, sizeof(names));
    tlv(&names, 0x82, "rms.example.test", 16);
    memset(&v[0], 0, sizeof(v[0]));
    cdp_der(&v[0], &names);
    CHECK_EQ(with_exts(&c, X509_KIND_RAC, cdp, v, 1), 0);
    CHECK_EQ(x509_read(c.der, c.len, &info, &why), 0);
    CHECK_STR(info.crl_url, "");
    memset(&v[0], 0, sizeof(v[0]));
    struct der dp = {0};
    tlv(&dp, 0x30, "\x81\x02\x06\x40", 4);
    tlv(&v[0], 0x30, dp.b, dp.n);
    CHECK_EQ(with_exts(&c, X509_KIND_RAC, cdp, v, 1), 0);
    CHECK_EQ(x509_read(c.der, c.len, &info, &why), 0);
    CHECK_STR(info.crl_url, "");
    /* a URI too long for us, or with a space: refused, not cut */
    memset(longuri, 'x', sizeof(longuri));
    memset(&names, 0, sizeof(names));
    tlv(&names, 0x86, longuri, sizeof(longuri));
    memset(&v[0], 0, sizeof(v[0]));
    cdp_der(&v[0], &names);
    CHECK_EQ(with_exts(&c, X509_KIND_RAC, cdp, v, 1), 0);
    CHECK_EQ(x509_read(c.der, c.len, &info, &why), -EINVAL);
    CHECK_STR(why, "the cRLDistributionPoints URI is too long or not printable");
    memset(&names, 0, sizeof(names));
    tlv(&names, 0x86, "https://a b", 11);
    memset(&v[0], 0, sizeof(v[0]));
    cdp_der(&v[0], &names);
    CHECK_EQ(with_exts(&c, X509_KIND_RAC, cdp, v, 1), 0);
    CHECK_EQ(x509_read(c.der, c.len, &info, &why), -EINVAL);
    /* malformed: empty SEQUENCE OF, a name running past its end, trailing bytes; twice */
    static const struct {
        const char *b;
        size_t n;
    } bad[] = {
        {"\x30\x00", 2},
        {"\x30\x08\x30\x06\xa0\x04\xa0\x02\x86\x05", 10},
        {"\x30\x02\x30\x00\x00", 5},
        {"\x30\x04\x30\x02\xa0\x01", 6},
        {"\x04\x00", 2},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&v[0], 0, sizeof(v[0]));
        put(&v[0], bad[i].b, bad[i].n);
        CHECK_EQ(with_exts(&c, X509_KIND_RAC, cdp, v, 1), 0);
        CHECK_EQ(x509_read(c.der, c.len, &info, &why), -EINVAL);
    }
    memset(&names, 0, sizeof(names));
    tlv(&names, 0x86, "https://a.test/v1/crl", 21);
    memset(v, 0, sizeof(v));
    cdp_der(&v[0], &names);
    v[1] = v[0];
    CHECK_EQ(with_exts(&c, X509_KIND_RAC, cdp, v, 2), 0);
    CHECK_EQ(x509_read(c.der, c.len, &info, &why), -EINVAL);
    CHECK_STR(why, "cRLDistributionPoints appears twice");

    /* signetVia: control, then wrong length, wrong type, twice, outside a RAC */
    memset(v, 0, sizeof(v));
    tlv(&v[0], 0x04, via_sn, sizeof(via_sn));
    CHECK_EQ(with_exts(&c, X509_KIND_RAC, via, v, 1), 0);
    CHECK_EQ(x509_read(c.der, c.len, &info, &why), 0);
    /* A whole serial, as firmware before prefixes wrote it, still reads. */
    CHECK(info.has_via && info.via_len == X509_SERIAL_LEN &&
          memcmp(info.via, via_sn, sizeof(via_sn)) == 0);
    memset(v, 0, sizeof(v));
    tlv(&v[0], 0x04, via_sn, X509_SERIAL_PREFIX_LEN);
    CHECK_EQ(with_exts(&c, X509_KIND_RAC, via, v, 1), 0);
    CHECK_EQ(x509_read(c.der, c.len, &info, &why), 0);
    CHECK(info.has_via && info.via_len == X509_SERIAL_PREFIX_LEN &&
          memcmp(info.via, via_sn, X509_SERIAL_PREFIX_LEN) == 0);
    memset(v, 0, sizeof(v));
    tlv(&v[0], 0x04, via_sn, sizeof(via_sn));
    v[1] = v[0];
    CHECK_EQ(with_exts(&c, X509_KIND_RAC, via, v, 2), 0);
    CHECK_EQ(x509_read(c.der, c.len, &info, &why), -EINVAL);
    CHECK_EQ(with_exts(&c, X509_KIND_CKEK, via, v, 1), 0);
    CHECK_EQ(x509_read(c.der, c.len, &info, &why), -EINVAL);
    CHECK_STR(why, "signetVia in a certificate that is not a rights account certificate");
    CHECK_EQ(with_exts(&c, 0, via, v, 1), 0);
    CHECK_EQ(x509_read(c.der, c.len, &info, &why), -EINVAL);
    memset(v, 0, sizeof(v));
    tlv(&v[0], 0x04, via_sn, sizeof(via_sn) - 1);
    CHECK_EQ(with_exts(&c, X509_KIND_RAC, via, v, 1), 0);
    CHECK_EQ(x509_read(c.der, c.len, &info, &why), -EINVAL);
    CHECK_STR(why, "malformed signetVia extension");
    memset(v, 0, sizeof(v));
    tlv(&v[0], 0x04, via_sn, X509_SERIAL_PREFIX_LEN + 1);
    CHECK_EQ(with_exts(&c, X509_KIND_RAC, via, v, 1), 0);
    CHECK_EQ(x509_read(c.der, c.len, &info, &why), -EINVAL);
    memset(v, 0, sizeof(v));
    tlv(&v[0], 0x02, via_sn, sizeof(via_sn));
    CHECK_EQ(with_exts(&c, X509_KIND_RAC, via, v, 1), 0);
    CHECK_EQ(x509_read(c.der, c.len, &info, &why), -EINVAL);
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
    RUN(grant_text_vectors);
    RUN(every_kind_builds_reads_back_and_verifies_here_and_in_openssl);
    RUN(kind_needs_its_issuer_right);
    RUN(build_refuses_bad_kinds_and_content);
    RUN(hostile_kind_and_content_extensions_are_refused);
    RUN(content_extension_bytes);
    RUN(rsa_key_size_of_a_spki);
    RUN(crl_url_and_via_build_and_read_back_here_and_in_openssl);
    RUN(hostile_crl_distribution_points_and_via_are_refused);
    EVP_PKEY_free(root_key.pkey);
    EVP_PKEY_free(slc_key.pkey);
    EVP_PKEY_free(lic_key.pkey);
    EVP_PKEY_free(other_key.pkey);
    EVP_PKEY_free(user_key.pkey);
    EVP_PKEY_free(ckek_key.pkey);
    return unit_summary();
}
