/*
 * Unit tests of firmware/revoke against an in-memory token (its data objects, and a signing key
 * held by OpenSSL's libcrypto in the token's place): the own list in chunks, only the last one
 * rewritten; nothing changes when the token refuses a write; a second cluster member reading
 * the same token sees the list and signs the same CRL under the same number; every check; the
 * CRL signed and read back by crypto/x509_crl against the SLC, and by OpenSSL; CRLs from above,
 * an older one refused; damaged records refuse everything.
 *
 * firmware/revoke keeps its lists in static storage (one instance per appliance): a "second
 * member" here is a second struct revoke over that same storage, i.e. an appliance that starts
 * with nothing in RAM but the token. Two real members: test_revoke_console_host.py.
 * Licensing servers by serial prefix (revoke_check_prefix, signetVia): among neighbours in the
 * sorted list, and timed over the full list.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "firmware/revoke/revoke.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "crypto/sha256.h"
#include "soft_key.h"
#include "unit.h"

/* ---- the fake token: data objects, and the SLC key ---- */

#define OBJS 48

struct obj {
    char name[32];
    uint8_t data[TOKEN_DATA_MAX];
    size_t len;
    bool used;
};
static struct obj objs[OBJS];
static bool write_fails, read_fails, sign_fails;
static int writes, signs;
static char last_written[32];

/* Runs as each read begins: where the token task's fiber parks on the appliance. */
static void (*on_read)(void);

CK_RV token_data_read(struct token *t, const char *name, uint8_t *out, size_t cap, size_t *len)
{
    (void)t;
    *len = 0;
    if (on_read)
        on_read();
    if (read_fails)
        return CKR_DEVICE_ERROR;
    for (size_t i = 0; i < OBJS; i++)
        if (objs[i].used && strcmp(objs[i].name, name) == 0) {
            if (objs[i].len > cap)
                return CKR_BUFFER_TOO_SMALL;
            memcpy(out, objs[i].data, objs[i].len);
            *len = objs[i].len;
        }
    return CKR_OK;
}

static int obj_index(const char *name)
{
    for (int i = 0; i < OBJS; i++)
        if (objs[i].used && strcmp(objs[i].name, name) == 0)
            return i;
    return -1;
}

CK_RV token_data_write(struct token *t, const char *name, const uint8_t *data, size_t len)
{
    (void)t;
    if (write_fails || len > TOKEN_DATA_MAX)
        return CKR_DEVICE_ERROR;
    int i = obj_index(name);
    for (int k = 0; i < 0 && k < OBJS; k++)
        if (!objs[k].used)
            i = k;
    if (i < 0)
        return CKR_DEVICE_MEMORY;
    objs[i].used = true;
    snprintf(objs[i].name, sizeof(objs[i].name), "%s", name);
    memcpy(objs[i].data, data, len);
    objs[i].len = len;
    snprintf(last_written, sizeof(last_written), "%s", name);
    writes++;
    return CKR_OK;
}

static struct soft_key slc_key, auth_key;

CK_RV token_sign_sha256(struct token *t, struct token_key *k, const uint8_t digest[32],
                        uint8_t *sig, size_t *sig_len)
{
    (void)t;
    (void)k;
    if (sign_fails)
        return CKR_DEVICE_ERROR;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(slc_key.pkey, NULL);
    int ok =
        c && EVP_PKEY_sign_init(c) == 1 && EVP_PKEY_sign(c, sig, sig_len, digest, SHA256_LEN) == 1;
    EVP_PKEY_CTX_free(c);
    signs++;
    return ok ? CKR_OK : CKR_FUNCTION_FAILED;
}

/* ---- enroll, as far as revoke uses it ---- */

static bool serving = true;

void enroll_issuer(struct enroll *e, struct x509_issuer *out)
{
    *out = (struct x509_issuer){X509_KEY_EC,  e->info.subject,  e->info.subject_len,
                                slc_key.spki, slc_key.spki_len, soft_sign,
                                &slc_key};
}

bool enroll_serving(const struct enroll *e, const x509_time *now)
{
    (void)e;
    (void)now;
    return serving;
}

/* ---- fixtures ---- */

static struct token tok;
static struct enroll enr;
static struct revoke rv, rv2;
static uint8_t auth_der[2048], slc_der[2048];
static size_t auth_len, slc_len;

static const x509_time t0 = {2026, 12, 2, 10, 0, 0};

static x509_time plus(const x509_time *t, int secs)
{
    x509_time r = *t;
    r.sec += secs;
    while (r.sec >= 60) {
        r.sec -= 60;
        r.min++;
    }
    while (r.min >= 60) {
        r.min -= 60;
        r.hour++;
    }
    while (r.hour >= 24) { /* tests stay within December */
        r.hour -= 24;
        r.day++;
    }
    return r;
}

