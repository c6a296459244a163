/*
 * firmware/issue's sub-enrollment refusals over the real firmware/token, acl, enroll and revoke
 * and tests/unit/fake_p11: a root with no SLC refuses every sub-enrollment, granted principal or
 * not, well-formed or not, and changes nothing in the token. (The "not granted" and malformed
 * refusals of an enrolled root need an installed SLC, which needs a fake token that signs.)
 */
#include "firmware/issue/issue.h"

#include "fake_p11.h"
#include "unit.h"

#define PIN "123456"

static struct token tok;
static struct enroll en;
static struct acl acl;
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
    revoke_init(&rev, &tok, &en);
    (void)revoke_load(&rev, &why);
    issue_init(&is, &tok, &en, &acl, &rev);
}

static void refused_writes_nothing(const uint8_t *fp, const char *xml)
{
    char who[ISSUE_WHO_MAX] = "";
    const char *why = NULL;
    size_t olen = 0;
    int mutations = fake_p11_mutations();
    uint8_t prefix[ACL_PREFIX_LEN];

    memcpy(prefix, acl_find(&acl, fp_a)->prefix, sizeof(prefix));

    CHECK(issue_subenroll(&is, fp, xml, strlen(xml), &now, out, sizeof(out), &olen, who, &why,
                          NULL) < 0);
    CHECK(why != NULL);
    CHECK_STR(why, "not enrolled");
    CHECK_EQ(fake_p11_mutations(), mutations);
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

int main(void)
{
    RUN(a_root_not_enrolled_refuses_everyone_and_nothing_changes);
    return unit_summary();
}
