/*
 * Unit tests of crypto/x509_user: users' identity certificates made by openssl
 * (tests/unit/vectors/identity/make-vectors.sh, README.md there says what each one is), read and
 * verified by our mbedTLS-based code at a fixed now, 2026-06-01. OpenSSL's libcrypto only reads
 * the PEM files and computes the fingerprints we compare with.
 */
#include "crypto/x509_user.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "pem_vectors.h"
#include "unit.h"

#ifndef ID_VECTORS
#define ID_VECTORS "tests/unit/vectors/identity"
#endif

static struct pem_vector ca_root, ca_issuing, ca_fabrikam, ca_evil, ca_expired;
static struct pem_vector nw_root, nw_rogue, nw_old, nw_nosign;

/* A vector file's certificates, in file order (tests/unit/pem_vectors.h). */
static int load(const char *name, struct pem_vector *out)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s.pem", ID_VECTORS, name);
    return pem_vector_load(path, out);
}

static const x509_time now_t = {2026, 6, 1, 12, 0, 0};

/* Verify the vector `name` (leaf first, then its CAs as the file holds them) against anchor. */
static int verify_file(const char *name, const struct pem_vector *anchor, struct x509_user *u,
                       const char **why)
{
    static struct pem_vector leaf;
    if (load(name, &leaf) != 0) {
        *why = "vector missing";
        return -999;
    }
    return x509_user_verify(leaf.certs[0], leaf.certs + 1, leaf.n - 1, anchor->certs[0], &now_t, u,
                            why);
}

static bool all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

/* A refused user: -EPERM, the reason, and nothing of the certificate in *out. */
static int refused(const char *name, const struct pem_vector *anchor, const char *want)
{
    struct x509_user u;
    const char *why = NULL;
    int r = verify_file(name, anchor, &u, &why);
    if (r != -EPERM || !why || strcmp(why, want) != 0) {
        fprintf(stderr, "%s: %d \"%s\", want \"%s\"\n", name, r, why ? why : "(null)", want);
        return 0;
    }
    return all_zero(u.name, sizeof(u.name)) && all_zero(u.subject, sizeof(u.subject)) &&
           all_zero(u.fp, sizeof(u.fp));
}

/* An accepted user: 0 and the canonical name. */
static int accepted(const char *name, const struct pem_vector *anchor, const char *want)
{
    struct x509_user u;
    const char *why = "";
    int r = verify_file(name, anchor, &u, &why);
    if (r != 0 || strcmp(u.name, want) != 0) {
        fprintf(stderr, "%s: %d \"%s\" name \"%s\", want \"%s\"\n", name, r, why ? why : "(null)",
                u.name, want);
        return 0;
    }
    return 1;
}

static void sha256_of(const struct x509_cert *c, uint8_t fp[32])
{
    unsigned int n = 32;
    EVP_Digest(c->der, c->len, fp, &n, EVP_sha256(), NULL);
}

TEST(alice_accepted)
{
    struct pem_vector alice;
    struct x509_user u;
    const char *why = "";
    uint8_t fp[32];

    CHECK(load("user-alice", &alice) == 0);
    CHECK_EQ(x509_user_verify(alice.certs[0], NULL, 0, ca_root.certs[0], &now_t, &u, &why), 0);
    CHECK_STR(u.name, "alice@contoso.example");
    CHECK_STR(u.subject, "CN=alice, O=Contoso");
    sha256_of(&alice.certs[0], fp);
    CHECK(memcmp(u.fp, fp, 32) == 0);
}

TEST(carol_ec_accepted)
{
    CHECK(accepted("user-carol-ec", &ca_fabrikam, "carol@fabrikam.example"));
    /* Another organisation's user is not Contoso's. */
    CHECK(refused("user-carol-ec", &ca_root, "not issued by a trusted identity source"));
}