static int make_cert(uint8_t *out, size_t *len, const char *cn, uint8_t serial_byte,
                     struct soft_key *subject, struct soft_key *issuer_key, const uint8_t *iname,
                     size_t iname_len)
{
    struct x509_profile p = {0};
    p.cn = cn;
    p.org = "Signet test";
    memset(p.serial, serial_byte, sizeof(p.serial));
    x509_serial_fix(p.serial);
    p.not_before = (x509_time){2026, 1, 1, 0, 0, 0};
    p.not_after = (x509_time){2027, 12, 31, 0, 0, 0};
    p.spki = subject->spki;
    p.spki_len = subject->spki_len;
    p.ca = true;
    p.path_len = -1;
    p.rights = X509_RIGHTS_ALL;
    struct x509_issuer is = {X509_KEY_EC,          iname,     iname_len, issuer_key->spki,
                             issuer_key->spki_len, soft_sign, issuer_key};
    return x509_build(&p, &is, out, 2048, len);
}

/* The authority (self-signed) and our SLC under it, installed as enroll holds them. */
static void hierarchy(void)
{
    struct x509_info ai;
    const char *why;

    key_new(&auth_key, X509_KEY_EC);
    key_new(&slc_key, X509_KEY_EC);
    (void)make_cert(auth_der, &auth_len, "Test authority", 0x11, &auth_key, &auth_key, NULL, 0);
    (void)x509_read(auth_der, auth_len, &ai, &why);
    (void)make_cert(slc_der, &slc_len, "rms.example.test", 0x22, &slc_key, &auth_key, ai.subject,
                    ai.subject_len);
}

static void fresh(void)
{
    const char *why;

    memset(objs, 0, sizeof(objs));
    write_fails = read_fails = sign_fails = false;
    serving = true;
    memset(&enr, 0, sizeof(enr));
    tok.logged_in = true;
    enr.token = &tok;
    enr.loaded = true;
    memcpy(enr.anchor, auth_der, auth_len);
    enr.anchor_len = auth_len;
    memcpy(enr.slc.slc, slc_der, slc_len);
    enr.slc.slc_len = slc_len;
    memcpy(enr.slc.chain[0], auth_der, auth_len);
    enr.slc.chain_len[0] = auth_len;
    enr.slc.chain_count = 1;
    (void)x509_read(enr.slc.slc, enr.slc.slc_len, &enr.info, &why);
    revoke_init(&rv, &tok, &enr);
    (void)revoke_load(&rv, &why);
}

static void serial_n(uint8_t s[X509_SERIAL_LEN], unsigned n)
{
    memset(s, 0, X509_SERIAL_LEN);
    s[0] = 0x41;
    s[13] = (uint8_t)(n >> 16);
    s[14] = (uint8_t)(n >> 8);
    s[15] = (uint8_t)n;
}

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- tests ---- */

TEST(parse_serial)
{
    uint8_t s[X509_SERIAL_LEN];
    CHECK_EQ(revoke_parse_serial("41000000000000000000000000000001", s), 0);
    CHECK_EQ(s[0], 0x41);
    CHECK_EQ(s[15], 0x01);
    CHECK_EQ(revoke_parse_serial("7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", s), 0);
    CHECK_EQ(revoke_parse_serial("81000000000000000000000000000001", s), -EINVAL);
    CHECK_EQ(revoke_parse_serial("3f000000000000000000000000000001", s), -EINVAL);
    CHECK_EQ(revoke_parse_serial("4100000000000000000000000000001", s), -EINVAL);
    CHECK_EQ(revoke_parse_serial("410000000000000000000000000000011", s), -EINVAL);
    CHECK_EQ(revoke_parse_serial("4100000000000000000000000000000g", s), -EINVAL);
}

TEST(revoke_and_second_member_sees_it)
{
    uint8_t s[X509_SERIAL_LEN];
    const char *why;

    fresh();
    CHECK(rv.loaded);
    CHECK_EQ(rv.count, 0);
    serial_n(s, 1);
    CHECK_EQ(revoke_serial(&rv, s, X509_CRL_REASON_KEY_COMPROMISE, &t0, &why), 0);
    CHECK_EQ(rv.count, 1);
    CHECK_EQ(revoke_serial(&rv, s, X509_CRL_REASON_SUPERSEDED, &t0, &why), -EEXIST);
    CHECK_EQ(rv.count, 1);
    CHECK_EQ(revoke_check_serial(&rv, s, "rights account certificate", &why), -EPERM);
    CHECK(starts(why, "revoked: rights account certificate 41"));
    CHECK(strstr(why, "keyCompromise") != NULL);
    CHECK(strstr(why, "2026-12-02T10:00:00Z") != NULL);

    /* Another cluster member, same token. */
    revoke_init(&rv2, &tok, &enr);
    CHECK_EQ(revoke_load(&rv2, &why), 0);
    CHECK_EQ(rv2.count, 1);
    CHECK_EQ(revoke_check_serial(&rv2, s, "publishing license", &why), -EPERM);
    /* It revokes one more; the first member's next change does not lose it. */
    serial_n(s, 2);
    CHECK_EQ(revoke_serial(&rv2, s, X509_CRL_REASON_UNSPECIFIED, &t0, &why), 0);
    serial_n(s, 3);
    CHECK_EQ(revoke_serial(&rv, s, X509_CRL_REASON_UNSPECIFIED, &t0, &why), 0);
    CHECK_EQ(rv.count, 3);
    CHECK_EQ(revoke_load(&rv2, &why), 0);
    CHECK_EQ(rv2.count, 3);
}

