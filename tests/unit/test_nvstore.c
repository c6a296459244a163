#include "firmware/store/nvstore.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "fake_nv.h"
#include "unit.h"

static struct nvstore st;

static int mount_fresh(void)
{
    fake_nv_reset(1);
    return nvstore_mount(&st);
}

static int value_is(uint16_t key, const void *want, size_t want_len)
{
    uint8_t buf[NVSTORE_VALUE_MAX];
    size_t len = 0;
    if (nvstore_read(&st, key, buf, sizeof(buf), &len) != 0)
        return 0;
    return len == want_len && memcmp(buf, want, len) == 0;
}

TEST(blank_flash_formats_and_is_empty)
{
    size_t len;
    uint8_t b[4];

    CHECK_EQ(mount_fresh(), 0);
    CHECK(st.formatted);
    CHECK_EQ(st.nkeys, 0);
    CHECK_EQ(nvstore_read(&st, 5, b, sizeof(b), &len), -ENOENT);
    CHECK_EQ(nvstore_mount(&st), 0); /* second mount finds the formatted bank */
    CHECK(!st.formatted);
}

TEST(write_read_replace_delete_persist)
{
    CHECK_EQ(mount_fresh(), 0);
    CHECK_EQ(nvstore_write(&st, 1, "alpha", 5), 0);
    CHECK_EQ(nvstore_write(&st, 2, "beta!", 5), 0);
    CHECK_EQ(nvstore_write(&st, 1, "gamma-delta", 11), 0);
    CHECK(value_is(1, "gamma-delta", 11));
    CHECK(value_is(2, "beta!", 5));
    CHECK_EQ(nvstore_delete(&st, 2), 0);
    CHECK_EQ(nvstore_delete(&st, 2), 0); /* deleting an absent key is not an error */
    CHECK_EQ(nvstore_mount(&st), 0);
    CHECK(value_is(1, "gamma-delta", 11));
    size_t len;
    uint8_t b[16];
    CHECK_EQ(nvstore_read(&st, 2, b, sizeof(b), &len), -ENOENT);
}

TEST(bad_arguments_are_refused)
{
    uint8_t big[NVSTORE_VALUE_MAX + 1] = {0};
    uint8_t small[3];
    size_t len = 0;

    CHECK_EQ(mount_fresh(), 0);
    CHECK_EQ(nvstore_write(&st, 0, "x", 1), -EINVAL);
    CHECK_EQ(nvstore_write(&st, 0xffff, "x", 1), -EINVAL);
    CHECK_EQ(nvstore_write(&st, 3, "x", 0), -EINVAL);
    CHECK_EQ(nvstore_write(&st, 3, big, sizeof(big)), -EINVAL);
    CHECK_EQ(nvstore_write(&st, 3, big, NVSTORE_VALUE_MAX), 0);
    CHECK_EQ(nvstore_read(&st, 3, small, sizeof(small), &len), -ENOBUFS);
    CHECK_EQ(len, NVSTORE_VALUE_MAX);
}

TEST(full_bank_compacts_and_keeps_values)
{
    uint8_t v[200];

    CHECK_EQ(mount_fresh(), 0);
    for (int round = 0; round < 60; round++) {
        memset(v, round, sizeof(v));
        CHECK_EQ(nvstore_write(&st, (uint16_t)(1 + round % 3), v, sizeof(v)), 0);
    }
    CHECK(st.compactions >= 2);
    CHECK_EQ(nvstore_mount(&st), 0);
    for (int k = 0; k < 3; k++) {
        memset(v, 57 + k, sizeof(v));
        CHECK(value_is((uint16_t)(1 + k), v, sizeof(v)));
    }
}

TEST(no_room_refuses_and_keeps_old_values)
{
    uint8_t v[NVSTORE_VALUE_MAX];
    int stored = 0;

    CHECK_EQ(mount_fresh(), 0);
    memset(v, 0xab, sizeof(v));
    for (uint16_t k = 1; k <= 8; k++) {
        int r = nvstore_write(&st, k, v, sizeof(v));
        if (r == -ENOSPC)
            break;
        CHECK_EQ(r, 0);
        stored++;
    }
    CHECK(stored >= 2 && stored < 8);
    CHECK_EQ(nvstore_mount(&st), 0);
    for (uint16_t k = 1; k <= stored; k++)
        CHECK(value_is(k, v, sizeof(v)));
}

TEST(key_count_is_bounded)
{
    CHECK_EQ(mount_fresh(), 0);
    for (uint16_t k = 1; k <= NVSTORE_KEYS_MAX; k++)
        CHECK_EQ(nvstore_write(&st, k, "v", 1), 0);
    CHECK_EQ(nvstore_write(&st, NVSTORE_KEYS_MAX + 1, "v", 1), -ENOSPC);
    CHECK_EQ(nvstore_write(&st, 1, "w", 1), 0); /* replacing an existing key still works */
}

