#include "firmware/audit/audit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "unit.h"

/* The fake flash of tests/unit/fake_nv.c, mounted fresh. */
void fake_nv_reset(uint32_t seed);

static struct nvstore nv;

static void mount_fresh(void)
{
    fake_nv_reset(1);
    CHECK_EQ(nvstore_mount(&nv), 0);
}

TEST(entries_come_back_newest_first_and_survive_remount)
{
    struct audit a;
    struct audit_entry e;

    mount_fresh();
    audit_init(&a, &nv, 0x100);
    CHECK_EQ(audit_get(&a, 0, &e), -ENOENT);
    audit_log(&a, 1000, "login ok");
    audit_log(&a, 2000, "enroll import: refused: %s", "expired");
    CHECK_EQ(audit_get(&a, 0, &e), 0);
    CHECK_STR(e.text, "enroll import: refused: expired");
    CHECK_EQ(e.when, 2000);
    CHECK_EQ(audit_get(&a, 1, &e), 0);
    CHECK_STR(e.text, "login ok");
    CHECK_EQ(audit_get(&a, 2, &e), -ENOENT);
    /* A reboot: the ring continues after the newest entry found. */
    CHECK_EQ(nvstore_mount(&nv), 0);
    audit_init(&a, &nv, 0x100);
    audit_log(&a, 3000, "logout");
    CHECK_EQ(audit_get(&a, 0, &e), 0);
    CHECK_EQ(e.seq, 3u);
    CHECK_EQ(audit_get(&a, 2, &e), 0);
    CHECK_STR(e.text, "login ok");
}

TEST(ring_keeps_the_last_slots)
{
    struct audit a;
    struct audit_entry e;

    mount_fresh();
    audit_init(&a, &nv, 0x100);
    for (int i = 0; i < AUDIT_SLOTS + 10; i++)
        audit_log(&a, i, "event %d", i);
    CHECK_EQ(audit_get(&a, 0, &e), 0);
    CHECK_STR(e.text, "event 73");
    CHECK_EQ(audit_get(&a, AUDIT_SLOTS - 1, &e), 0);
    CHECK_STR(e.text, "event 10");
    CHECK_EQ(audit_get(&a, AUDIT_SLOTS, &e), -ENOENT);
    CHECK_EQ(a.lost, 0u);
}

TEST(long_and_unprintable_text_stays_one_line)
{
    struct audit a;
    struct audit_entry e;
    char big[AUDIT_TEXT_MAX + 100];

    mount_fresh();
    audit_init(&a, &nv, 0x100);
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    audit_log(&a, 1, "%s", big);
    CHECK_EQ(audit_get(&a, 0, &e), 0);
    CHECK_EQ(strlen(e.text), (size_t)AUDIT_TEXT_MAX);
    audit_log(&a, 2, "refused 'a\nb\x1b[2J'");
    CHECK_EQ(audit_get(&a, 0, &e), 0);
    CHECK_STR(e.text, "refused 'a?b?[2J'");
}

/* The longest line the appliance writes — command, a 64-character CN, a 200-character reason —
 * is kept whole, across a remount. */
TEST(a_full_reason_is_kept_whole)
{
    struct audit a;
    struct audit_entry e;
    char cn[65], why[201], want[AUDIT_TEXT_MAX + 1];

    mount_fresh();
    audit_init(&a, &nv, 0x100);
    memset(cn, 'c', sizeof(cn) - 1);
    cn[sizeof(cn) - 1] = '\0';
    memset(why, 'r', sizeof(why) - 1);
    why[sizeof(why) - 1] = '\0';
    for (int i = 0; i < 3; i++)
        audit_log(&a, i, "certify: refused (403) for %s: %d %s", cn, i, why);
    CHECK_EQ(a.lost, 0u);
    audit_init(&a, &nv, 0x100);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(audit_get(&a, (uint32_t)(2 - i), &e), 0);
        snprintf(want, sizeof(want), "certify: refused (403) for %s: %d %s", cn, i, why);
        CHECK_STR(e.text, want);
    }
}

TEST(repeats_are_counted_not_written)
{
    struct audit a;
    struct audit_entry e;

    mount_fresh();
    audit_init(&a, &nv, 0x100);
    audit_log(&a, 10, "subenroll: refused (403): not granted");
    for (int i = 0; i < 500; i++)
        audit_log(&a, 11 + i, "subenroll: refused (403): not granted");
    CHECK_EQ(audit_get(&a, 0, &e), 0); /* the first is stored at once, the rest counted */
    CHECK_STR(e.text, "subenroll: refused (403): not granted");
    CHECK_EQ(audit_get(&a, 1, &e), -ENOENT);
    audit_log(&a, 600, "login");
    CHECK_EQ(audit_get(&a, 1, &e), 0);
    CHECK_STR(e.text, "(the entry above repeated 500 more times)");
    CHECK_EQ(e.when, 510);
    CHECK_EQ(audit_get(&a, 0, &e), 0);
    CHECK_STR(e.text, "login");
    /* A flush writes the count; the same entry after it starts a new run. */
    audit_log(&a, 601, "login");
    audit_flush(&a);
    audit_flush(&a);
    CHECK_EQ(audit_get(&a, 0, &e), 0);
    CHECK_STR(e.text, "(the entry above repeated 1 more time)");
    audit_log(&a, 700, "login");
    CHECK_EQ(audit_get(&a, 0, &e), 0);
    CHECK_STR(e.text, "login");
    CHECK_EQ(e.when, 700);
}

int main(void)
{
    RUN(entries_come_back_newest_first_and_survive_remount);
    RUN(ring_keeps_the_last_slots);
    RUN(long_and_unprintable_text_stays_one_line);
    RUN(a_full_reason_is_kept_whole);
    RUN(repeats_are_counted_not_written);
    return unit_summary();
}