TEST(token_refusal_changes_nothing)
{
    uint8_t s[X509_SERIAL_LEN];
    const char *why;

    fresh();
    serial_n(s, 1);
    write_fails = true;
    CHECK_EQ(revoke_serial(&rv, s, X509_CRL_REASON_UNSPECIFIED, &t0, &why), -EIO);
    CHECK_EQ(rv.count, 0);
    CHECK_EQ(revoke_check_serial(&rv, s, "x", &why), 0);
    CHECK_EQ(revoke_user(&rv, "mallory@example.test", &why), -EIO);
    CHECK_EQ(rv.user_count, 0);
    write_fails = false;
    /* A read that fails keeps what RAM has. */
    CHECK_EQ(revoke_serial(&rv, s, X509_CRL_REASON_UNSPECIFIED, &t0, &why), 0);
    read_fails = true;
    CHECK_EQ(revoke_load(&rv, &why), -EIO);
    CHECK_EQ(rv.count, 1);
    CHECK_EQ(revoke_check_serial(&rv, s, "x", &why), -EPERM);
    read_fails = false;
}

TEST(chunks_only_last_rewritten)
{
    uint8_t s[X509_SERIAL_LEN];
    const char *why;
    const unsigned per_chunk = (TOKEN_DATA_MAX - 4) / 24;

    fresh();
    for (unsigned i = 0; i < 600; i++) {
        serial_n(s, 1000 + i);
        CHECK_EQ(revoke_serial(&rv, s, X509_CRL_REASON_CESSATION_OF_OPERATION, &t0, &why), 0);
        if (i >= per_chunk)
            CHECK_STR(last_written, "signet-revoked.1");
    }
    CHECK_EQ(per_chunk, 511);
    CHECK(obj_index("signet-revoked.0") >= 0);
    CHECK_EQ(objs[obj_index("signet-revoked.0")].len, 4 + 511 * 24);
    CHECK_EQ(objs[obj_index("signet-revoked.1")].len, 4 + 89 * 24);
    CHECK(obj_index("signet-revoked.2") < 0);
    revoke_init(&rv2, &tok, &enr);
    CHECK_EQ(revoke_load(&rv2, &why), 0);
    CHECK_EQ(rv2.count, 600);
    serial_n(s, 1000 + 599);
    CHECK_EQ(revoke_check_serial(&rv2, s, "x", &why), -EPERM);
    serial_n(s, 1000);
    CHECK_EQ(revoke_check_serial(&rv2, s, "x", &why), -EPERM);
    serial_n(s, 999);
    CHECK_EQ(revoke_check_serial(&rv2, s, "x", &why), 0);
}