TEST(bob_through_intermediate)
{
    struct pem_vector bob;
    struct x509_user u;
    const char *why = "";

    CHECK(accepted("user-bob-upn-chain", &ca_root, "bob@contoso.example"));
    CHECK(load("user-bob-upn", &bob) == 0);
    /* The intermediate missing: no path to the root. */
    CHECK(refused("user-bob-upn", &ca_root, "not issued by a trusted identity source"));
    /* The intermediate itself as the anchor: a source trusted as it is. */
    CHECK(accepted("user-bob-upn", &ca_issuing, "bob@contoso.example"));
    /* The chain in the wrong order, with the root itself too (RFC 8446 §4.4.2: receivers
     * should take any order): the path is found all the same. */
    struct x509_cert wrong[2] = {ca_root.certs[0], ca_issuing.certs[0]};
    CHECK_EQ(x509_user_verify(bob.certs[0], wrong, 2, ca_root.certs[0], &now_t, &u, &why), 0);
    CHECK_STR(u.name, "bob@contoso.example");
    CHECK_STR(u.subject, "CN=bob, O=Contoso");
    struct x509_cert right[2] = {ca_issuing.certs[0], ca_root.certs[0]};
    CHECK_EQ(x509_user_verify(bob.certs[0], right, 2, ca_root.certs[0], &now_t, &u, &why), 0);
    /* An unrelated CA in the chain does not make a path. */
    struct x509_cert evil[1] = {ca_evil.certs[0]};
    CHECK_EQ(x509_user_verify(bob.certs[0], evil, 1, ca_root.certs[0], &now_t, &u, &why), -EPERM);
    CHECK_STR(why, "not issued by a trusted identity source");
}

TEST(chain_bounds)
{
    struct pem_vector bob;
    struct x509_user u;
    const char *why = "";
    uint8_t junk[8] = {0x30, 0x03, 0x02, 0x01, 0x01};

    CHECK(load("user-bob-upn", &bob) == 0);
    struct x509_cert four[4] = {ca_issuing.certs[0], ca_root.certs[0], ca_evil.certs[0],
                                ca_fabrikam.certs[0]};
    CHECK_EQ(x509_user_verify(bob.certs[0], four, 4, ca_root.certs[0], &now_t, &u, &why), -EPERM);
    CHECK_STR(why, "comes with too many CA certificates (at most 3)");
    CHECK_EQ(x509_user_verify(bob.certs[0], four, 3, ca_root.certs[0], &now_t, &u, &why), 0);
    struct x509_cert bad[1] = {{junk, sizeof(junk)}};
    CHECK_EQ(x509_user_verify(bob.certs[0], bad, 1, ca_root.certs[0], &now_t, &u, &why), -EPERM);
    CHECK_STR(why, "comes with a CA certificate that does not parse");
    /* The source's own certificate presented as a user's: no user, whatever it says. */
    CHECK_EQ(x509_user_verify(ca_root.certs[0], NULL, 0, ca_root.certs[0], &now_t, &u, &why),
             -EPERM);
    CHECK_STR(why, "not issued by a trusted identity source");
    CHECK_EQ(x509_user_verify(ca_issuing.certs[0], NULL, 0, ca_root.certs[0], &now_t, &u, &why),
             -EPERM);
    CHECK_STR(why, "is a CA certificate, not a user's");
    /* An anchor that does not parse trusts nothing. */
    CHECK_EQ(x509_user_verify(bob.certs[0], NULL, 0, bad[0], &now_t, &u, &why), -EPERM);
    CHECK_STR(why, "not issued by a trusted identity source");
}

TEST(leaf_does_not_parse)
{
    static uint8_t buf[PEM_VECTOR_DER_MAX + 1];
    struct pem_vector alice;
    struct x509_user u;
    const char *why = "";

    CHECK(load("user-alice", &alice) == 0);
    struct x509_cert junk = {(const uint8_t *)"not a certificate", 17};
    CHECK_EQ(x509_user_verify(junk, NULL, 0, ca_root.certs[0], &now_t, &u, &why), -EINVAL);
    CHECK_STR(why, "does not parse as an X.509 certificate");
    struct x509_cert none = {NULL, 0};
    CHECK_EQ(x509_user_verify(none, NULL, 0, ca_root.certs[0], &now_t, &u, &why), -EINVAL);
    /* A byte after the certificate: not the certificate, whose fingerprint it would not be. */
    memcpy(buf, alice.certs[0].der, alice.certs[0].len);
    struct x509_cert trailing = {buf, alice.certs[0].len + 1};
    CHECK_EQ(x509_user_verify(trailing, NULL, 0, ca_root.certs[0], &now_t, &u, &why), -EINVAL);
    /* Cut short. */
    struct x509_cert cut = {buf, alice.certs[0].len - 1};
    CHECK_EQ(x509_user_verify(cut, NULL, 0, ca_root.certs[0], &now_t, &u, &why), -EINVAL);
}

TEST(dates)
{
    struct pem_vector alice;
    struct x509_user u;
    const char *why = "";

    CHECK(refused("user-expired", &ca_root, "expired on 2021-01-01"));
    CHECK(refused("user-not-yet-valid", &ca_root, "not valid before 2040-01-01"));
    /* Before the CAs' and the leaf's window: the leaf is said first. */
    CHECK(load("user-alice", &alice) == 0);
    x509_time early = {2024, 6, 1, 0, 0, 0};
    CHECK_EQ(x509_user_verify(alice.certs[0], NULL, 0, ca_root.certs[0], &early, &u, &why), -EPERM);
    CHECK_STR(why, "not valid before 2025-01-01");
    CHECK(why == u.why);
}

