/*
 * firmware/enroll's state machine through its public API, over the real firmware/token and
 * tests/unit/fake_p11: the state is what the token holds (a fresh appliance loading it sees the
 * same), configuration changes persist and a cut at any call leaves the old or the new one, and
 * a refused change or response writes nothing to the token.
 */
#include "firmware/enroll/enroll.h"

#include "fake_p11.h"
#include "unit.h"

#define PIN "123456"

static struct token tok;
static struct enroll en;
static const x509_time now = {2026, 12, 3, 9, 0, 0};

/* The appliance (re)starts with a new connection, the operator logs in, the state is read. */
static int boot(void)
{
    const char *why = NULL;

    fake_p11_power_on();
    fake_p11_link_lost();
    token_init(&tok);
    enroll_init(&en, &tok, "SIGNET-TEST", "0.0-test");
    if (token_login(&tok, (const uint8_t *)PIN, strlen(PIN)) != CKR_OK)
        return -1;
    return enroll_load(&en, &why);
}

static void with_key(void)
{
    fake_p11_reset();
    CHECK_EQ(boot(), 0);
    CHECK_EQ(token_generate_key(&tok, &tok.slc, TOKEN_P256, false), CKR_OK);
    CHECK_EQ(boot(), 0);
}

TEST(states_follow_the_token_objects)
{
    const char *why = NULL;

    fake_p11_reset();
    token_init(&tok);
    enroll_init(&en, &tok, "SIGNET-TEST", "0.0-test");
    CHECK_EQ(enroll_state(&en, &now), ENROLL_UNKNOWN); /* nobody logged in: nothing loaded */
    CHECK_EQ(boot(), 0);
    CHECK_EQ(enroll_state(&en, &now), ENROLL_UNPROVISIONED);
    CHECK(!enroll_serving(&en, &now));
    CHECK_EQ(token_generate_key(&tok, &tok.slc, TOKEN_P256, false), CKR_OK);
    CHECK_EQ(boot(), 0);
    CHECK_EQ(enroll_state(&en, &now), ENROLL_KEY_GENERATED);
    CHECK_EQ(enroll_request_record(&en, DOC_ENROLLMENT, &why), 0);
    CHECK_EQ(enroll_state(&en, &now), ENROLL_REQUEST_EXPORTED);
    CHECK_EQ(boot(), 0);
    CHECK_EQ(enroll_state(&en, &now), ENROLL_REQUEST_EXPORTED);
    CHECK(!enroll_serving(&en, &now));
}

TEST(a_name_persists_and_a_cut_leaves_old_or_new)
{
    const char *why = NULL;

    with_key();
    CHECK_EQ(enroll_set_name(&en, "alpha.example", &why), 0);
    CHECK_EQ(boot(), 0);
    CHECK_STR(en.cfg.name, "alpha.example");
    int before = fake_p11_calls();
    CHECK_EQ(enroll_set_name(&en, "beta.example", &why), 0);
    int calls = fake_p11_calls() - before;

    CHECK(calls >= 4);
    for (int n = 1; n <= calls; n++) {
        with_key();
        CHECK_EQ(enroll_set_name(&en, "alpha.example", &why), 0);
        fake_p11_power_cut_at(n, n % 2);
        CHECK(enroll_set_name(&en, "beta.example", &why) != 0);
        CHECK_STR(en.cfg.name, "alpha.example"); /* RAM changes only once the token has it */
        CHECK_EQ(boot(), 0);
        if (strcmp(en.cfg.name, "alpha.example") != 0)
            CHECK_STR(en.cfg.name, "beta.example");
    }
}

TEST(refusals_write_nothing)
{
    static const uint8_t not_a_cert[] = {0x30, 0x03, 0x02, 0x01, 0x01};
    static const char not_a_response[] = "<signet-enrollment-response>junk";
    struct x509_info info;
    const char *why = NULL;

    with_key();
    int mutations = fake_p11_mutations();
    why = NULL;
    CHECK(enroll_set_name(&en, "bad name\x01", &why) != 0);
    CHECK(why != NULL);
    why = NULL;
    CHECK(enroll_trust(&en, not_a_cert, sizeof(not_a_cert), &now, &why) != 0);
    CHECK(why != NULL);
    why = NULL;
    CHECK(enroll_check(&en, not_a_response, strlen(not_a_response), &now, &info, &why) != 0);
    CHECK(why != NULL);
    why = NULL;
    CHECK(enroll_set_root_url(&en, "ftp://nowhere/path", &why) != 0);
    CHECK(why != NULL);
    CHECK_EQ(fake_p11_mutations(), mutations);
    CHECK_EQ(enroll_state(&en, &now), ENROLL_KEY_GENERATED);
}

TEST(a_damaged_configuration_is_refused_at_load)
{
    static const uint8_t junk[] = {0xff, 0xff, 0xff};
    const char *why = NULL;

    with_key();
    CHECK_EQ(enroll_set_name(&en, "alpha.example", &why), 0);
    struct fake_p11_obj *o = fake_p11_objects();
    for (int i = 0; i < FAKE_P11_OBJS; i++)
        if (o[i].used && o[i].cls == CKO_DATA && strcmp(o[i].label, "signet-config") == 0) {
            memcpy(o[i].value, junk, sizeof(junk));
            o[i].value_len = sizeof(junk);
        }
    CHECK(boot() != 0);
    CHECK(!enroll_serving(&en, &now));
}

static unsigned calls_seen, calls_wrong;

/* The net task reads the state while a reload waits for the token. */
static void look_while_loading(void)
{
    calls_seen++;
    if (enroll_state(&en, &now) != ENROLL_REQUEST_EXPORTED || !en.spki_len)
        calls_wrong++;
}

TEST(a_reload_shows_the_old_state_until_the_new_one_is_whole)
{
    const char *why = NULL;

    with_key();
    CHECK_EQ(enroll_request_record(&en, DOC_ENROLLMENT, &why), 0);
    calls_seen = calls_wrong = 0;
    fake_p11_on_call(look_while_loading);
    CHECK_EQ(enroll_load(&en, &why), 0);
    fake_p11_on_call(NULL);
    CHECK(calls_seen >= 3);
    CHECK_EQ(calls_wrong, 0);
    CHECK_EQ(enroll_state(&en, &now), ENROLL_REQUEST_EXPORTED);
}

int main(void)
{
    RUN(states_follow_the_token_objects);
    RUN(a_name_persists_and_a_cut_leaves_old_or_new);
    RUN(refusals_write_nothing);
    RUN(a_damaged_configuration_is_refused_at_load);
    RUN(a_reload_shows_the_old_state_until_the_new_one_is_whole);
    return unit_summary();
}