TEST(users_and_checks)
{
    const char *why;
    struct x509_info rac = {0};

    fresh();
    CHECK_EQ(revoke_user(&rv, "not a name", &why), -EINVAL);
    CHECK_EQ(revoke_user(&rv, "Mallory@Example.TEST", &why), 0);
    CHECK_EQ(revoke_user(&rv, "Mallory@example.test", &why), -EEXIST);
    CHECK_EQ(revoke_check_user(&rv, "Mallory@EXAMPLE.test", &why), -EPERM);
    CHECK_STR(why, "revoked: Mallory@EXAMPLE.test is excluded");
    CHECK_EQ(revoke_check_user(&rv, "mallory@example.test", &why), 0); /* local part is exact */
    CHECK_EQ(revoke_check_user(&rv, "alice@example.test", &why), 0);

    /* A RAC: by serial, by name, by the licensing server it came through. */
    rac.kind = X509_KIND_RAC;
    snprintf(rac.cn, sizeof(rac.cn), "alice@example.test");
    serial_n(rac.serial, 7);
    rac.serial_len = X509_SERIAL_LEN;
    CHECK_EQ(revoke_check_cert(&rv, &rac, "rights account certificate", &why), 0);
    /* signetVia is the server's prefix: any of its certificates revoked refuses the RAC. */
    static const uint8_t via[X509_SERIAL_PREFIX_LEN] = {0x4d, 1, 2, 3, 4, 5, 6, 7};
    uint8_t sv[X509_SERIAL_LEN] = {0x4d, 1, 2, 3, 4, 5, 6, 7, 0xde, 0xad};
    rac.has_via = true;
    rac.via_len = sizeof(via);
    memcpy(rac.via, via, sizeof(via));
    CHECK_EQ(revoke_check_cert(&rv, &rac, "rights account certificate", &why), 0);
    CHECK_EQ(revoke_serial(&rv, sv, X509_CRL_REASON_KEY_COMPROMISE, &t0, &why), 0);
    CHECK_EQ(revoke_check_cert(&rv, &rac, "rights account certificate", &why), -EPERM);
    CHECK(starts(why, "revoked: licensing server 4d01020304050607dead"));
    /* A whole serial there (before prefixes) matches by its first 8 octets the same way. */
    rac.via_len = X509_SERIAL_LEN;
    memset(rac.via + X509_SERIAL_PREFIX_LEN, 0x77, X509_SERIAL_LEN - X509_SERIAL_PREFIX_LEN);
    CHECK_EQ(revoke_check_cert(&rv, &rac, "rights account certificate", &why), -EPERM);
    rac.via[7] = 8; /* another server's */
    CHECK_EQ(revoke_check_cert(&rv, &rac, "rights account certificate", &why), 0);
    rac.has_via = false;
    snprintf(rac.cn, sizeof(rac.cn), "Mallory@example.test");
    CHECK_EQ(revoke_check_cert(&rv, &rac, "rights account certificate", &why), -EPERM);
    CHECK(strstr(why, "is excluded") != NULL);
    /* A license naming that user is not a RAC: names are the RAC's business. */
    rac.kind = X509_KIND_PUBLISHING;
    CHECK_EQ(revoke_check_cert(&rv, &rac, "publishing license", &why), 0);

    CHECK_EQ(revoke_unuser(&rv, "mallory@Example.Test", &why), -ENOENT);
    CHECK_EQ(revoke_unuser(&rv, "Mallory@Example.Test", &why), 0);
    CHECK_EQ(revoke_check_user(&rv, "Mallory@example.test", &why), 0);
    CHECK_EQ(rv.user_count, 0);
}

/* The CRL in RAM, read back against the SLC certificate. */
static struct x509_crl_entry back_entries[X509_CRL_ENTRIES_MAX];
static struct x509_crl back;

static int read_back(const struct revoke *r, const char **why)
{
    const uint8_t *der;
    size_t len;
    int ret = revoke_crl(r, &der, &len, why);
    if (ret)
        return ret;
    back.entries = back_entries;
    back.entries_cap = X509_CRL_ENTRIES_MAX;
    return x509_crl_read(der, len, (struct x509_cert){slc_der, slc_len}, &back, why);
}

static const void *replaced[4];
static int replaced_n;
static void on_replace(const void *old)
{
    if (replaced_n < 4)
        replaced[replaced_n] = old;
    replaced_n++;
}

