/*
 * Unit tests of firmware/acl against an in-memory token object store: grant, rename, revoke;
 * each principal's serial prefix drawn from the token's RNG at its grant (DER-positive, distinct,
 * one draw each), kept across a rename and a reload, replaced by a grant anew after a revoke;
 * nothing changes in RAM or the token when the RNG or a write fails; damaged records (a serial or
 * prefix for nobody, twice, the wrong length, a prefix that is no serial's start, a principal
 * twice) refused with nobody granted; a record of an older firmware (no prefixes, a serial or
 * none) still read, its prefix derived the same on every load and stored with the next change.
 */
#include "firmware/acl/acl.h"

#include <errno.h>
#include <string.h>

#include "lib/tlv.h"
#include "unit.h"

static uint8_t stored[TOKEN_DATA_MAX];
static size_t stored_len;
static bool write_fails, random_fails;
static int writes, draws;
static uint8_t next_random;

CK_RV token_data_read(struct token *t, const char *name, uint8_t *out, size_t cap, size_t *len)
{
    (void)t;
    if (strcmp(name, "signet-acl") != 0 || stored_len > cap)
        return CKR_GENERAL_ERROR;
    memcpy(out, stored, stored_len);
    *len = stored_len;
    return CKR_OK;
}

CK_RV token_data_write(struct token *t, const char *name, const uint8_t *data, size_t len)
{
    (void)t;
    if (write_fails || strcmp(name, "signet-acl") != 0 || len > sizeof(stored))
        return CKR_DEVICE_ERROR;
    memcpy(stored, data, len);
    stored_len = len;
    writes++;
    return CKR_OK;
}

/* Every byte different, top bits set too: prefix_fix has work to do. */
CK_RV token_random(struct token *t, uint8_t *out, size_t len)
{
    (void)t;
    if (random_fails)
        return CKR_DEVICE_ERROR;
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)(0xc3 + 37 * next_random++);
    draws++;
    return CKR_OK;
}

static struct token tok;
static struct acl acl;
static const char *why;
static uint8_t fp1[ACL_FP_LEN], fp2[ACL_FP_LEN], ser1[ACL_SERIAL_LEN], ser2[ACL_SERIAL_LEN];

static void fresh(void)
{
    stored_len = 0;
    write_fails = random_fails = false;
    writes = draws = 0;
    memset(fp1, 0x11, sizeof(fp1));
    memset(fp2, 0x22, sizeof(fp2));
    memset(ser1, 0x41, sizeof(ser1));
    memset(ser2, 0x52, sizeof(ser2));
    acl_init(&acl, &tok);
    (void)acl_load(&acl, &why);
}

/* A second appliance on the same token: starts from the token alone. */
static int reload(struct acl *other)
{
    acl_init(other, &tok);
    return acl_load(other, &why);
}

static bool prefix_ok(const uint8_t *p)
{
    return p[0] >= 0x40 && p[0] <= 0x7f;
}

static bool same_prefix(const struct acl_entry *e, const uint8_t *p)
{
    return e && memcmp(e->prefix, p, ACL_PREFIX_LEN) == 0;
}

TEST(prefix_drawn_at_grant_and_read_back)
{
    struct acl other;
    uint8_t p1[ACL_PREFIX_LEN], p2[ACL_PREFIX_LEN];

    fresh();
    CHECK_EQ(acl_grant(&acl, fp1, "lic1", &why), 0);
    CHECK_EQ(acl_grant(&acl, fp2, "lic2", &why), 0);
    CHECK_EQ(draws, 2);
    CHECK_EQ(writes, 2);
    memcpy(p1, acl_find(&acl, fp1)->prefix, sizeof(p1));
    memcpy(p2, acl_find(&acl, fp2)->prefix, sizeof(p2));
    CHECK(prefix_ok(p1) && prefix_ok(p2));
    CHECK(memcmp(p1, p2, sizeof(p1)) != 0);
    CHECK(!acl_find(&acl, fp1)->has_serial);

    /* Another member on the same token reads the same prefixes. */
    CHECK_EQ(reload(&other), 0);
    CHECK_EQ(other.count, 2u);
    CHECK(same_prefix(acl_find(&other, fp1), p1) && same_prefix(acl_find(&other, fp2), p2));
    CHECK_STR(acl_find(&other, fp1)->name, "lic1");
    CHECK(!acl_find(&other, fp2)->has_serial);
}

