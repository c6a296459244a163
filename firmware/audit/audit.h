/*
 * firmware/audit — the audit trail: every security event, in a hash-chained ring in its own NV
 * region (hal/nv.h HAL_NV_AUDIT), sealed by the audit key in the token (docs/audit.md).
 *
 * Records are crypto/audit_chain's. Each erase block of the region is one segment: a 16-byte
 * header (magic, a counter that grows with every segment opened, the seq of its first record,
 * CRC) and then records back to back, each padded to the flash's write unit. Appending programs
 * one record after the last; a full segment opens the next block in turn. A power cut tears at
 * most the record being programmed: at mount, bytes after the last good record that are not
 * erased close the segment, and the next record goes into a fresh one with the torn record's
 * seq, so the chain goes on unbroken.
 *
 * Nothing is overwritten before it is exported: a block is erased for reuse only when every
 * record in it is at or below the exported seq (kept in the NV store, with the ring id). When no
 * block is free the ring is full: audit_full() says so (the service then refuses requests, as an
 * event it cannot record must not happen), and what the console still logs goes into the head
 * segment's remaining space, then is counted as lost.
 *
 * An entry that repeats the previous one word for word is counted, not written again: the first
 * is stored at once, and "(the entry above repeated N more times)" follows when a different
 * entry comes or audit_flush runs (the appliance calls it every minute and before the log is
 * shown). A flood of identical refusals so costs one record a minute instead of one per request.
 */
#ifndef AUDIT_H
#define AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/audit_chain.h"
#include "firmware/store/nvstore.h"
#include "hal/nv.h"

#define AUDIT_BLOCKS_MAX 32
/* A seal at least every AUDIT_SEAL_EVERY entries and every AUDIT_SEAL_SECS seconds. */
#define AUDIT_SEAL_EVERY 256u
#define AUDIT_SEAL_SECS  3600
/* Fewer free segments than this: status and /health warn. */
#define AUDIT_WARN_FREE 2u

struct audit_entry {
    uint32_t seq;
    int64_t when; /* Unix seconds, from the RTC */
    uint8_t type; /* enum audit_rec_type */
    char text[AUDIT_TEXT_MAX + 1];
};

struct audit {
    struct nvstore *nv; /* the ring id and exported seq; NULL when the store is unusable */
    uint16_t state_key;
    bool usable; /* the region opened */
    struct hal_nv_geometry geo;
    uint32_t counter[AUDIT_BLOCKS_MAX]; /* the segment's counter; 0: no segment (free) */
    uint32_t first[AUDIT_BLOCKS_MAX];   /* the seq of its first record */
    uint32_t last[AUDIT_BLOCKS_MAX];    /* of its last record; 0 when none */
    bool have_head;
    uint32_t head_block, head_off; /* where the next record goes; head_off == block_size: full */
    uint32_t next_seq;             /* 1 for an empty ring */
    uint32_t mounted_seq;          /* the newest entry found at mount (0: none) */
    uint8_t head[AUDIT_HASH_LEN];  /* the hash of next_seq - 1 */
    bool head_is_seal;             /* that record is a seal: it needs no seal of its own */
    uint32_t exported_seq;
    uint8_t ring_id[AUDIT_RING_ID_LEN];
    bool have_ring_id;
    uint32_t sealed_seq; /* the newest entry a seal covers */
    int64_t sealed_when;
    uint32_t damaged; /* places at mount with bytes that are no record before good ones */
    uint32_t lost;    /* entries that could not be stored since boot */
    char last_text[AUDIT_TEXT_MAX + 1]; /* the newest entry written, for counting repeats */
    uint32_t repeats;                   /* times it came again since, not yet written */
    int64_t repeat_when;                /* when it last came again */
};

struct audit_use {
    uint32_t segments, free_segments;
    uint32_t first_seq, last_seq, exported_seq, sealed_seq;
    uint32_t lost, damaged;
    uint64_t bytes, capacity;
    bool nearly_full, full;
};

/* Open and mount the ring; state (may be NULL) keeps the ring id and exported seq at state_key.
 * Migrates what old_base..old_base + old_slots - 1 hold (the 64-entry log of older versions). */
void audit_init(struct audit *a, struct nvstore *state, uint16_t state_key, uint16_t old_base,
                uint32_t old_slots);
void audit_log(struct audit *a, int64_t when, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Write the pending repeat count, if any. */
void audit_flush(struct audit *a);

/* A record as `audit show` prints it (a seal or a loss says so). */
void audit_describe(const struct audit_rec *r, struct audit_entry *out);
/* The entry `back` places before the newest (0: newest). -ENOENT past the oldest kept. */
int audit_get(struct audit *a, uint32_t back, struct audit_entry *out);
/* Every record kept from seq `from` on, oldest first, then fn(ctx, NULL) at the end. fn returns
 * nonzero to stop. 0, or what fn returned. */
int audit_each(struct audit *a, uint32_t from, int (*fn)(void *ctx, const struct audit_rec *r),
               void *ctx);

/* A reader that goes forward one record at a time (the forwarder): c->seq is the record wanted;
 * the rest remembers where the last one was, so the next is one read. 0 with *r and c->seq
 * advanced; -EAGAIN when c->seq is not written yet; -ENOENT when it is not kept (reused,
 * damaged or lost), with c->seq moved to the next one that may be. */
struct audit_cursor {
    uint32_t seq;
    bool valid;
    uint32_t block, off, counter;
};
int audit_read(struct audit *a, struct audit_cursor *c, struct audit_rec *r);

void audit_use(const struct audit *a, struct audit_use *u);
/* No segment left to open: the service refuses requests. */
bool audit_full(const struct audit *a);

/* Sealing: due when AUDIT_SEAL_EVERY entries or AUDIT_SEAL_SECS seconds passed unsealed. The
 * app signs audit_seal_digest(ring id, head seq, head hash) with the audit key in the token,
 * then appends the seal. -ESTALE when covered_seq fell out of the walker's window meanwhile. */
bool audit_seal_due(const struct audit *a, int64_t now);
void audit_head(const struct audit *a, uint32_t *seq, uint8_t hash[AUDIT_HASH_LEN]);
int audit_append_seal(struct audit *a, int64_t when, const struct audit_seal *s);
/* The ring id, fixed at the first seal (from the token's RNG): 0, or -ENOENT when none yet. */
int audit_get_ring_id(const struct audit *a, uint8_t id[AUDIT_RING_ID_LEN]);
int audit_set_ring_id(struct audit *a, const uint8_t id[AUDIT_RING_ID_LEN]);
/* Everything up to seq has left the box: its blocks may be reused. */
int audit_set_exported(struct audit *a, uint32_t seq);
/* A LOSS record: what was found missing (the token's anchor names a newer entry). It may use
 * the room kept for seals. 0 when stored. */
int audit_log_loss(struct audit *a, int64_t when, const char *text);

#endif