TEST(crl_signed_coalesced_and_shared)
{
    uint8_t s[X509_SERIAL_LEN];
    const char *why;
    const uint8_t *der;
    size_t len;

    fresh();
    CHECK_EQ(revoke_crl(&rv, &der, &len, &why), -EAGAIN);
    CHECK_STR(why, "no CRL yet");
    serving = false;
    revoke_tick(&rv, &t0);
    CHECK_EQ(rv.crl_len, 0); /* no SLC in force: nothing to sign with */
    serving = true;
    signs = 0;
    revoke_tick(&rv, &t0);
    CHECK_EQ(signs, 1);
    CHECK_EQ(read_back(&rv, &why), 0);
    CHECK_EQ(back.number, 1);
    CHECK_EQ(back.count, 0);
    revoke_tick(&rv, &t0);
    CHECK_EQ(signs, 1); /* nothing changed */

    revoke_on_replace(&rv, on_replace);
    replaced_n = 0;
    const uint8_t *first = rv.crl_der;
    for (unsigned i = 0; i < 600; i++) {
        serial_n(s, i);
        CHECK_EQ(revoke_serial(&rv, s, X509_CRL_REASON_SUPERSEDED, &t0, &why), 0);
    }
    CHECK_EQ(revoke_user(&rv, "mallory@example.test", &why), 0);
    /* Many changes within one second: one signature, not one per change. */
    x509_time t1 = plus(&t0, 1);
    revoke_tick(&rv, &t1);
    revoke_tick(&rv, &t1);
    CHECK_EQ(signs, 2);
    CHECK(rv.crl_der != first);
    CHECK_EQ(replaced_n, 0); /* the first buffer was never overwritten */
    CHECK_EQ(read_back(&rv, &why), 0);
    CHECK_EQ(back.number, 2);
    CHECK_EQ(back.count, 600);
    CHECK_EQ(back.excluded_count, 1);
    CHECK(x509_crl_excludes(&back, "mallory@example.test"));
    serial_n(s, 599);
    const struct x509_crl_entry *e = x509_crl_find(&back, s);
    CHECK(e != NULL);
    CHECK_EQ(e->reason, X509_CRL_REASON_SUPERSEDED);
    CHECK(rv.crl_len > 600 * 40);

    /* OpenSSL reads it and its signature verifies with the SLC's key. */
    CHECK_EQ(revoke_crl(&rv, &der, &len, &why), 0);
    const unsigned char *p = der;
    X509_CRL *x = d2i_X509_CRL(NULL, &p, (long)len);
    CHECK(x != NULL);
    CHECK_EQ(X509_CRL_verify(x, slc_key.pkey), 1);
    CHECK_EQ(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(x)), 600);
    X509_CRL_free(x);

    /* The third CRL goes into the first buffer: whoever still sends it is told first. */
    serial_n(s, 5000);
    CHECK_EQ(revoke_serial(&rv, s, X509_CRL_REASON_UNSPECIFIED, &t0, &why), 0);
    x509_time t2 = plus(&t0, 2);
    revoke_tick(&rv, &t2);
    CHECK_EQ(signs, 3);
    CHECK_EQ(replaced_n, 1);
    CHECK(replaced[0] == first);
    CHECK(rv.crl_der == first);

    /* A second member starting now signs the same list under the same number. */
    revoke_init(&rv2, &tok, &enr);
    CHECK_EQ(revoke_load(&rv2, &why), 0);
    CHECK_EQ(rv2.crl_number, 3);
    revoke_tick(&rv2, &t2);
    CHECK_EQ(read_back(&rv2, &why), 0);
    CHECK_EQ(back.number, 3);
    CHECK_EQ(back.count, 601);
    /* ... and a new one once the list grew. */
    serial_n(s, 5001);
    CHECK_EQ(revoke_serial(&rv2, s, X509_CRL_REASON_UNSPECIFIED, &t0, &why), 0);
    x509_time t3 = plus(&t0, 3);
    revoke_tick(&rv2, &t3);
    CHECK_EQ(read_back(&rv2, &why), 0);
    CHECK_EQ(back.number, 4);
    CHECK_EQ(back.count, 602);
}

TEST(crl_renewed_at_half_life_and_retried)
{
    const char *why;

    fresh();
    CHECK_EQ(revoke_set_crl_hours(&rv, 2, &why), 0);
    CHECK_EQ(revoke_set_crl_hours(&rv, 0, &why), -EINVAL);
    CHECK_EQ(revoke_set_crl_hours(&rv, 745, &why), -EINVAL);
    revoke_tick(&rv, &t0);
    CHECK_EQ(read_back(&rv, &why), 0);
    CHECK_EQ(back.number, 1);
    CHECK_EQ(back.next_update.hour, 12);
    x509_time almost = plus(&t0, 3599), half = plus(&t0, 3600);
    revoke_tick(&rv, &almost);
    CHECK_EQ(rv.crl_number, 1);
    sign_fails = true;
    revoke_tick(&rv, &half);
    CHECK_EQ(read_back(&rv, &why), 0);
    CHECK_EQ(back.number, 1); /* the old one is still served */
    CHECK(rv.crl_retry_at != 0);
    sign_fails = false;
    x509_time soon = plus(&t0, 3630), later = plus(&t0, 3660);
    revoke_tick(&rv, &soon);
    CHECK_EQ(read_back(&rv, &why), 0);
    CHECK_EQ(back.number, 1); /* not retried before 60 s */
    revoke_tick(&rv, &later);
    CHECK_EQ(read_back(&rv, &why), 0);
    /* The number raised for the failed attempt was in the token first: the list is signed
     * under it, with its dates. */
    CHECK_EQ(back.number, 2);
    x509_time half_backdated = plus(&t0, 3600 - X509_BACKDATE_SECS);
    CHECK(x509_time_cmp(&back.this_update, &half_backdated) == 0);
    CHECK_EQ(rv.crl_retry_at, 0);

    /* The clock set back by a day (an operator's `time set`): a failure then is retried after
     * 60 s of the new clock, not after the old one catches up. */
    CHECK_EQ(revoke_user(&rv, "eve@example.test", &why), 0);
    sign_fails = true;
    x509_time next_day = {2026, 12, 3, 10, 0, 0};
    revoke_tick(&rv, &next_day);
    sign_fails = false;
    x509_time back_then = plus(&t0, 4000);
    revoke_tick(&rv, &back_then);
    CHECK_EQ(read_back(&rv, &why), 0);
    CHECK_EQ(back.excluded_count, 1);
}

