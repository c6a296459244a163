/*
 * firmware/audit's ring over tests/unit/fake_nv (6 blocks of 4 KiB, so tests go round it), and
 * crypto/audit_chain's walker over what it holds. Seals are signed by a P-256 key of OpenSSL's
 * made for the run: one implementation signs, mbedTLS verifies.
 */
#include "firmware/audit/audit.h"

#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "fake_nv.h"
#include "unit.h"

#define STATE_KEY 6
#define OLD_BASE  0x100

static struct nvstore nv;

static void mount_fresh(void)
{
    fake_nv_reset(1);
    CHECK_EQ(nvstore_mount(&nv), 0);
}

static void boot(struct audit *a)
{
    CHECK_EQ(nvstore_mount(&nv), 0);
    audit_init(a, &nv, STATE_KEY, OLD_BASE, 64);
}

/* The walker over the whole ring. */
struct walked {
    struct audit_walk w;
    uint32_t fed;
};

static int feed(void *ctx, const struct audit_rec *r)
{
    struct walked *k = ctx;
    if (r) {
        k->fed++;
        (void)audit_walk_next(&k->w, r);
    }
    return 0;
}

static void walk(struct audit *a, struct walked *k, const uint8_t *point, size_t len)
{
    memset(k, 0, sizeof(*k));
    audit_walk_init(&k->w, point, len);
    CHECK_EQ(audit_each(a, 0, feed, k), 0);
}

TEST(entries_come_back_and_survive_remount)
{
    struct audit a;
    struct audit_entry e;
    struct walked k;

    mount_fresh();
    boot(&a);
    CHECK(a.usable);
    CHECK_EQ(audit_get(&a, 0, &e), -ENOENT);
    audit_log(&a, 1000, "login ok");
    audit_log(&a, 2000, "enroll import: refused: %s", "expired");
    CHECK_EQ(audit_get(&a, 0, &e), 0);
    CHECK_STR(e.text, "enroll import: refused: expired");
    CHECK_EQ(e.when, 2000);
    CHECK_EQ(e.seq, 2u);
    CHECK_EQ(audit_get(&a, 1, &e), 0);
    CHECK_STR(e.text, "login ok");
    CHECK_EQ(audit_get(&a, 2, &e), -ENOENT);
    boot(&a); /* a reboot: the ring continues after the newest entry, chained to it */
    audit_log(&a, 3000, "logout");
    CHECK_EQ(audit_get(&a, 0, &e), 0);
    CHECK_EQ(e.seq, 3u);
    CHECK_EQ(audit_get(&a, 2, &e), 0);
    CHECK_STR(e.text, "login ok");
    walk(&a, &k, NULL, 0);
    CHECK(!k.w.broken);
    CHECK_EQ(k.fed, 3u);
    CHECK_EQ(k.w.first_seq, 1u);
}

TEST(long_and_unprintable_text_stays_one_line)
{
    struct audit a;
    struct audit_entry e;
    char big[AUDIT_TEXT_MAX + 100];

    mount_fresh();
    boot(&a);
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    audit_log(&a, 1, "%s", big);
    CHECK_EQ(audit_get(&a, 0, &e), 0);
    CHECK_EQ(strlen(e.text), (size_t)AUDIT_TEXT_MAX);
    audit_log(&a, 2, "refused 'a\nb\x1b[2J'");
    CHECK_EQ(audit_get(&a, 0, &e), 0);
    CHECK_STR(e.text, "refused 'a?b?[2J'");
}

TEST(repeats_are_counted_not_written)
{
    struct audit a;
    struct audit_entry e;

    mount_fresh();
    boot(&a);
    audit_log(&a, 10, "subenroll: refused (403): not granted");
    for (int i = 0; i < 500; i++)
        audit_log(&a, 11 + i, "subenroll: refused (403): not granted");
    CHECK_EQ(audit_get(&a, 0, &e), 0); /* the first is stored at once, the rest counted */
    CHECK_EQ(audit_get(&a, 1, &e), -ENOENT);
    audit_log(&a, 600, "login");
    CHECK_EQ(audit_get(&a, 1, &e), 0);
    CHECK_STR(e.text, "(the entry above repeated 500 more times)");
    CHECK_EQ(e.when, 510);
    audit_log(&a, 601, "login");
    audit_flush(&a);
    audit_flush(&a);
    CHECK_EQ(audit_get(&a, 0, &e), 0);
    CHECK_STR(e.text, "(the entry above repeated 1 more time)");
}

