/*
 * firmware/token's data objects and certificates against tests/unit/fake_p11: a replacement cut
 * at every call of it (the answer lost, or the request too; the link dropping, or the power) is
 * followed by a fresh appliance (token_init + login + read), which must see the old value or the
 * new one — never neither, never a mix. Also: re-login after the link drops, a wrong PIN, random.
 */
#include "firmware/token/token.h"

#include "fake_p11.h"
#include "unit.h"

#define PIN  "123456"
#define NAME "signet-config"
#define OLD  "old value: the configuration before"
#define NEW  "the new value, longer than the old one"

static struct token tok;

/* The appliance (re)starts: its RAM is new and so is its connection, the token is as it was. */
static void restart(void)
{
    fake_p11_power_on();
    fake_p11_link_lost();
    token_init(&tok);
}

/* A restart, and the operator logs in. */
static CK_RV boot(void)
{
    restart();
    return token_login(&tok, (const uint8_t *)PIN, strlen(PIN));
}

/* What a fresh appliance reads under NAME: "" when there is none. */
static const char *read_back(char *buf, size_t cap)
{
    size_t len = 0;

    buf[0] = 0;
    if (boot() != CKR_OK)
        return "(login failed)";
    if (token_data_read(&tok, NAME, (uint8_t *)buf, cap - 1, &len) != CKR_OK)
        return "(read failed)";
    buf[len] = 0;
    return buf;
}

static void token_with_old(void)
{
    fake_p11_reset();
    CHECK_EQ(boot(), CKR_OK);
    CHECK_EQ(token_data_write(&tok, NAME, (const uint8_t *)OLD, strlen(OLD)), CKR_OK);
}

/* How many calls a clean replacement of the value makes. */
static int replacement_calls(void)
{
    token_with_old();
    int before = fake_p11_calls();
    if (token_data_write(&tok, NAME, (const uint8_t *)NEW, strlen(NEW)) != CKR_OK)
        return 0;
    return fake_p11_calls() - before;
}

TEST(write_then_a_fresh_appliance_reads_it)
{
    char buf[128];

    token_with_old();
    CHECK_STR(read_back(buf, sizeof(buf)), OLD);
    CHECK_EQ(token_data_write(&tok, NAME, (const uint8_t *)NEW, strlen(NEW)), CKR_OK);
    CHECK_STR(read_back(buf, sizeof(buf)), NEW);
    CHECK_EQ(fake_p11_count(CKO_DATA, NAME), 1);
}

TEST(power_cut_at_every_call_of_a_replacement_leaves_old_or_new)
{
    int calls = replacement_calls();
    char buf[128];

    CHECK(calls >= 4); /* stage, retire, rename: at least that many calls to cut */
    for (int applies = 0; applies < 2; applies++)
        for (int n = 1; n <= calls; n++) {
            token_with_old();
            fake_p11_power_cut_at(n, applies);
            CHECK(token_data_write(&tok, NAME, (const uint8_t *)NEW, strlen(NEW)) != CKR_OK);
            const char *seen = read_back(buf, sizeof(buf));
            if (strcmp(seen, OLD) != 0 && strcmp(seen, NEW) != 0)
                CHECK_STR(seen, "old or new");
            CHECK_EQ(fake_p11_count(CKO_DATA, NAME), 1);
        }
}

TEST(link_drop_at_every_call_is_retried_to_the_new_value)
{
    int calls = replacement_calls();
    char buf[128];

    for (int applies = 0; applies < 2; applies++)
        for (int n = 1; n <= calls; n++) {
            token_with_old();
            uint32_t relogins = tok.relogins;
            fake_p11_fail_at(n, applies);
            CHECK_EQ(token_data_write(&tok, NAME, (const uint8_t *)NEW, strlen(NEW)), CKR_OK);
            CHECK_EQ(tok.relogins, relogins + 1); /* a fresh session, logged in with the held PIN */
            CHECK_STR(read_back(buf, sizeof(buf)), NEW);
            CHECK_EQ(fake_p11_count(CKO_DATA, NAME), 1);
        }
}

TEST(link_lost_between_calls_relogs_in_and_reads)
{
    char buf[128];
    size_t len = 0;

    token_with_old();
    uint32_t relogins = tok.relogins;
    fake_p11_link_lost();
    CHECK_EQ(token_data_read(&tok, NAME, (uint8_t *)buf, sizeof(buf) - 1, &len), CKR_OK);
    buf[len] = 0;
    CHECK_STR(buf, OLD);
    CHECK_EQ(tok.relogins, relogins + 1);
}