/* A CRL of the authority's, signed with its key: the TBS from crypto/x509_crl. */
static uint8_t crl_out[64 * 1024];
static int authority_crl(uint64_t number, const struct x509_crl_entry *entries, size_t n,
                         size_t *len)
{
    struct x509_info ai;
    const char *why;
    size_t tbs = 0, sig_len = 0;
    uint8_t sig[256];

    (void)x509_read(auth_der, auth_len, &ai, &why);
    struct x509_issuer is = {X509_KEY_EC,       ai.subject, ai.subject_len, auth_key.spki,
                             auth_key.spki_len, soft_sign,  &auth_key};
    struct x509_crl_profile p = {number, t0, plus(&t0, 3600), entries, n, NULL, 0};
    int ret = x509_crl_tbs_build(&p, &is, crl_out, sizeof(crl_out), &tbs);
    if (ret)
        return ret;
    if (soft_sign(&auth_key, crl_out + sizeof(crl_out) - tbs, tbs, sig, sizeof(sig), &sig_len))
        return -EIO;
    return x509_assemble(&is, crl_out, sizeof(crl_out), tbs, sig, sig_len, len);
}

TEST(authority_crl_blocks_serving)
{
    const char *why;
    bool newer;
    size_t len;
    struct x509_crl_entry e = {{0}, t0, X509_CRL_REASON_KEY_COMPROMISE};
    struct x509_info ai;

    fresh();
    CHECK(!revoke_blocks_serving(&rv, &t0, &why));
    (void)x509_read(auth_der, auth_len, &ai, &why);
    CHECK_EQ(authority_crl(5, NULL, 0, &len), 0);
    CHECK_EQ(revoke_accept_crl(&rv, REVOKE_FROM_AUTHORITY, crl_out, len, &t0, &newer, &why), 0);
    CHECK(newer);
    CHECK(!revoke_blocks_serving(&rv, &t0, &why));
    /* Our own CRL is not the authority's: refused. */
    revoke_tick(&rv, &t0);
    CHECK_EQ(
        revoke_accept_crl(&rv, REVOKE_FROM_AUTHORITY, rv.crl_der, rv.crl_len, &t0, &newer, &why),
        -EINVAL);
    /* The authority revokes our SLC. */
    memcpy(e.serial, enr.info.serial, X509_SERIAL_LEN);
    CHECK_EQ(authority_crl(6, &e, 1, &len), 0);
    CHECK_EQ(revoke_accept_crl(&rv, REVOKE_FROM_AUTHORITY, crl_out, len, &t0, &newer, &why), 0);
    CHECK(newer);
    CHECK(revoke_blocks_serving(&rv, &t0, &why));
    CHECK(starts(why, "the SLC is revoked by the authority (keyCompromise, 2026-12-02T10:00:00Z)"));
    /* An older one does not lift it. */
    CHECK_EQ(authority_crl(5, NULL, 0, &len), 0);
    CHECK_EQ(revoke_accept_crl(&rv, REVOKE_FROM_AUTHORITY, crl_out, len, &t0, &newer, &why),
             -ESTALE);
    CHECK(revoke_blocks_serving(&rv, &t0, &why));
    /* A tampered one is refused. */
    CHECK_EQ(authority_crl(7, NULL, 0, &len), 0);
    crl_out[len - 3] ^= 1;
    CHECK(revoke_accept_crl(&rv, REVOKE_FROM_AUTHORITY, crl_out, len, &t0, &newer, &why) != 0);
    CHECK(revoke_blocks_serving(&rv, &t0, &why));
    /* Kept in the token: a member loading now is blocked too. */
    revoke_init(&rv2, &tok, &enr);
    CHECK_EQ(revoke_load(&rv2, &why), 0);
    CHECK(revoke_blocks_serving(&rv2, &t0, &why));
    CHECK_EQ(rv2.authority.crl.number, 6);
}

TEST(licensing_server_needs_root_crl)
{
    const char *why;
    bool newer;
    size_t len;

    fresh();
    enr.cfg.role = ENROLL_ROLE_LICENSING; /* its root is the "authority" cert of this test */
    CHECK(revoke_blocks_serving(&rv, &t0, &why));
    CHECK_STR(why, "no CRL from the root yet");
    CHECK_EQ(revoke_root_fetch_due(&rv), 0);
    struct x509_crl_entry e = {{0}, t0, X509_CRL_REASON_UNSPECIFIED};
    serial_n(e.serial, 42);
    CHECK_EQ(authority_crl(1, &e, 1, &len), 0);
    CHECK_EQ(revoke_accept_crl(&rv, REVOKE_FROM_ROOT, crl_out, len, &t0, &newer, &why), 0);
    CHECK(!revoke_blocks_serving(&rv, &t0, &why));
    CHECK(revoke_root_fetch_due(&rv) > 0);
    /* The root's entries count here too. */
    CHECK_EQ(revoke_check_serial(&rv, e.serial, "licensing server", &why), -EPERM);
    CHECK(strstr(why, "by the root") != NULL);
    x509_time late = plus(&t0, 3601);
    CHECK(revoke_blocks_serving(&rv, &late, &why));
    CHECK(starts(why, "the root's CRL expired at 2026-12-02T11:00:00Z"));
}