/* Nothing unexported is overwritten: the ring fills, says so, and goes on once exported. */
TEST(the_ring_fills_and_reuses_only_what_was_exported)
{
    struct audit a;
    struct audit_use u;
    struct audit_entry e;
    struct walked k;
    char pad[200];

    mount_fresh();
    boot(&a);
    memset(pad, 'p', sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = '\0';
    audit_log(&a, 1, "acl grant alice");
    uint32_t n = 1;
    while (!audit_full(&a) && n < 10000) {
        n++;
        audit_log(&a, n, "event %lu %s", (unsigned long)n, pad);
    }
    CHECK(audit_full(&a));
    audit_use(&a, &u);
    CHECK(u.full && u.nearly_full);
    CHECK_EQ(u.free_segments, 1u); /* kept for seals */
    CHECK_EQ(a.lost, 0u);
    /* The head segment's remaining space still takes entries; past it they are lost, and the
     * first entry is still there. */
    for (int i = 0; i < 40; i++)
        audit_log(&a, 20000 + i, "console %d %s", i, pad);
    CHECK(a.lost > 0);
    CHECK_EQ(audit_get(&a, a.next_seq - 2, &e), 0);
    CHECK_STR(e.text, "acl grant alice");
    /* Seals still fit, from the room kept for them: an export can seal the head. */
    for (int i = 0; i < 8; i++) {
        struct audit_seal s = {.ring_id = {9}};
        audit_head(&a, &s.covered_seq, s.covered_hash);
        CHECK_EQ(audit_append_seal(&a, 20100 + i, &s), 0);
    }
    /* The head segment closed (as a torn write at boot leaves it): the kept segment takes the
     * seal; events fill it only up to the room kept for seals, and a seal still fits. */
    a.head_off = a.geo.block_size;
    {
        struct audit_seal s = {.ring_id = {9}};
        audit_head(&a, &s.covered_seq, s.covered_hash);
        CHECK_EQ(audit_append_seal(&a, 20200, &s), 0);
        uint32_t lost = a.lost;
        for (int i = 0; i < 40; i++)
            audit_log(&a, 20201 + i, "console after the seal %d %s", i, pad);
        CHECK(a.lost > lost);
        audit_head(&a, &s.covered_seq, s.covered_hash);
        CHECK_EQ(audit_append_seal(&a, 20300, &s), 0);
    }
    /* Exported: the oldest segments go, and only they. */
    CHECK_EQ(audit_set_exported(&a, a.next_seq - 1), 0);
    CHECK(!audit_full(&a));
    uint32_t before = a.next_seq;
    for (int i = 0; i < 40; i++)
        audit_log(&a, 30000 + i, "after export %d %s", i, pad);
    CHECK_EQ(a.next_seq, before + 40);
    boot(&a); /* the exported seq is kept */
    CHECK_EQ(a.exported_seq, before - 1);
    CHECK_EQ(a.next_seq, before + 40);
    walk(&a, &k, NULL, 0);
    CHECK(!k.w.broken);
    CHECK(k.w.first_seq > 1);
    CHECK_EQ(k.w.last_seq, before + 39);
}

/* A power cut at every unit of an append: after the reboot the chain is whole and goes on. */
TEST(a_power_cut_anywhere_in_an_append_leaves_a_whole_chain)
{
    struct audit a;
    struct walked k;
    char pad[300];

    memset(pad, 'q', sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = '\0';
    for (uint32_t cut = 0; cut < 140; cut++) {
        mount_fresh();
        boot(&a);
        /* Near the end of the first segment, so that some cuts fall in opening the next. */
        for (int i = 0; i < 10; i++)
            audit_log(&a, i, "fill %d %s", i, pad);
        fake_nv_cut_after(cut);
        for (int i = 0; i < 6; i++)
            audit_log(&a, 100 + i, "cut %d %s", i, pad);
        fake_nv_power_on();
        boot(&a);
        uint32_t next = a.next_seq;
        audit_log(&a, 200, "after the cut");
        CHECK_EQ(a.lost, 0u);
        walk(&a, &k, NULL, 0);
        if (k.w.broken)
            printf("cut %lu: %s\n", (unsigned long)cut, k.w.why);
        CHECK(!k.w.broken);
        CHECK_EQ(k.w.last_seq, next);
        CHECK(next >= 11);
    }
}

/* An altered byte, a removed record and a rewritten record are each found, and named. */
static uint32_t record_offset(uint32_t seq)
{
    /* Records start after the 16-byte segment header; find seq by decoding. */
    for (uint32_t b = 0; b < FAKE_AUDIT_BLOCKS; b++) {
        uint32_t off = 16;
        while (off + 52 < FAKE_NV_BLOCK) {
            struct audit_rec r;
            size_t used;
            if (audit_rec_decode(fake_audit_mem + b * FAKE_NV_BLOCK + off, FAKE_NV_BLOCK - off, &r,
                                 &used) != 0)
                break;
            if (r.seq == seq)
                return b * FAKE_NV_BLOCK + off;
            off += (uint32_t)((used + 3) / 4 * 4);
        }
    }
    return UINT32_MAX;
}

static void ten_entries(struct audit *a)
{
    mount_fresh();
    boot(a);
    for (int i = 1; i <= 10; i++)
        audit_log(a, i, "entry number %d", i);
}

TEST(tampering_is_found_and_named)
{
    struct audit a;
    struct walked k;
    uint32_t off;

    /* A byte of entry 5's text changed: its CRC fails, the entry is missing. */
    ten_entries(&a);
    off = record_offset(5);
    fake_audit_mem[off + 50] ^= 1;
    boot(&a);
    CHECK(a.damaged > 0);
    CHECK_EQ(a.next_seq, 11u); /* seq numbers are not used twice */
    walk(&a, &k, NULL, 0);
    CHECK(k.w.broken);
    CHECK_EQ(k.w.bad_seq, 5u);
    CHECK(strstr(k.w.why, "missing"));

    /* The same change with the CRC fixed: the hash link from entry 6 breaks. */
    ten_entries(&a);
    off = record_offset(5);
    struct audit_rec r;
    size_t used;
    CHECK_EQ(audit_rec_decode(fake_audit_mem + off, 500, &r, &used), 0);
    r.body[6] = 'N';
    uint8_t buf[AUDIT_REC_MAX];
    CHECK_EQ(audit_rec_encode(&r, buf, sizeof(buf)), used);
    memcpy(fake_audit_mem + off, buf, used);
    boot(&a);
    walk(&a, &k, NULL, 0);
    CHECK(k.w.broken);
    CHECK_EQ(k.w.bad_seq, 5u);
    CHECK(strstr(k.w.why, "changed"));

    /* Entry 5 cut out, the records after it moved up: a gap in the seq numbers. (Renumbered and
     * re-linked, only a seal shows it: seals_verify_and_a_rewritten_chain_does_not.) */
    ten_entries(&a);
    uint32_t o5 = record_offset(5), o6 = record_offset(6), end = record_offset(10) + 64;
    memmove(fake_audit_mem + o5, fake_audit_mem + o6, end - o6);
    boot(&a);
    walk(&a, &k, NULL, 0);
    CHECK(k.w.broken);
    CHECK_EQ(k.w.bad_seq, 5u);
}

/* Seals: made by a key outside (OpenSSL), checked by the walker with mbedTLS. */
static EVP_PKEY *seal_key;
static uint8_t seal_point[65];

static void seal_now(struct audit *a, int64_t when, const uint8_t id[AUDIT_RING_ID_LEN])
{
    struct audit_seal s;
    uint8_t digest[AUDIT_HASH_LEN], der[80];
    size_t der_len = sizeof(der);

    memcpy(s.ring_id, id, AUDIT_RING_ID_LEN);
    audit_head(a, &s.covered_seq, s.covered_hash);
    audit_seal_digest(id, s.covered_seq, s.covered_hash, digest);
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(seal_key, NULL);
    CHECK(c && EVP_PKEY_sign_init(c) == 1 &&
          EVP_PKEY_sign(c, der, &der_len, digest, sizeof(digest)) == 1);
    EVP_PKEY_CTX_free(c);
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    CHECK(sig != NULL);
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), s.sig, 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), s.sig + 32, 32);
    ECDSA_SIG_free(sig);
    CHECK_EQ(audit_append_seal(a, when, &s), 0);
}