TEST(client_authentication)
{
    CHECK(accepted("user-no-eku", &ca_root, "noeku@contoso.example"));
    CHECK(accepted("user-any-eku", &ca_root, "anyeku@contoso.example"));
    CHECK(refused("user-eku-serverauth", &ca_root,
                  "not meant for client authentication (extendedKeyUsage)"));
    CHECK(refused("user-ku-keyencipherment", &ca_root,
                  "not meant for client authentication (keyUsage)"));
    CHECK(refused("user-is-ca", &ca_root, "is a CA certificate, not a user's"));
}

TEST(one_user_name)
{
    CHECK(
        refused("user-no-san", &ca_root, "names no user (no rfc822Name or UPN in subjectAltName)"));
    CHECK(refused("user-two-emails", &ca_root, "names more than one user"));
    CHECK(refused("user-email-and-upn", &ca_root, "names more than one user"));
    /* The same user twice (domains differ only in case) is one user, in canonical form. */
    CHECK(accepted("user-email-and-same-upn", &ca_root, "alice@contoso.example"));
    CHECK(accepted("user-mixed-case", &ca_root, "Alice.Smith@contoso.example"));
}

TEST(unusable_names)
{
    static const char unusable[] = "names a user whose name is unusable (printable ASCII "
                                   "local@domain, at most 64 characters, no space)";
    CHECK(refused("user-name-space", &ca_root, unusable));
    CHECK(refused("user-name-nonascii", &ca_root, unusable));
    CHECK(refused("user-name-long", &ca_root, unusable));
}

TEST(untrusted_and_weak)
{
    CHECK(refused("user-evil-alice", &ca_root, "not issued by a trusted identity source"));
    CHECK(refused("user-alice", &ca_evil, "not issued by a trusted identity source"));
    CHECK(refused("user-alice", &ca_issuing, "not issued by a trusted identity source"));
    CHECK(refused("user-sha1", &ca_root,
                  "signed with a refused hash (only SHA-256, SHA-384 or SHA-512)"));
}

TEST(path_length_and_schemes)
{
    /* Northwind Issuing CA has pathLenConstraint 0: the CA under it may not issue. */
    CHECK(refused("user-dan-deep-chain", &nw_root, "not issued by a trusted identity source"));
    /* Trusted as it is, that CA may: what is above an anchor is not looked at. */
    CHECK(accepted("user-dan-deep-chain", &nw_rogue, "dan@northwind.example"));
    CHECK(accepted("user-dan-deep", &nw_rogue, "dan@northwind.example"));
    /* The anchor's own validity counts too. */
    CHECK(refused("user-old-ca", &nw_old, "issued by a CA certificate that expired on 2021-01-01"));
    CHECK(accepted("user-sha384", &nw_root, "sha384@northwind.example"));
    CHECK(refused("user-pss", &nw_root,
                  "signed with a refused algorithm (RSA-PSS, RSA under 2048 bits, or a curve other "
                  "than P-256 and P-384)"));
}

/* A throwaway self-signed certificate whose subject is CN=cn (UTF8String), made here. */
static size_t self_signed(const char *cn, uint8_t *der, size_t cap)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_NAME *name = X509_get_subject_name(x);
    unsigned char *p = der;
    int n = -1;

    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509_set_pubkey(x, key);
    if (X509_sign(x, key, EVP_sha256()) > 0 && i2d_X509(x, NULL) <= (int)cap)
        n = i2d_X509(x, &p);
    X509_free(x);
    EVP_PKEY_free(key);
    return n > 0 ? (size_t)n : 0;
}