TEST(damaged_refuses_everything)
{
    uint8_t s[X509_SERIAL_LEN];
    const char *why;

    fresh();
    serial_n(s, 1);
    CHECK_EQ(revoke_serial(&rv, s, X509_CRL_REASON_UNSPECIFIED, &t0, &why), 0);
    int i = obj_index("signet-revoked.0");
    CHECK(i >= 0);
    objs[i].len--; /* truncated */
    CHECK_EQ(revoke_load(&rv, &why), -EINVAL);
    CHECK(rv.damaged);
    serial_n(s, 2);
    CHECK_EQ(revoke_check_serial(&rv, s, "x", &why), -EPERM);
    CHECK_EQ(revoke_check_user(&rv, "alice@example.test", &why), -EPERM);
    CHECK(revoke_blocks_serving(&rv, &t0, &why));
    CHECK(revoke_serial(&rv, s, X509_CRL_REASON_UNSPECIFIED, &t0, &why) != 0);
    revoke_tick(&rv, &t0);
    CHECK_EQ(rv.crl_len, 0);
    /* A duplicate serial is damage too. */
    objs[i].len++;
    CHECK_EQ(revoke_load(&rv, &why), 0);
    memcpy(objs[i].data + 4 + 24, objs[i].data + 4, 24);
    objs[i].data[3] = 2;
    objs[i].len = 4 + 48;
    CHECK_EQ(revoke_load(&rv, &why), -EINVAL);
    /* Not loaded (nobody logged in): no check passes. */
    revoke_unload(&rv);
    CHECK(revoke_check_serial(&rv, s, "x", &why) != 0);
}

/* revoke_check_prefix: a server is revoked when any serial starts with its prefix; its
 * neighbours in the sorted list (one more, one less in the prefix's last octet) are not. */
TEST(prefix_checks_among_neighbours)
{
    const char *why;
    uint8_t s[X509_SERIAL_LEN], p[X509_SERIAL_PREFIX_LEN];

    fresh();
    for (unsigned i = 0; i < 50; i++) {
        memset(s, 0, sizeof(s));
        s[0] = 0x50;
        s[7] = (uint8_t)(2 * i + 1); /* odd prefixes are revoked, even ones are not */
        s[15] = (uint8_t)i;
        CHECK_EQ(revoke_serial(&rv, s, X509_CRL_REASON_SUPERSEDED, &t0, &why), 0);
    }
    memset(p, 0, sizeof(p));
    p[0] = 0x50;
    for (unsigned k = 0; k <= 100; k++) {
        p[7] = (uint8_t)k;
        int want = k % 2 ? -EPERM : 0;
        CHECK_EQ(revoke_check_prefix(&rv, p, "licensing server certificate", &why), want);
    }
    p[7] = 1;
    CHECK_EQ(revoke_check_prefix(&rv, p, "licensing server certificate", &why), -EPERM);
    CHECK(starts(why, "revoked: licensing server certificate 5000000000000001000000000000000"));
    CHECK(strstr(why, "(superseded, ") != NULL);
    p[0] = 0x4f;
    CHECK_EQ(revoke_check_prefix(&rv, p, "x", &why), 0);
    p[0] = 0x51;
    CHECK_EQ(revoke_check_prefix(&rv, p, "x", &why), 0);

    struct revoke unloaded;
    revoke_init(&unloaded, &tok, &enr);
    CHECK_EQ(revoke_check_prefix(&unloaded, p, "x", &why), -EIO);
}

/* The list at its limit, written as the token would hold it: loads, refuses one more, and the
 * CRL of all 16384 entries is signed and verifies. */