TEST(rename_keeps_prefix_grant_anew_draws_another)
{
    struct acl other;
    uint8_t p1[ACL_PREFIX_LEN];

    fresh();
    CHECK_EQ(acl_grant(&acl, fp1, "lic1", &why), 0);
    memcpy(p1, acl_find(&acl, fp1)->prefix, sizeof(p1));
    CHECK_EQ(acl_grant(&acl, fp1, "renamed", &why), 0);
    CHECK_EQ(draws, 1);
    CHECK_EQ(reload(&other), 0);
    CHECK_STR(acl_find(&other, fp1)->name, "renamed");
    CHECK(same_prefix(acl_find(&other, fp1), p1));

    /* Granted anew after a revoke: no certificate of the old grant shares its prefix. */
    CHECK_EQ(acl_revoke(&acl, fp1, &why), 0);
    CHECK(!acl_find(&acl, fp1));
    CHECK_EQ(acl_grant(&acl, fp1, "lic1", &why), 0);
    CHECK(!same_prefix(acl_find(&acl, fp1), p1) && prefix_ok(acl_find(&acl, fp1)->prefix));
    CHECK_EQ(reload(&other), 0);
    CHECK(same_prefix(acl_find(&other, fp1), acl_find(&acl, fp1)->prefix));
}

TEST(grant_refused_changes_nothing)
{
    fresh();
    CHECK_EQ(acl_grant(&acl, fp1, "lic1", &why), 0);
    size_t len = stored_len;

    random_fails = true;
    CHECK_EQ(acl_grant(&acl, fp2, "lic2", &why), -EIO);
    CHECK(strstr(why, "random"));
    CHECK(!acl_find(&acl, fp2) && acl.count == 1);
    CHECK_EQ(writes, 1);
    CHECK_EQ(stored_len, len);
    /* A rename draws nothing, so it goes through. */
    CHECK_EQ(acl_grant(&acl, fp1, "lic1b", &why), 0);
    random_fails = false;

    write_fails = true;
    CHECK_EQ(acl_grant(&acl, fp2, "lic2", &why), -EIO);
    CHECK(strstr(why, "could not store"));
    CHECK(!acl_find(&acl, fp2) && acl.count == 1);
    write_fails = false;

    struct acl unloaded;
    acl_init(&unloaded, &tok);
    CHECK_EQ(acl_grant(&unloaded, fp2, "lic2", &why), -EIO);
    CHECK(strstr(why, "not loaded"));
}

/* Records written by hand: what a damaged or older token holds. An item is fp and n bytes after
 * it: tag 1, the principal's name; tag 2, the serial an older firmware kept for it; tag 3, its
 * serial prefix. */
static void put_item(uint8_t tag, const uint8_t fp[ACL_FP_LEN], const void *bytes, size_t n)
{
    uint8_t item[ACL_FP_LEN + ACL_NAME_MAX];
    CHECK(n <= ACL_NAME_MAX);
    memcpy(item, fp, ACL_FP_LEN);
    memcpy(item + ACL_FP_LEN, bytes, n);
    CHECK_EQ(tlv_put(stored, sizeof(stored), &stored_len, tag, item, ACL_FP_LEN + n), 0);
}

static void put_entry(const uint8_t fp[ACL_FP_LEN], const char *name)
{
    put_item(1, fp, name, strlen(name));
}

static void put_serial(const uint8_t fp[ACL_FP_LEN], const uint8_t *serial, size_t n)
{
    put_item(2, fp, serial, n);
}

static int load_stored(void)
{
    acl_init(&acl, &tok);
    return acl_load(&acl, &why);
}

static void put_prefix(const uint8_t fp[ACL_FP_LEN], const uint8_t *prefix, size_t n)
{
    put_item(3, fp, prefix, n);
}

/* Prefix items in the stored record. */
static int prefix_items(void)
{
    struct tlv_reader r;
    uint8_t tag;
    const uint8_t *v;
    size_t n;
    int count = 0;

    tlv_reader_init(&r, stored, stored_len);
    while (tlv_next(&r, &tag, &v, &n))
        count += tag == 3;
    return count;
}

TEST(older_record_without_prefixes_reads)
{
    struct acl other;
    uint8_t from_fp[ACL_PREFIX_LEN];

    fresh();
    stored_len = 0;
    put_entry(fp1, "lic1");
    put_serial(fp1, ser1, ACL_SERIAL_LEN); /* the last certificate that firmware issued */
    put_entry(fp2, "lic2");                /* never sub-enrolled */
    CHECK_EQ(load_stored(), 0);
    CHECK_EQ(acl.count, 2u);
    /* With a serial, its start: revoking that certificate matches the principal's prefix. */
    const struct acl_entry *e = acl_find(&acl, fp1);
    CHECK(e && e->has_serial && memcmp(e->serial, ser1, ACL_SERIAL_LEN) == 0);
    CHECK(same_prefix(e, ser1));
    /* Without, the fingerprint's start, made a serial's start. */
    memcpy(from_fp, fp2, sizeof(from_fp));
    from_fp[0] = (uint8_t)((from_fp[0] & 0x3f) | 0x40);
    CHECK(same_prefix(acl_find(&acl, fp2), from_fp));
    CHECK_EQ(draws, 0);
    CHECK_EQ(writes, 0);

    /* Every member derives the same, with nothing written; the next change stores it. */
    CHECK_EQ(reload(&other), 0);
    CHECK(same_prefix(acl_find(&other, fp2), from_fp));
    CHECK_EQ(acl_grant(&acl, fp2, "lic2b", &why), 0);
    CHECK_EQ(draws, 0);
    CHECK_EQ(prefix_items(), 2);
    CHECK_EQ(reload(&other), 0);
    CHECK(same_prefix(acl_find(&other, fp2), from_fp));
    e = acl_find(&other, fp1);
    CHECK(e && e->has_serial && memcmp(e->serial, ser1, ACL_SERIAL_LEN) == 0 &&
          same_prefix(e, ser1));
}