TEST(describe)
{
    struct pem_vector alice;
    char subject[X509_SUBJECT_TEXT_MAX + 1];
    uint8_t fp[X509_FP_LEN], want[32];

    CHECK(load("user-alice", &alice) == 0);
    CHECK_EQ(
        x509_user_describe(alice.certs[0].der, alice.certs[0].len, subject, sizeof(subject), fp),
        0);
    CHECK_STR(subject, "CN=alice, O=Contoso");
    sha256_of(&alice.certs[0], want);
    CHECK(memcmp(fp, want, 32) == 0);
    /* Cut to the caller's buffer. */
    CHECK_EQ(x509_user_describe(alice.certs[0].der, alice.certs[0].len, subject, 5, fp), 0);
    CHECK_STR(subject, "CN=a");
    /* A refused certificate is described too (the audit names who was refused). */
    struct pem_vector evil;
    CHECK(load("user-evil-alice", &evil) == 0);
    CHECK_EQ(x509_user_describe(evil.certs[0].der, evil.certs[0].len, subject, sizeof(subject), fp),
             0);
    CHECK_STR(subject, "CN=alice, O=Contoso");
    CHECK_EQ(x509_user_describe(ca_root.certs[0].der, ca_root.certs[0].len, subject,
                                sizeof(subject), fp),
             0);
    CHECK_STR(subject, "CN=Contoso Users CA, O=Contoso");
    /* Components cannot be forged inside a value (RFC 4514 escapes); other bytes are '?'. */
    static uint8_t der[PEM_VECTOR_DER_MAX];
    size_t len = self_signed("alice, O=Contoso+OU=\"x\"\\;<>", der, sizeof(der));
    CHECK(len > 0);
    CHECK_EQ(x509_user_describe(der, len, subject, sizeof(subject), fp), 0);
    CHECK_STR(subject, "CN=alice\\, O\\=Contoso\\+OU\\=\\\"x\\\"\\\\\\;\\<\\>");
    len = self_signed("jos\xc3\xa9\tx", der, sizeof(der));
    CHECK_EQ(x509_user_describe(der, len, subject, sizeof(subject), fp), 0);
    CHECK_STR(subject, "CN=jos???x");
    /* Junk. */
    CHECK_EQ(x509_user_describe((const uint8_t *)"\x30\x03junk", 7, subject, sizeof(subject), fp),
             -EINVAL);
    CHECK_STR(subject, "?");
    CHECK(all_zero(fp, sizeof(fp)));
    CHECK_EQ(x509_user_describe(NULL, 0, subject, sizeof(subject), fp), -EINVAL);
}

TEST(ca_check)
{
    char subject[X509_SUBJECT_TEXT_MAX + 1];
    x509_time until;
    const char *why = "";
    struct pem_vector alice;

    CHECK_EQ(x509_user_ca_check(ca_root.certs[0].der, ca_root.certs[0].len, &now_t, subject,
                                sizeof(subject), &until, &why),
             0);
    CHECK_STR(subject, "CN=Contoso Users CA, O=Contoso");
    CHECK_EQ(until.year, 2045);
    CHECK_EQ(until.mon, 1);
    CHECK_EQ(until.day, 1);
    CHECK_EQ(x509_user_ca_check(ca_issuing.certs[0].der, ca_issuing.certs[0].len, &now_t, subject,
                                sizeof(subject), &until, &why),
             0);
    CHECK_EQ(x509_user_ca_check(ca_fabrikam.certs[0].der, ca_fabrikam.certs[0].len, &now_t, subject,
                                sizeof(subject), &until, &why),
             0);
    CHECK_STR(subject, "CN=Fabrikam Users CA, O=Fabrikam");
    /* A user's certificate is no source. */
    CHECK(load("user-alice", &alice) == 0);
    CHECK_EQ(x509_user_ca_check(alice.certs[0].der, alice.certs[0].len, &now_t, subject,
                                sizeof(subject), &until, &why),
             -EPERM);
    CHECK_STR(why, "not a CA certificate (basicConstraints cA is not set)");
    CHECK_STR(subject, "CN=alice, O=Contoso");
    /* An expired CA, named and dated still so the operator sees which and since when. */
    CHECK_EQ(x509_user_ca_check(ca_expired.certs[0].der, ca_expired.certs[0].len, &now_t, subject,
                                sizeof(subject), &until, &why),
             -EPERM);
    CHECK_STR(why, "the CA certificate has expired (notAfter is in the past)");
    CHECK_STR(subject, "CN=Old Contoso Users CA, O=Contoso");
    CHECK_EQ(until.year, 2021);
    x509_time early = {2024, 1, 1, 0, 0, 0};
    CHECK_EQ(x509_user_ca_check(ca_root.certs[0].der, ca_root.certs[0].len, &early, subject,
                                sizeof(subject), &until, &why),
             -EPERM);
    CHECK_STR(why, "the CA certificate is not valid yet (notBefore is in the future)");
    CHECK_EQ(x509_user_ca_check((const uint8_t *)"junk", 4, &now_t, subject, sizeof(subject),
                                &until, &why),
             -EINVAL);
    CHECK_STR(why, "not an X.509 certificate");
    CHECK_STR(subject, "?");
    CHECK_EQ(x509_user_ca_check(nw_nosign.certs[0].der, nw_nosign.certs[0].len, &now_t, subject,
                                sizeof(subject), &until, &why),
             -EPERM);
    CHECK_STR(why,
              "a CA certificate that may not sign certificates (keyUsage without keyCertSign)");
    CHECK_STR(subject, "CN=Northwind No-Sign CA");
    /* An intermediate of a larger PKI may be a source. */
    CHECK_EQ(x509_user_ca_check(nw_rogue.certs[0].der, nw_rogue.certs[0].len, &now_t, subject,
                                sizeof(subject), &until, &why),
             0);
}