TEST(seals_verify_and_a_rewritten_chain_does_not)
{
    static const uint8_t id[AUDIT_RING_ID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8};
    struct audit a;
    struct walked k;
    size_t plen = sizeof(seal_point);

    seal_key = EVP_EC_gen("P-256");
    CHECK(seal_key != NULL);
    CHECK(EVP_PKEY_get_octet_string_param(seal_key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, seal_point,
                                          sizeof(seal_point), &plen) == 1);
    CHECK_EQ(plen, (size_t)65);

    ten_entries(&a);
    CHECK(audit_seal_due(&a, 5000)); /* never sealed: due at once */
    CHECK_EQ(audit_set_ring_id(&a, id), 0);
    seal_now(&a, 11, id);
    CHECK(!audit_seal_due(&a, 12));
    audit_log(&a, 12, "after the seal");
    CHECK(!audit_seal_due(&a, 13));
    CHECK(audit_seal_due(&a, 11 + AUDIT_SEAL_SECS));
    walk(&a, &k, seal_point, plen);
    CHECK(!k.w.broken);
    CHECK_EQ(k.w.seals, 1u);
    CHECK_EQ(k.w.sealed_seq, 10u);
    boot(&a); /* the seal is found again at mount */
    CHECK_EQ(a.sealed_seq, 10u);
    CHECK(!audit_seal_due(&a, 13));

    /* Entry 3 rewritten, and every record after it re-linked with fixed CRCs: the hashes agree
     * again, but the seal does not. */
    uint8_t prev[AUDIT_HASH_LEN], hash10[AUDIT_HASH_LEN];
    for (uint32_t seq = 3; seq <= 12; seq++) {
        uint32_t off = record_offset(seq);
        struct audit_rec r;
        size_t used;
        uint8_t buf[AUDIT_REC_MAX];
        CHECK_EQ(audit_rec_decode(fake_audit_mem + off, 500, &r, &used), 0);
        if (seq == 3)
            r.body[0] = 'E';
        else
            memcpy(r.prev, prev, sizeof(prev));
        CHECK_EQ(audit_rec_encode(&r, buf, sizeof(buf)), used);
        memcpy(fake_audit_mem + off, buf, used);
        memcpy(prev, r.hash, sizeof(prev));
        if (seq == 10)
            memcpy(hash10, r.hash, sizeof(hash10));
    }
    boot(&a);
    walk(&a, &k, seal_point, plen);
    CHECK(k.w.broken);
    CHECK_EQ(k.w.bad_seq, 10u);
    CHECK(strstr(k.w.why, "sealed"));
    /* And a seal made up to match the rewritten chain is not the audit key's. */
    uint32_t off = record_offset(11);
    struct audit_rec r;
    struct audit_seal s;
    size_t used;
    uint8_t buf[AUDIT_REC_MAX];
    CHECK_EQ(audit_rec_decode(fake_audit_mem + off, 500, &r, &used), 0);
    CHECK_EQ(audit_seal_parse(&r, &s), 0);
    memcpy(s.covered_hash, hash10, sizeof(hash10)); /* entry 10's hash, as rewritten */
    audit_seal_to_body(&s, &r);
    CHECK_EQ(audit_rec_encode(&r, buf, sizeof(buf)), used);
    memcpy(fake_audit_mem + off, buf, used);
    boot(&a);
    walk(&a, &k, seal_point, plen);
    CHECK(k.w.broken);
    CHECK_EQ(k.w.bad_seq, 11u);
    CHECK(strstr(k.w.why, "signature"));
    EVP_PKEY_free(seal_key);
}

