/*
 * firmware/issue over the real firmware/token, acl, identity, enroll and revoke and
 * tests/unit/fake_p11: a root with no SLC refuses every sub-enrollment, granted principal or
 * not, well-formed or not, and changes nothing in the token. (The "not granted" and malformed
 * refusals of an enrolled root need an installed SLC, which needs a fake token that signs.)
 * And the authorization issuing decides from the caller an adapter names (issue_granted,
 * issue_who), against users' certificates from tests/unit/vectors/identity.
 */
#include "firmware/issue/issue.h"

#include <errno.h>

#include "fake_p11.h"
#include "pem_vectors.h"
#include "unit.h"

#ifndef IDENTITY_VECTORS
#define IDENTITY_VECTORS "tests/unit/vectors/identity"
#endif

#define PIN "123456"

static struct token tok;
static struct enroll en;
static struct acl acl;
static struct identity ids;
static struct revoke rev;
static struct issue is;
static const x509_time now = {2026, 12, 3, 9, 0, 0};
static const uint8_t fp_a[ACL_FP_LEN] = {0xa1};
static const uint8_t fp_b[ACL_FP_LEN] = {0xb1};
static char out[16384];

static void booted_with_a_granted(void)
{
    const char *why = NULL;

    fake_p11_reset();
    token_init(&tok);
    CHECK_EQ(token_login(&tok, (const uint8_t *)PIN, strlen(PIN)), CKR_OK);
    CHECK_EQ(token_generate_key(&tok, &tok.slc, TOKEN_P256, false), CKR_OK);
    enroll_init(&en, &tok, "SIGNET-TEST", "0.0-test");
    CHECK_EQ(enroll_load(&en, &why), 0);
    acl_init(&acl, &tok);
    CHECK_EQ(acl_load(&acl, &why), 0);
    CHECK_EQ(acl_grant(&acl, fp_a, "alpha", &why), 0);
    identity_init(&ids, &tok);
    CHECK_EQ(identity_load(&ids, &why), 0);
    revoke_init(&rev, &tok, &en);
    (void)revoke_load(&rev, &why);
    issue_init(&is, &tok, &en, &acl, &ids, &rev);
}

static void refused_writes_nothing(const uint8_t *fp, const char *xml)
{
    char who[ISSUE_WHO_MAX] = "";
    const char *why = NULL;
    size_t olen = 0;
    int mutations = fake_p11_mutations();
    uint8_t prefix[ACL_PREFIX_LEN];

    memcpy(prefix, acl_find(&acl, fp_a)->prefix, sizeof(prefix));

    CHECK(issue_subenroll(&is, fp, xml, strlen(xml), &now, out, sizeof(out), &olen, who, &why) < 0);
    CHECK(why != NULL);
    CHECK_STR(why, "not enrolled");
    CHECK_EQ(fake_p11_mutations(), mutations);
    /* the net task's half refuses alike, and asks the token nothing */
    static struct issue_cert_req r;
    int calls = fake_p11_calls();
    why = NULL;
    CHECK_EQ(issue_subenroll_check(&is, fp, xml, strlen(xml), &now, &r, who, &why), -EAGAIN);
    CHECK_STR(why, "not enrolled");
    CHECK_EQ(fake_p11_calls(), calls);
    CHECK(acl_find(&acl, fp_a) != NULL && !acl_find(&acl, fp_a)->has_serial);
    CHECK(memcmp(acl_find(&acl, fp_a)->prefix, prefix, sizeof(prefix)) == 0);
}

TEST(a_root_not_enrolled_refuses_everyone_and_nothing_changes)
{
    booted_with_a_granted();
    CHECK_EQ(enroll_state(&en, &now), ENROLL_KEY_GENERATED);
    refused_writes_nothing(fp_b, "<signet-subenrollment-request/>");
    refused_writes_nothing(fp_a, "<not-a-request>");
    refused_writes_nothing(fp_a, "");
    refused_writes_nothing(NULL, "<not-a-request>");
}

static const struct issue_caller console = {true, NULL, NULL, 0};

static int mutations_seen;

/* Asking changes nothing in the token (checked by the caller against mutations_seen). */
static int granted(const struct issue_caller *c, const char **why)
{
    mutations_seen = fake_p11_mutations();
    return issue_granted(&is, c, why);
}