TEST(name_ok)
{
    char s[80];

    CHECK(x509_user_name_ok("alice@contoso.example"));
    CHECK(x509_user_name_ok("a@b"));
    CHECK(x509_user_name_ok("alice+tag@Contoso.Example"));
    CHECK(!x509_user_name_ok(NULL));
    CHECK(!x509_user_name_ok(""));
    CHECK(!x509_user_name_ok("alice"));
    CHECK(!x509_user_name_ok("@contoso.example"));
    CHECK(!x509_user_name_ok("alice@"));
    CHECK(!x509_user_name_ok("alice@@contoso.example"));
    CHECK(!x509_user_name_ok("alice@contoso@example"));
    CHECK(!x509_user_name_ok("alice smith@contoso.example"));
    CHECK(!x509_user_name_ok("alice@contoso.example "));
    CHECK(!x509_user_name_ok("alice\t@contoso.example"));
    CHECK(!x509_user_name_ok("alice\x7f@contoso.example"));
    CHECK(!x509_user_name_ok("jos\xc3\xa9@contoso.example"));
    /* 64 characters in all is the most (a RAC's CN); 65 is one too many. */
    memset(s, 'a', sizeof(s));
    memcpy(s + 48, "@contoso.example", 17); /* 48 + 16 = 64 */
    CHECK_EQ(strlen(s), 64);
    CHECK(x509_user_name_ok(s));
    memset(s, 'a', sizeof(s));
    memcpy(s + 49, "@contoso.example", 17);
    CHECK_EQ(strlen(s), 65);
    CHECK(!x509_user_name_ok(s));
}

TEST(name_equal_and_canon)
{
    char s[X509_CN_MAX + 1];

    CHECK(x509_user_name_equal("alice@contoso.example", "alice@contoso.example"));
    CHECK(x509_user_name_equal("alice@Contoso.EXAMPLE", "alice@contoso.example"));
    CHECK(!x509_user_name_equal("Alice@contoso.example", "alice@contoso.example"));
    CHECK(!x509_user_name_equal("alice@contoso.example", "alice@contoso.examplex"));
    CHECK(!x509_user_name_equal("alice@contoso.example", "alicex@contoso.example"));
    CHECK(!x509_user_name_equal("alice@contoso.example", "alice@fabrikam.example"));
    CHECK(!x509_user_name_equal("alice", "alice"));
    CHECK(!x509_user_name_equal(NULL, "alice@contoso.example"));
    CHECK_STR(x509_user_domain("alice@Contoso.example"), "Contoso.example");
    CHECK(x509_user_domain("alice") == NULL);
    CHECK(x509_user_domain(NULL) == NULL);
    memcpy(s, "Alice.Smith@Contoso.EXAMPLE", 28);
    x509_user_name_canon(s);
    CHECK_STR(s, "Alice.Smith@contoso.example");
    memcpy(s, "Not A Name", 11);
    x509_user_name_canon(s);
    CHECK_STR(s, "Not A Name");
}

int main(void)
{
    if (load("contoso-root-ca", &ca_root) || load("contoso-issuing-ca", &ca_issuing) ||
        load("fabrikam-ca", &ca_fabrikam) || load("evil-ca", &ca_evil) ||
        load("expired-ca", &ca_expired) || load("northwind-root-ca", &nw_root) ||
        load("northwind-rogue-ca", &nw_rogue) || load("northwind-old-ca", &nw_old) ||
        load("northwind-nosign-ca", &nw_nosign)) {
        fprintf(stderr, "identity vectors missing (tests/unit/vectors/identity)\n");
        return 1;
    }
    RUN(alice_accepted);
    RUN(carol_ec_accepted);
    RUN(bob_through_intermediate);
    RUN(chain_bounds);
    RUN(leaf_does_not_parse);
    RUN(dates);
    RUN(client_authentication);
    RUN(one_user_name);
    RUN(unusable_names);
    RUN(untrusted_and_weak);
    RUN(path_length_and_schemes);
    RUN(describe);
    RUN(ca_check);
    RUN(name_ok);
    RUN(name_equal_and_canon);
    return unit_summary();
}