TEST(hostile_records_are_refused)
{
    struct audit_rec r = {.type = AUDIT_REC_TEXT, .seq = 1, .body_len = 3};
    uint8_t buf[AUDIT_REC_MAX];
    size_t used;

    memcpy(r.body, "abc", 3);
    size_t n = audit_rec_encode(&r, buf, sizeof(buf));
    CHECK_EQ(n, (size_t)(AUDIT_REC_HEAD + 3 + 4));
    CHECK_EQ(audit_rec_decode(buf, n, &r, &used), 0);
    CHECK_EQ(audit_rec_decode(buf, n - 1, &r, &used), -EBADMSG); /* cut short */
    buf[0] = 0xFF;
    buf[1] = 0xFF;
    CHECK_EQ(audit_rec_decode(buf, n, &r, &used), -ENODATA);
    r.body[1] = '\n'; /* not one printable line, even with a good CRC */
    n = audit_rec_encode(&r, buf, sizeof(buf));
    CHECK_EQ(audit_rec_decode(buf, n, &r, &used), -EBADMSG);
    r.body_len = AUDIT_TEXT_MAX + 1;
    CHECK_EQ(audit_rec_encode(&r, buf, sizeof(buf)), (size_t)0);
}

/* The 64-entry log of older versions is moved into the ring at the first boot. */
TEST(the_old_log_is_moved_in)
{
    struct audit a;
    struct audit_entry e;
    uint8_t rec[12 + 20];

    mount_fresh();
    for (uint32_t seq = 70; seq <= 75; seq++) {
        memset(rec, 0, sizeof(rec));
        rec[0] = (uint8_t)seq;
        rec[4] = (uint8_t)seq; /* when */
        int n = snprintf((char *)rec + 12, 20, "old %lu", (unsigned long)seq);
        CHECK_EQ(nvstore_write(&nv, (uint16_t)(OLD_BASE + seq % 64), rec, 12 + (size_t)n), 0);
    }
    boot(&a);
    CHECK_EQ(audit_get(&a, 1, &e), 0);
    CHECK_STR(e.text, "old 75");
    CHECK_EQ(e.when, 75);
    CHECK_EQ(audit_get(&a, 6, &e), 0);
    CHECK_STR(e.text, "old 70");
    size_t len;
    CHECK_EQ(nvstore_read(&nv, OLD_BASE + 70 % 64, rec, sizeof(rec), &len), -ENOENT);
    boot(&a); /* once */
    CHECK_EQ(a.next_seq, 8u);
}

