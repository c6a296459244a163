/*
 * firmware/audit — the audit log: what was done to the appliance and what it refused, with time.
 *
 * The last AUDIT_SLOTS entries live in the NV store, one record each (keys NV_KEY_AUDIT_BASE
 * and up, used as a ring): appending is one atomic NV write, so a power cut loses at most the
 * entry being written. Each entry carries a sequence number; at mount the highest one found
 * says where the ring continues. Entries are one line of at most AUDIT_TEXT_MAX characters:
 * enough for the longest line the appliance writes whole (a command, who it was for — a
 * certificate's CN, up to 64 — and a one-line reason, up to 200), so no reason is cut. A record
 * is then at most 12 + AUDIT_TEXT_MAX bytes (NVSTORE_VALUE_MAX is 1 KiB), and the full ring,
 * AUDIT_SLOTS x 412 bytes (26 KiB), fits the smallest NV bank (64 KiB on the host board) with
 * room for the store's other records.
 *
 * An entry that repeats the previous one word for word is counted, not written again: the first
 * is stored at once, and "(the entry above repeated N more times, last at T)" follows when a
 * different entry comes or audit_flush runs (the appliance calls it every minute and before the
 * log is shown). A flood of identical refusals, or a client issuing the same request in a loop,
 * so costs the flash one record a minute instead of one per request; a power cut loses at most
 * the count of the last minute, never the first occurrence.
 */
#ifndef AUDIT_H
#define AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/store/nvstore.h"

#define AUDIT_TEXT_MAX 400

struct audit_entry {
    uint32_t seq;
    int64_t when; /* Unix seconds, from the RTC */
    char text[AUDIT_TEXT_MAX + 1];
};

struct audit {
    struct nvstore *nv; /* NULL: the store is unusable and entries are only counted */
    uint16_t key_base;
    uint32_t next_seq;             /* 1 for an empty log */
    uint32_t lost;                 /* entries that could not be stored */
    char last[AUDIT_TEXT_MAX + 1]; /* the newest entry written, for counting repeats */
    uint32_t repeats;              /* times it came again since, not yet written */
    int64_t repeat_when;           /* when it last came again */
};

void audit_init(struct audit *a, struct nvstore *nv, uint16_t key_base);
void audit_log(struct audit *a, int64_t when, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Write the pending repeat count, if any. */
void audit_flush(struct audit *a);

/* The entry `back` places before the newest (0: newest). -ENOENT past the oldest kept. */
int audit_get(struct audit *a, uint32_t back, struct audit_entry *out);

#endif
