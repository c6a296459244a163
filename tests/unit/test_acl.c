/*
 * Unit tests of firmware/acl against an in-memory token object store: grant, rename, revoke;
 * the serial of the certificate issued to a principal recorded, kept across a rename and a
 * reload, dropped with the principal; nothing changes in RAM when the token refuses a write;
 * damaged records (a serial for nobody, twice, the wrong length, a principal twice) refused with
 * nobody granted; a record of an older firmware (no serials) still read.
 */
#include "firmware/acl/acl.h"

#include <errno.h>
#include <string.h>

#include "lib/tlv.h"
#include "unit.h"

static uint8_t stored[TOKEN_DATA_MAX];
static size_t stored_len;
static bool write_fails;
static int writes;

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

static struct token tok;
static struct acl acl;
static const char *why;
static uint8_t fp1[ACL_FP_LEN], fp2[ACL_FP_LEN], ser1[ACL_SERIAL_LEN], ser2[ACL_SERIAL_LEN];

static void fresh(void)
{
    stored_len = 0;
    write_fails = false;
    writes = 0;
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

TEST(serial_recorded_and_read_back)
{
    struct acl other;

    fresh();
    CHECK_EQ(acl_grant(&acl, fp1, "lic1", &why), 0);
    CHECK_EQ(acl_grant(&acl, fp2, "lic2", &why), 0);
    CHECK(!acl_find(&acl, fp1)->has_serial);
    CHECK_EQ(acl_record_serial(&acl, fp1, ser1, &why), 0);
    const struct acl_entry *e = acl_find(&acl, fp1);
    CHECK(e && e->has_serial && memcmp(e->serial, ser1, ACL_SERIAL_LEN) == 0);
    CHECK(!acl_find(&acl, fp2)->has_serial);

    CHECK_EQ(reload(&other), 0);
    CHECK_EQ(other.count, 2u);
    e = acl_find(&other, fp1);
    CHECK(e && e->has_serial && memcmp(e->serial, ser1, ACL_SERIAL_LEN) == 0);
    CHECK_STR(e->name, "lic1");
    CHECK(!acl_find(&other, fp2)->has_serial);

    /* A renewal replaces it. */
    CHECK_EQ(acl_record_serial(&acl, fp1, ser2, &why), 0);
    CHECK_EQ(reload(&other), 0);
    CHECK(memcmp(acl_find(&other, fp1)->serial, ser2, ACL_SERIAL_LEN) == 0);
}

TEST(rename_keeps_serial_revoke_drops_it)
{
    struct acl other;

    fresh();
    CHECK_EQ(acl_grant(&acl, fp1, "lic1", &why), 0);
    CHECK_EQ(acl_record_serial(&acl, fp1, ser1, &why), 0);
    CHECK_EQ(acl_grant(&acl, fp1, "renamed", &why), 0);
    CHECK_EQ(reload(&other), 0);
    CHECK_STR(acl_find(&other, fp1)->name, "renamed");
    CHECK(acl_find(&other, fp1)->has_serial);

    /* Granted anew after a revoke: a clean slate, no certificate of the old grant holds it. */
    CHECK_EQ(acl_revoke(&acl, fp1, &why), 0);
    CHECK_EQ(acl_grant(&acl, fp1, "lic1", &why), 0);
    CHECK(!acl_find(&acl, fp1)->has_serial);
    CHECK_EQ(reload(&other), 0);
    CHECK(!acl_find(&other, fp1)->has_serial);
}

TEST(record_refused_changes_nothing)
{
    fresh();
    CHECK_EQ(acl_grant(&acl, fp1, "lic1", &why), 0);
    CHECK_EQ(acl_record_serial(&acl, fp2, ser1, &why), -ENOENT);
    CHECK(strstr(why, "no longer granted"));
    CHECK_EQ(writes, 1);

    CHECK_EQ(acl_record_serial(&acl, fp1, ser1, &why), 0);
    write_fails = true;
    CHECK_EQ(acl_record_serial(&acl, fp1, ser2, &why), -EIO);
    CHECK(strstr(why, "could not store"));
    /* RAM keeps what the token holds. */
    CHECK(memcmp(acl_find(&acl, fp1)->serial, ser1, ACL_SERIAL_LEN) == 0);

    struct acl unloaded;
    acl_init(&unloaded, &tok);
    CHECK_EQ(acl_record_serial(&unloaded, fp1, ser1, &why), -EIO);
}

/* Records written by hand: what a damaged or older token holds. */
static void put_entry(const uint8_t fp[ACL_FP_LEN], const char *name)
{
    uint8_t item[ACL_FP_LEN + ACL_NAME_MAX];
    memcpy(item, fp, ACL_FP_LEN);
    memcpy(item + ACL_FP_LEN, name, strlen(name));
    CHECK_EQ(tlv_put(stored, sizeof(stored), &stored_len, 1, item, ACL_FP_LEN + strlen(name)), 0);
}

static void put_serial(const uint8_t fp[ACL_FP_LEN], const uint8_t *serial, size_t n)
{
    uint8_t item[ACL_FP_LEN + 32];
    memcpy(item, fp, ACL_FP_LEN);
    memcpy(item + ACL_FP_LEN, serial, n);
    CHECK_EQ(tlv_put(stored, sizeof(stored), &stored_len, 2, item, ACL_FP_LEN + n), 0);
}

static int load_stored(void)
{
    acl_init(&acl, &tok);
    return acl_load(&acl, &why);
}

TEST(older_record_without_serials_reads)
{
    fresh();
    stored_len = 0;
    put_entry(fp1, "lic1");
    put_entry(fp2, "lic2");
    CHECK_EQ(load_stored(), 0);
    CHECK_EQ(acl.count, 2u);
    CHECK(!acl_find(&acl, fp1)->has_serial && !acl_find(&acl, fp2)->has_serial);
}

TEST(damaged_records_grant_nobody)
{
    uint8_t long_serial[ACL_SERIAL_LEN + 1];
    memset(long_serial, 0x41, sizeof(long_serial));

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

    /* And a good one after all that. */
    stored_len = 0;
    put_entry(fp1, "lic1");
    put_serial(fp1, ser1, ACL_SERIAL_LEN);
    CHECK_EQ(load_stored(), 0);
    CHECK(acl_find(&acl, fp1)->has_serial);
}

TEST(full_list_with_serials_fits)
{
    struct acl other;
    uint8_t fp[ACL_FP_LEN];
    char name[ACL_NAME_MAX + 1];

    fresh();
    memset(name, 'n', ACL_NAME_MAX);
    name[ACL_NAME_MAX] = '\0';
    for (int i = 0; i < ACL_ENTRIES_MAX; i++) {
        memset(fp, i + 1, sizeof(fp));
        CHECK_EQ(acl_grant(&acl, fp, name, &why), 0);
        CHECK_EQ(acl_record_serial(&acl, fp, ser1, &why), 0);
    }
    CHECK_EQ(reload(&other), 0);
    CHECK_EQ(other.count, (size_t)ACL_ENTRIES_MAX);
    memset(fp, ACL_ENTRIES_MAX, sizeof(fp));
    CHECK(acl_find(&other, fp)->has_serial);
}

int main(void)
{
    RUN(serial_recorded_and_read_back);
    RUN(rename_keeps_serial_revoke_drops_it);
    RUN(record_refused_changes_nothing);
    RUN(older_record_without_serials_reads);
    RUN(damaged_records_grant_nobody);
    RUN(full_list_with_serials_fits);
    return unit_summary();
}