TEST(corrupted_record_is_never_returned)
{
    CHECK_EQ(mount_fresh(), 0);
    CHECK_EQ(nvstore_write(&st, 4, "first", 5), 0);
    CHECK_EQ(nvstore_write(&st, 4, "second", 6), 0);
    /* Flip one bit in the newest record's value: the damaged record is never served; after a
     * remount the store falls back to the last intact value, exactly as after a torn write. */
    uint32_t off = st.index[0].offset + 8;
    fake_nv_mem[st.active * FAKE_NV_BLOCK + off] ^= 0x01;
    uint8_t b[16];
    size_t len;
    CHECK_EQ(nvstore_read(&st, 4, b, sizeof(b), &len), -EIO);
    CHECK_EQ(nvstore_mount(&st), 0);
    CHECK(st.dirty);
    CHECK(value_is(4, "first", 5));
    CHECK_EQ(nvstore_write(&st, 4, "third", 5), 0); /* dirty bank: compacts past the damage */
    CHECK_EQ(nvstore_mount(&st), 0);
    CHECK(value_is(4, "third", 5));
}

/* ---- power cut at every unit of a scripted sequence ---- */

#define KEYS 6
#define OPS  48

struct op {
    uint16_t key;
    uint16_t len; /* 0: delete */
    uint8_t fill;
};

struct model {
    uint16_t len[KEYS + 1];
    uint8_t fill[KEYS + 1];
};

static struct op script[OPS];

static void make_script(uint32_t seed)
{
    srand(seed);
    for (int i = 0; i < OPS; i++) {
        script[i].key = (uint16_t)(1 + rand() % KEYS);
        script[i].len = (rand() % 8 == 0) ? 0 : (uint16_t)(1 + rand() % 300);
        script[i].fill = (uint8_t)(i + 1);
    }
}

static void apply(struct model *m, const struct op *o)
{
    m->len[o->key] = o->len;
    m->fill[o->key] = o->fill;
}

static int run_op(const struct op *o)
{
    uint8_t v[300];
    if (o->len == 0)
        return nvstore_delete(&st, o->key);
    memset(v, o->fill, o->len);
    return nvstore_write(&st, o->key, v, o->len);
}

static int matches(const struct model *m, uint16_t key)
{
    uint8_t buf[NVSTORE_VALUE_MAX];
    size_t len = 0;
    int r = nvstore_read(&st, key, buf, sizeof(buf), &len);
    if (m->len[key] == 0)
        return r == -ENOENT;
    if (r != 0 || len != m->len[key])
        return 0;
    for (size_t i = 0; i < len; i++)
        if (buf[i] != m->fill[key])
            return 0;
    return 1;
}

static int sweep(uint32_t seed, uint32_t *cuts_checked)
{
    struct model before, after;

    make_script(seed);
    fake_nv_reset(seed);
    if (nvstore_mount(&st) != 0)
        return 0;
    fake_nv_units = 0;
    for (int i = 0; i < OPS; i++)
        if (run_op(&script[i]) != 0)
            return 0;
    uint32_t total = fake_nv_units;
    if (st.compactions < 2)
        return 0; /* the script must exercise compaction */

    for (uint32_t k = 0; k <= total; k++) {
        fake_nv_reset(seed + k);
        if (nvstore_mount(&st) != 0)
            return 0;
        memset(&before, 0, sizeof(before));
        fake_nv_cut_after(k);
        int failed_at = OPS;
        for (int i = 0; i < OPS; i++) {
            after = before;
            apply(&after, &script[i]);
            if (run_op(&script[i]) != 0) {
                failed_at = i;
                break;
            }
            before = after;
        }
        fake_nv_power_on();
        if (nvstore_mount(&st) != 0)
            return 0;
        for (uint16_t key = 1; key <= KEYS; key++) {
            int ok = matches(&before, key);
            if (!ok && failed_at < OPS && key == script[failed_at].key)
                ok = matches(&after, key);
            if (!ok) {
                printf("# seed %u cut after %u units (op %d): key %u is neither old nor new\n",
                       seed, k, failed_at, key);
                return 0;
            }
        }
        /* The store keeps working after the cut. */
        if (nvstore_write(&st, 1, "after", 5) != 0 || nvstore_mount(&st) != 0)
            return 0;
        uint8_t b[8];
        size_t len;
        if (nvstore_read(&st, 1, b, sizeof(b), &len) != 0 || len != 5 || memcmp(b, "after", 5))
            return 0;
        (*cuts_checked)++;
    }
    return 1;
}

TEST(power_cut_at_every_unit_leaves_old_or_new)
{
    uint32_t checked = 0;
    CHECK(sweep(7, &checked));
    CHECK(sweep(1234, &checked));
    CHECK(sweep(99991, &checked));
    CHECK(checked > 1000);
    printf("# %u power cuts checked\n", checked);
}

int main(void)
{
    RUN(blank_flash_formats_and_is_empty);
    RUN(write_read_replace_delete_persist);
    RUN(bad_arguments_are_refused);
    RUN(full_bank_compacts_and_keeps_values);
    RUN(no_room_refuses_and_keeps_old_values);
    RUN(key_count_is_bounded);
    RUN(corrupted_record_is_never_returned);
    RUN(power_cut_at_every_unit_leaves_old_or_new);
    return unit_summary();
}