TEST(damaged_records_grant_nobody)
{
    uint8_t long_serial[ACL_SERIAL_LEN + 1], pfx[ACL_PREFIX_LEN + 1];
    memset(long_serial, 0x41, sizeof(long_serial));
    memset(pfx, 0x55, sizeof(pfx));

    fresh();
    stored_len = 0;
    put_entry(fp1, "lic1");
    put_serial(fp2, ser1, ACL_SERIAL_LEN); /* for nobody */
    CHECK_EQ(load_stored(), -EINVAL);
    CHECK(acl.count == 0 && !acl_find(&acl, fp1));

    stored_len = 0;
    put_entry(fp1, "lic1");
    put_serial(fp1, ser1, ACL_SERIAL_LEN);
    put_serial(fp1, ser2, ACL_SERIAL_LEN); /* twice */
    CHECK_EQ(load_stored(), -EINVAL);
    CHECK(!acl_find(&acl, fp1));

    stored_len = 0;
    put_entry(fp1, "lic1");
    put_serial(fp1, long_serial, sizeof(long_serial));
    CHECK_EQ(load_stored(), -EINVAL);

    stored_len = 0;
    put_serial(fp1, ser1, ACL_SERIAL_LEN); /* before its principal */
    put_entry(fp1, "lic1");
    CHECK_EQ(load_stored(), -EINVAL);

    stored_len = 0;
    put_entry(fp1, "lic1");
    put_entry(fp1, "again");
    CHECK_EQ(load_stored(), -EINVAL);

    stored_len = 0;
    put_entry(fp1, "lic1");
    put_prefix(fp2, pfx, ACL_PREFIX_LEN); /* a prefix for nobody */
    CHECK_EQ(load_stored(), -EINVAL);
    CHECK(!acl_find(&acl, fp1));

    stored_len = 0;
    put_entry(fp1, "lic1");
    put_prefix(fp1, pfx, ACL_PREFIX_LEN);
    put_prefix(fp1, pfx, ACL_PREFIX_LEN); /* twice */
    CHECK_EQ(load_stored(), -EINVAL);

    stored_len = 0;
    put_entry(fp1, "lic1");
    put_prefix(fp1, pfx, sizeof(pfx)); /* too long */
    CHECK_EQ(load_stored(), -EINVAL);

    stored_len = 0;
    put_entry(fp1, "lic1");
    pfx[0] = 0x80; /* no positive serial starts so */
    put_prefix(fp1, pfx, ACL_PREFIX_LEN);
    CHECK_EQ(load_stored(), -EINVAL);
    pfx[0] = 0x55;

    /* And a good one after all that. */
    stored_len = 0;
    put_entry(fp1, "lic1");
    put_prefix(fp1, pfx, ACL_PREFIX_LEN);
    put_serial(fp1, ser1, ACL_SERIAL_LEN);
    CHECK_EQ(load_stored(), 0);
    CHECK(acl_find(&acl, fp1)->has_serial && same_prefix(acl_find(&acl, fp1), pfx));
}

TEST(full_list_with_prefixes_and_serials_fits)
{
    struct acl other;
    uint8_t fp[ACL_FP_LEN];
    char name[ACL_NAME_MAX + 1];

    fresh();
    memset(name, 'n', ACL_NAME_MAX);
    name[ACL_NAME_MAX] = '\0';
    stored_len = 0;
    for (int i = 0; i < ACL_ENTRIES_MAX; i++) {
        memset(fp, i + 1, sizeof(fp));
        put_entry(fp, name);
        put_serial(fp, ser1, ACL_SERIAL_LEN);
    }
    CHECK_EQ(load_stored(), 0);
    memset(fp, 1, sizeof(fp));
    CHECK_EQ(acl_grant(&acl, fp, "renamed", &why), 0); /* every entry written with a prefix */
    CHECK_EQ(reload(&other), 0);
    CHECK_EQ(other.count, (size_t)ACL_ENTRIES_MAX);
    memset(fp, ACL_ENTRIES_MAX, sizeof(fp));
    CHECK(acl_find(&other, fp)->has_serial && same_prefix(acl_find(&other, fp), ser1));
}

int main(void)
{
    RUN(prefix_drawn_at_grant_and_read_back);
    RUN(rename_keeps_prefix_grant_anew_draws_another);
    RUN(grant_refused_changes_nothing);
    RUN(older_record_without_prefixes_reads);
    RUN(damaged_records_grant_nobody);
    RUN(full_list_with_prefixes_and_serials_fits);
    return unit_summary();
}