/* The forwarder's reader: every record once, in order, across segments and reuse. */
TEST(a_cursor_reads_each_record_once_in_order)
{
    struct audit a;
    struct audit_cursor c = {0};
    struct audit_rec r;

    mount_fresh();
    boot(&a);
    CHECK_EQ(audit_read(&a, &c, &r), -EAGAIN);
    for (int i = 1; i <= 100; i++)
        audit_log(&a, i, "entry %d of a few", i);
    for (uint32_t want = 1; want <= 100; want++) {
        CHECK_EQ(audit_read(&a, &c, &r), 0);
        CHECK_EQ(r.seq, want);
    }
    CHECK_EQ(audit_read(&a, &c, &r), -EAGAIN);
    /* Written after: read on, into the next segments. */
    for (int i = 101; i <= 160; i++)
        audit_log(&a, i, "entry %d of a few more, padded to fill segments sooner", i);
    for (uint32_t want = 101; want <= 160; want++) {
        CHECK_EQ(audit_read(&a, &c, &r), 0);
        CHECK_EQ(r.seq, want);
    }
    /* Exported and reused: an old seq is not kept, and the cursor goes to the oldest kept. */
    CHECK_EQ(audit_set_exported(&a, 160), 0);
    for (int i = 161; !a.counter[0] || a.first[0] <= 160; i++)
        audit_log(&a, i, "entry %d, round the ring, padded to fill segments sooner", i);
    struct audit_cursor old = {.seq = 1};
    CHECK_EQ(audit_read(&a, &old, &r), -ENOENT);
    CHECK(old.seq > 1);
    CHECK_EQ(audit_read(&a, &old, &r), 0);
    CHECK_EQ(r.seq, old.seq - 1);
}

int main(void)
{
    RUN(entries_come_back_and_survive_remount);
    RUN(long_and_unprintable_text_stays_one_line);
    RUN(repeats_are_counted_not_written);
    RUN(the_ring_fills_and_reuses_only_what_was_exported);
    RUN(a_power_cut_anywhere_in_an_append_leaves_a_whole_chain);
    RUN(tampering_is_found_and_named);
    RUN(seals_verify_and_a_rewritten_chain_does_not);
    RUN(hostile_records_are_refused);
    RUN(the_old_log_is_moved_in);
    RUN(a_cursor_reads_each_record_once_in_order);
    return unit_summary();
}