TEST(wrong_pin_is_refused_and_hides_private_data)
{
    char buf[128];
    size_t len = 99;

    token_with_old();
    /* Logged in already: the new login is judged, not masked by the old one. */
    CHECK_EQ(token_login(&tok, (const uint8_t *)"654321", 6), CKR_PIN_INCORRECT);
    CHECK(!tok.logged_in);
    restart();
    CHECK_EQ(token_login(&tok, (const uint8_t *)"654321", 6), CKR_PIN_INCORRECT);
    CHECK(!tok.logged_in);
    CHECK_EQ(token_data_read(&tok, NAME, (uint8_t *)buf, sizeof(buf), &len), CKR_OK);
    CHECK_EQ(len, 0); /* private: not visible to a session not logged in */
    int mutations = fake_p11_mutations();
    CHECK(token_data_write(&tok, NAME, (const uint8_t *)NEW, strlen(NEW)) != CKR_OK);
    CHECK_EQ(fake_p11_mutations(), mutations);
    CHECK_STR(read_back(buf, sizeof(buf)), OLD);
}

TEST(value_larger_than_the_reader_s_buffer_is_refused)
{
    char buf[8];
    size_t len = 0;

    token_with_old();
    CHECK_EQ(token_data_read(&tok, NAME, (uint8_t *)buf, sizeof(buf), &len), CKR_BUFFER_TOO_SMALL);
}

TEST(random_bytes_come_from_the_token)
{
    uint8_t a[32] = {0}, b[32] = {0};

    fake_p11_reset();
    CHECK_EQ(boot(), CKR_OK);
    int before = fake_p11_calls();
    CHECK_EQ(token_random(&tok, a, sizeof(a)), CKR_OK);
    CHECK_EQ(token_random(&tok, b, sizeof(b)), CKR_OK);
    CHECK(fake_p11_calls() > before);
    CHECK(memcmp(a, b, sizeof(a)) != 0);
    fake_p11_power_cut_at(1, false);
    CHECK(token_random(&tok, a, sizeof(a)) != CKR_OK);
}

#define CERT_ID "signet-slc"
static const uint8_t subject[] = {0x30, 0x00};

static const char *cert_back(char *buf, size_t cap)
{
    size_t len = 0;

    buf[0] = 0;
    if (boot() != CKR_OK)
        return "(login failed)";
    if (token_cert_read(&tok, CERT_ID, (uint8_t *)buf, cap - 1, &len) != CKR_OK)
        return "(read failed)";
    buf[len] = 0;
    return buf;
}

static CK_RV cert_write(const char *der)
{
    return token_cert_write(&tok, CERT_ID, "SLC", (const uint8_t *)der, strlen(der), subject,
                            sizeof(subject));
}

TEST(certificate_replacement_cut_anywhere_leaves_old_or_new)
{
    char buf[128];

    fake_p11_reset();
    CHECK_EQ(boot(), CKR_OK);
    CHECK_STR(cert_back(buf, sizeof(buf)), "");
    CHECK_EQ(cert_write(OLD), CKR_OK);
    CHECK_STR(cert_back(buf, sizeof(buf)), OLD);
    int before = fake_p11_calls();
    CHECK_EQ(cert_write(NEW), CKR_OK);
    int calls = fake_p11_calls() - before;
    CHECK_STR(cert_back(buf, sizeof(buf)), NEW);

    for (int n = 1; n <= calls; n++) {
        fake_p11_reset();
        CHECK_EQ(boot(), CKR_OK);
        CHECK_EQ(cert_write(OLD), CKR_OK);
        fake_p11_power_cut_at(n, n % 2);
        CHECK(cert_write(NEW) != CKR_OK);
        const char *seen = cert_back(buf, sizeof(buf));
        if (strcmp(seen, OLD) != 0 && strcmp(seen, NEW) != 0)
            CHECK_STR(seen, "old or new");
        CHECK_EQ(fake_p11_count(CKO_CERTIFICATE, CERT_ID), 1);
    }
}

int main(void)
{
    RUN(write_then_a_fresh_appliance_reads_it);
    RUN(power_cut_at_every_call_of_a_replacement_leaves_old_or_new);
    RUN(link_drop_at_every_call_is_retried_to_the_new_value);
    RUN(link_lost_between_calls_relogs_in_and_reads);
    RUN(wrong_pin_is_refused_and_hides_private_data);
    RUN(value_larger_than_the_reader_s_buffer_is_refused);
    RUN(random_bytes_come_from_the_token);
    RUN(certificate_replacement_cut_anywhere_leaves_old_or_new);
    return unit_summary();
}