TEST(full_list)
{
    uint8_t s[X509_SERIAL_LEN];
    const char *why;
    const unsigned per_chunk = (TOKEN_DATA_MAX - 4) / 24;

    fresh();
    for (unsigned c = 0, n = 0; n < REVOKE_ENTRIES_MAX; c++) {
        uint8_t *d = objs[c].data;
        unsigned k = 0;
        for (; k < per_chunk && n < REVOKE_ENTRIES_MAX; k++, n++) {
            serial_n(d + 4 + 24 * k, n);
            memset(d + 4 + 24 * k + 16, 0, 7);
            d[4 + 24 * k + 16 + 3] = 0x69; /* 0x69000000: October 2025 */
            d[4 + 24 * k + 23] = X509_CRL_REASON_KEY_COMPROMISE;
        }
        d[0] = 1;
        d[1] = 0;
        d[2] = (uint8_t)(k >> 8);
        d[3] = (uint8_t)k;
        objs[c].len = 4 + 24 * k;
        objs[c].used = true;
        snprintf(objs[c].name, sizeof(objs[c].name), "signet-revoked.%u", c);
    }
    CHECK_EQ(revoke_load(&rv, &why), 0);
    CHECK_EQ(rv.count, REVOKE_ENTRIES_MAX);
    serial_n(s, REVOKE_ENTRIES_MAX);
    CHECK_EQ(revoke_serial(&rv, s, X509_CRL_REASON_UNSPECIFIED, &t0, &why), -ENOSPC);
    serial_n(s, 12345);
    CHECK_EQ(revoke_check_serial(&rv, s, "x", &why), -EPERM);
    /* By prefix, over the full list: within the bound a request can afford. */
    uint8_t p[X509_SERIAL_PREFIX_LEN] = {0x41};
    CHECK_EQ(revoke_check_prefix(&rv, p, "x", &why), -EPERM);
    p[7] = 1;
    struct timespec t_start, t_end;
    clock_gettime(CLOCK_MONOTONIC, &t_start);
    for (int i = 0; i < 100000; i++)
        CHECK_EQ(revoke_check_prefix(&rv, p, "x", &why), 0);
    clock_gettime(CLOCK_MONOTONIC, &t_end);
    double ns = ((double)(t_end.tv_sec - t_start.tv_sec) * 1e9 +
                 (double)(t_end.tv_nsec - t_start.tv_nsec)) /
                100000;
    printf("# revoke_check_prefix over %d entries: %.0f ns\n", REVOKE_ENTRIES_MAX, ns);
    CHECK(ns < 5000); /* a scan of 16384 entries takes tens of microseconds; this, 14 steps */
    revoke_tick(&rv, &t0);
    CHECK_EQ(read_back(&rv, &why), 0);
    CHECK_EQ(back.count, REVOKE_ENTRIES_MAX);
    printf("# a CRL of %d entries: %zu bytes\n", REVOKE_ENTRIES_MAX, rv.crl_len);
}

/* What the net task sees while a reload waits for the token: the old list, whole. */
static unsigned reads_seen, reads_wrong;

static void look_while_reading(void)
{
    uint8_t s[X509_SERIAL_LEN];
    const char *why;

    reads_seen++;
    for (unsigned i = 0; i < 600; i += 7) {
        serial_n(s, 1000 + i);
        if (rv.count != 600 || revoke_check_serial(&rv, s, "x", &why) != -EPERM)
            reads_wrong++;
    }
}

TEST(a_reload_shows_the_old_list_until_the_new_one_is_whole)
{
    uint8_t s[X509_SERIAL_LEN];
    const char *why;

    fresh();
    for (unsigned i = 0; i < 600; i++) { /* two chunks: a reload parks between them */
        serial_n(s, 1000 + i);
        CHECK_EQ(revoke_serial(&rv, s, X509_CRL_REASON_CESSATION_OF_OPERATION, &t0, &why), 0);
    }
    /* 100 more, which sort before them, are in the token but not yet in RAM (as when another
     * cluster member revoked them): the token with 600, RAM loaded from it, then 700 back */
    static struct obj with_600[OBJS], with_700[OBJS];
    memcpy(with_600, objs, sizeof(objs));
    for (unsigned i = 0; i < 100; i++) {
        serial_n(s, 100 + i);
        CHECK_EQ(revoke_serial(&rv, s, X509_CRL_REASON_CESSATION_OF_OPERATION, &t0, &why), 0);
    }
    memcpy(with_700, objs, sizeof(objs));
    memcpy(objs, with_600, sizeof(objs));
    CHECK_EQ(revoke_load(&rv, &why), 0);
    CHECK_EQ(rv.count, 600);
    memcpy(objs, with_700, sizeof(objs));
    reads_seen = reads_wrong = 0;
    on_read = look_while_reading;
    CHECK_EQ(revoke_load(&rv, &why), 0);
    on_read = NULL;
    CHECK(reads_seen >= 3);
    CHECK_EQ(reads_wrong, 0);
    CHECK_EQ(rv.count, 700);
    serial_n(s, 1000 + 599);
    CHECK_EQ(revoke_check_serial(&rv, s, "x", &why), -EPERM);
    serial_n(s, 100);
    CHECK_EQ(revoke_check_serial(&rv, s, "x", &why), -EPERM);
}

int main(void)
{
    hierarchy();
    RUN(parse_serial);
    RUN(revoke_and_second_member_sees_it);
    RUN(token_refusal_changes_nothing);
    RUN(chunks_only_last_rewritten);
    RUN(users_and_checks);
    RUN(crl_signed_coalesced_and_shared);
    RUN(crl_renewed_at_half_life_and_retried);
    RUN(authority_crl_blocks_serving);
    RUN(licensing_server_needs_root_crl);
    RUN(damaged_refuses_everything);
    RUN(prefix_checks_among_neighbours);
    RUN(full_list);
    RUN(a_reload_shows_the_old_list_until_the_new_one_is_whole);
    EVP_PKEY_free(slc_key.pkey);
    EVP_PKEY_free(auth_key.pkey);
    return unit_summary();
}
