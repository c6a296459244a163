/*
 * firmware/acl over the real firmware/token and tests/unit/fake_p11: grants and revocations are
 * what a fresh appliance (restart, login, acl_load) finds in the token; a grant or revocation cut
 * at any call leaves the old list or the new one, and the appliance's RAM copy unchanged when the
 * call failed; a list the token cannot give, or gives damaged, grants nobody.
 */
#include "firmware/acl/acl.h"

#include <errno.h>

#include "fake_p11.h"
#include "unit.h"

#define PIN "123456"

static struct token tok;
static struct acl acl;
static const uint8_t fp_a[ACL_FP_LEN] = {0xa1, 0xa2};
static const uint8_t fp_b[ACL_FP_LEN] = {0xb1, 0xb2};

/* The appliance (re)starts with a new connection, the operator logs in, the list is read. */
static int boot(void)
{
    const char *why = NULL;

    fake_p11_power_on();
    fake_p11_link_lost();
    token_init(&tok);
    acl_init(&acl, &tok);
    if (token_login(&tok, (const uint8_t *)PIN, strlen(PIN)) != CKR_OK)
        return -EIO;
    return acl_load(&acl, &why);
}

/* A token whose list grants A. */
static void granted_a(void)
{
    const char *why = NULL;

    fake_p11_reset();
    (void)boot();
    CHECK_EQ(acl_grant(&acl, fp_a, "alpha", &why), 0);
}

TEST(grant_and_revoke_are_what_a_fresh_appliance_finds)
{
    const char *why = NULL;

    fake_p11_reset();
    CHECK_EQ(boot(), 0);
    CHECK(acl_find(&acl, fp_a) == NULL); /* empty by default */
    CHECK_EQ(acl_grant(&acl, fp_a, "alpha", &why), 0);
    CHECK_EQ(acl_grant(&acl, fp_b, "beta", &why), 0);
    CHECK_EQ(boot(), 0);
    CHECK(acl_find(&acl, fp_a) != NULL);
    CHECK_STR(acl_find(&acl, fp_a)->name, "alpha");
    CHECK(acl_find(&acl, fp_b) != NULL);
    CHECK_EQ(acl_revoke(&acl, fp_a, &why), 0);
    CHECK_EQ(boot(), 0);
    CHECK(acl_find(&acl, fp_a) == NULL);
    CHECK(acl_find(&acl, fp_b) != NULL);
    CHECK_EQ(fake_p11_count(CKO_DATA, "signet-acl"), 1);
}

/* How many token calls a grant of B (A granted) makes. */
static int grant_calls(void)
{
    const char *why = NULL;

    granted_a();
    int before = fake_p11_calls();
    if (acl_grant(&acl, fp_b, "beta", &why) != 0)
        return 0;
    return fake_p11_calls() - before;
}

TEST(grant_cut_at_every_call_leaves_old_or_new_list)
{
    int calls = grant_calls();
    const char *why = NULL;

    CHECK(calls > 0);
    for (int applies = 0; applies < 2; applies++)
        for (int n = 1; n <= calls; n++) {
            granted_a();
            fake_p11_power_cut_at(n, applies);
            CHECK(acl_grant(&acl, fp_b, "beta", &why) != 0);
            CHECK(acl_find(&acl, fp_b) == NULL); /* RAM follows the token, never ahead of it */
            CHECK_EQ(boot(), 0);
            CHECK(acl_find(&acl, fp_a) != NULL); /* old (A) or new (A, B): A either way */
        }
}

TEST(revoke_cut_at_every_call_leaves_old_or_new_list)
{
    const char *why = NULL;
    int calls;

    granted_a();
    CHECK_EQ(acl_grant(&acl, fp_b, "beta", &why), 0);
    int before = fake_p11_calls();
    CHECK_EQ(acl_revoke(&acl, fp_a, &why), 0);
    calls = fake_p11_calls() - before;
    for (int n = 1; n <= calls; n++) {
        granted_a();
        CHECK_EQ(acl_grant(&acl, fp_b, "beta", &why), 0);
        fake_p11_power_cut_at(n, n % 2);
        CHECK(acl_revoke(&acl, fp_a, &why) != 0);
        CHECK(acl_find(&acl, fp_a) != NULL);
        CHECK_EQ(boot(), 0);
        CHECK(acl_find(&acl, fp_b) != NULL); /* old (A, B) or new (B) */
    }
}

TEST(a_damaged_list_grants_nobody)
{
    static const uint8_t junk[] = {0xff, 0x00, 0x13, 0x37, 0x42};

    granted_a();
    struct fake_p11_obj *o = fake_p11_objects();
    for (int i = 0; i < FAKE_P11_OBJS; i++)
        if (o[i].used && o[i].cls == CKO_DATA && strcmp(o[i].label, "signet-acl") == 0) {
            memcpy(o[i].value, junk, sizeof(junk));
            o[i].value_len = sizeof(junk);
        }
    CHECK(boot() < 0);
    CHECK(acl_find(&acl, fp_a) == NULL);
}

TEST(a_list_the_token_cannot_give_grants_nobody)
{
    const char *why = NULL;

    granted_a();
    acl_init(&acl, &tok);
    fake_p11_power_cut_at(1, false);
    CHECK(acl_load(&acl, &why) < 0);
    CHECK(why != NULL);
    CHECK(acl_find(&acl, fp_a) == NULL);
}

TEST(refused_revoke_writes_nothing)
{
    const char *why = NULL;

    granted_a();
    int mutations = fake_p11_mutations();
    CHECK_EQ(acl_revoke(&acl, fp_b, &why), -ENOENT);
    CHECK_EQ(fake_p11_mutations(), mutations);
}

static unsigned calls_seen, calls_wrong;

/* The net task checks grants while a reload waits for the token. */
static void look_while_loading(void)
{
    calls_seen++;
    if (!acl.loaded || !acl_find(&acl, fp_a))
        calls_wrong++;
}

TEST(a_reload_grants_as_before_while_it_waits_for_the_token)
{
    const char *why = NULL;

    granted_a();
    calls_seen = calls_wrong = 0;
    fake_p11_on_call(look_while_loading);
    CHECK_EQ(acl_load(&acl, &why), 0);
    fake_p11_on_call(NULL);
    CHECK(calls_seen >= 1);
    CHECK_EQ(calls_wrong, 0);
    CHECK(acl_find(&acl, fp_a) != NULL);
    /* a token that does not answer leaves the list as it was: it signs nothing either */
    fake_p11_power_cut_at(1, false);
    CHECK_EQ(acl_load(&acl, &why), -EIO);
    CHECK(acl.loaded && acl_find(&acl, fp_a) != NULL);
    fake_p11_power_on();
}

int main(void)
{
    RUN(grant_and_revoke_are_what_a_fresh_appliance_finds);
    RUN(grant_cut_at_every_call_leaves_old_or_new_list);
    RUN(revoke_cut_at_every_call_leaves_old_or_new_list);
    RUN(a_damaged_list_grants_nobody);
    RUN(a_list_the_token_cannot_give_grants_nobody);
    RUN(refused_revoke_writes_nothing);
    RUN(a_reload_grants_as_before_while_it_waits_for_the_token);
    return unit_summary();
}