TEST(the_console_and_only_granted_certificates_may_sub_enroll)
{
    const struct issue_caller none = {false, NULL, NULL, 0};
    const struct issue_caller a = {false, fp_a, NULL, 0}, b = {false, fp_b, NULL, 0};
    const char *why = NULL;

    booted_with_a_granted();
    CHECK_EQ(granted(&console, &why), 0);
    CHECK_EQ(granted(&a, &why), 0);
    CHECK_EQ(granted(&b, &why), -EPERM);
    CHECK_STR(why, "not granted");
    CHECK_EQ(fake_p11_mutations(), mutations_seen);
    CHECK_EQ(granted(&none, &why), -EPERM);
    CHECK_STR(why, "not granted: present a TLS client certificate granted on the root (acl grant)");
    /* a revoked grant is gone at once; an ACL not read grants nobody */
    CHECK_EQ(acl_revoke(&acl, fp_a, &why), 0);
    CHECK_EQ(granted(&a, &why), -EPERM);
    CHECK_EQ(acl_grant(&acl, fp_a, "alpha", &why), 0);
    CHECK_EQ(granted(&a, &why), 0);
    acl.loaded = false;
    CHECK_EQ(granted(&a, &why), -EPERM);
    CHECK_STR(why, "not granted");
    CHECK_EQ(granted(&console, &why), 0);
    CHECK_EQ(fake_p11_mutations(), mutations_seen);
}

static bool load(const char *file, struct pem_vector *pv)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", IDENTITY_VECTORS, file);
    return pem_vector_load(path, pv) == 0;
}

TEST(the_user_is_who_the_identity_sources_prove_never_the_console)
{
    static struct pem_vector ca, alice, carol;
    static const x509_time when = {.year = 2026, .mon = 6, .day = 1, .hour = 12}; /* vectors' */
    struct identity_user u;
    const char *why = NULL;

    booted_with_a_granted();
    CHECK(load("contoso-root-ca.pem", &ca));
    CHECK(load("user-alice.pem", &alice));
    CHECK(load("user-carol-ec.pem", &carol));
    const struct issue_caller direct = {false, fp_b, alice.certs, alice.n};
    const struct issue_caller none = {false, NULL, NULL, 0};

    /* nobody is a user while no source is trusted, and the console never is */
    CHECK_EQ(issue_who(&is, &direct, NULL, 0, &when, &u, &why), -EPERM);
    CHECK_STR(why, "no identity source is trusted");
    CHECK_EQ(issue_who(&is, &console, NULL, 0, &when, &u, &why), -EACCES);
    CHECK_EQ(issue_who(&is, &none, NULL, 0, &when, &u, &why), -EACCES);
    CHECK_EQ(
        identity_import(&ids, ca.certs[0].der, ca.certs[0].len, "contoso.example", &when, &why), 0);
    /* the TLS chain names the user */
    CHECK_EQ(issue_who(&is, &direct, NULL, 0, &when, &u, &why), 0);
    CHECK_STR(u.cert.name, "alice@contoso.example");
    CHECK_STR(u.via, "");
    /* a certificate the sources do not vouch for is no user */
    const struct issue_caller other = {false, fp_b, carol.certs, carol.n};
    CHECK_EQ(issue_who(&is, &other, NULL, 0, &when, &u, &why), -EPERM);
    /* a UserChain counts only from a licensing server the ACL grants, and names it */
    const struct issue_caller server_a = {false, fp_a, carol.certs, 1};
    const struct issue_caller server_b = {false, fp_b, carol.certs, 1};
    CHECK_EQ(issue_who(&is, &server_a, alice.certs, alice.n, &when, &u, &why), 0);
    CHECK_STR(u.cert.name, "alice@contoso.example");
    CHECK_STR(u.via, "alpha");
    CHECK_EQ(issue_who(&is, &server_b, alice.certs, alice.n, &when, &u, &why), -EPERM);
    CHECK_STR(why, "a user chain is taken only from a granted licensing server");
    CHECK_EQ(issue_who(&is, &console, alice.certs, alice.n, &when, &u, &why), -EACCES);
}

int main(void)
{
    RUN(a_root_not_enrolled_refuses_everyone_and_nothing_changes);
    RUN(the_console_and_only_granted_certificates_may_sub_enroll);
    RUN(the_user_is_who_the_identity_sources_prove_never_the_console);
    return unit_summary();
}
