/*
 * crypto/audit_chain — the audit trail's record format, and the check of a chain of records.
 * The firmware writes records into its NV ring (firmware/audit) and checks them with
 * `audit verify`; signet-authority checks an export offline with the same walker.
 *
 * A record, integers little-endian (docs/audit.md has the diagram):
 *   u16 len      bytes from here to the end of the CRC (padding excluded)
 *   u8  type     AUDIT_REC_TEXT, AUDIT_REC_SEAL or AUDIT_REC_LOSS
 *   u8  version  1
 *   u32 seq      1, 2, 3, ... without a gap
 *   i64 when     Unix seconds from the appliance's clock
 *   u8  prev[32] the hash of record seq - 1 (zeros for seq 1)
 *   body         printable text, a seal, or a note of what was lost
 *   u32 crc      CRC-32 of everything before it
 *
 * A record's hash is the SHA-256 of its bytes before the CRC. Each record names the hash of the
 * one before, so an altered, removed or reordered record breaks the link to the next one. The
 * CRC only catches a torn write: whoever alters a record can fix it, and the hash link too if
 * they rewrite every later record. The seals stop that: a seal is the audit key's ECDSA P-256
 * signature (made in the token, which never lets the key out) over a record's hash, so a chain
 * rewritten from any point before the last seal no longer verifies.
 *
 * Seal body: ring id (8) | u32 covered seq | covered hash (32) | r || s (64). The signed digest
 * is SHA-256("signet audit seal" NUL | ring id | u32 covered seq | covered hash): the domain
 * string keeps the audit key's signatures from meaning anything anywhere else, and the ring id
 * (random, chosen at the first seal) keeps a seal from one appliance's ring off another's.
 */
#ifndef AUDIT_CHAIN_H
#define AUDIT_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUDIT_HASH_LEN    32
#define AUDIT_RING_ID_LEN 8
#define AUDIT_SIG_LEN     64
#define AUDIT_TEXT_MAX    400
#define AUDIT_REC_HEAD    48 /* len, type, version, seq, when, prev */
#define AUDIT_REC_MAX     (AUDIT_REC_HEAD + AUDIT_TEXT_MAX + 4)
#define AUDIT_SEAL_BODY   (AUDIT_RING_ID_LEN + 4 + AUDIT_HASH_LEN + AUDIT_SIG_LEN)
#define AUDIT_REC_VERSION 1

enum audit_rec_type {
    AUDIT_REC_TEXT = 1, /* an event, one printable line */
    AUDIT_REC_SEAL = 2, /* the audit key's signature of an earlier record's hash */
    AUDIT_REC_LOSS = 3, /* the appliance found entries missing: itself a failed check */
};

struct audit_rec {
    uint8_t type;
    uint32_t seq;
    int64_t when;
    uint8_t prev[AUDIT_HASH_LEN];
    uint16_t body_len;
    uint8_t body[AUDIT_TEXT_MAX]; /* text bodies carry no NUL */
    uint8_t hash[AUDIT_HASH_LEN]; /* set by audit_rec_encode and audit_rec_decode */
};

struct audit_seal {
    uint8_t ring_id[AUDIT_RING_ID_LEN];
    uint32_t covered_seq;
    uint8_t covered_hash[AUDIT_HASH_LEN];
    uint8_t sig[AUDIT_SIG_LEN];
};

/* Encode r into out (cap >= AUDIT_REC_MAX) and set r->hash. The length written, or 0 when the
 * body is too long or the type unknown. */
size_t audit_rec_encode(struct audit_rec *r, uint8_t *out, size_t cap);

/* Decode the record at in[0..avail). 0 with *used (the record's length, unpadded); -ENODATA when
 * in starts with erased flash (a length of 0xFFFF); -EBADMSG for anything that is not a whole,
 * intact record of a known type and version. */
int audit_rec_decode(const uint8_t *in, size_t avail, struct audit_rec *r, size_t *used);

/* The digest the audit key signs for a seal over (seq, hash) of ring id. */
void audit_seal_digest(const uint8_t ring_id[AUDIT_RING_ID_LEN], uint32_t seq,
                       const uint8_t hash[AUDIT_HASH_LEN], uint8_t out[AUDIT_HASH_LEN]);
/* A seal record's body, and back. audit_seal_parse: 0, or -EBADMSG when r is no seal. */
void audit_seal_to_body(const struct audit_seal *s, struct audit_rec *r);
int audit_seal_parse(const struct audit_rec *r, struct audit_seal *s);
/* 0 when sig (r || s) is the signature of digest by the P-256 key whose public point (SEC 1
 * uncompressed, 65 bytes) is given; -EBADMSG otherwise, -EINVAL for a point that is no key. */
int audit_seal_check(const uint8_t *point, size_t point_len, const uint8_t digest[AUDIT_HASH_LEN],
                     const uint8_t sig[AUDIT_SIG_LEN]);

/* The check of a chain, fed one record at a time in order. A seal may cover any of the last
 * AUDIT_WALK_WINDOW records (the token signs while the appliance goes on appending). */
#define AUDIT_WALK_WINDOW 64
#define AUDIT_WHY_MAX     200

struct audit_walk {
    const uint8_t *point; /* the audit key's public point; NULL: seals are not checked */
    size_t point_len;
    uint8_t ring_id[AUDIT_RING_ID_LEN];
    bool have_ring_id;
    uint32_t first_seq; /* 0 until the first record */
    uint32_t last_seq;
    uint8_t head[AUDIT_HASH_LEN];                      /* the hash of last_seq */
    uint8_t window[AUDIT_WALK_WINDOW][AUDIT_HASH_LEN]; /* by seq % AUDIT_WALK_WINDOW */
    uint32_t sealed_seq;                               /* the newest record a good seal covers */
    uint32_t records, seals;
    bool broken;
    uint32_t bad_seq; /* the first broken entry */
    char why[AUDIT_WHY_MAX];
};

void audit_walk_init(struct audit_walk *w, const uint8_t *point, size_t point_len);
/* Check the next record. 0, or -EBADMSG: the chain is broken at w->bad_seq, w->why says how
 * (one line), and it stays broken. The first record fed is trusted to start the chain unless it
 * is seq 1, whose prev must be zeros. */
int audit_walk_next(struct audit_walk *w, const struct audit_rec *r);

/*
 * An export (`audit export`, checked offline by `signet-authority audit-verify`), before its
 * armor ("-----BEGIN SIGNET AUDIT EXPORT-----", base64):
 *   "SGAX" | u8 version 1 | ring id (8) | u32 first seq | u32 last seq
 *   items, each u8 kind | u24 length | bytes:
 *     AUDIT_ITEM_KEY_CERT  the audit key's certificate (DER), signed by the SLC key
 *     AUDIT_ITEM_CHAIN     the SLC, then the certificates above it (DER), in that order
 *     AUDIT_ITEM_RECORD    a record as the ring holds it, first seq to last, the last a seal
 * The last record is a seal of the one before it, made for the export: an export cut short
 * lacks it.
 */
#define AUDIT_EXPORT_LABEL "SIGNET AUDIT EXPORT"
#define AUDIT_EXPORT_HEAD  (4 + 1 + AUDIT_RING_ID_LEN + 4 + 4)
#define AUDIT_ITEM_HEAD    4
#define AUDIT_ITEM_MAX     0xFFFFFFu
enum audit_item_kind { AUDIT_ITEM_KEY_CERT = 1, AUDIT_ITEM_CHAIN = 2, AUDIT_ITEM_RECORD = 3 };

struct audit_export_head {
    uint8_t ring_id[AUDIT_RING_ID_LEN];
    uint32_t first_seq, last_seq;
};
void audit_export_head_encode(const struct audit_export_head *h, uint8_t out[AUDIT_EXPORT_HEAD]);
void audit_item_head_encode(uint8_t kind, size_t len, uint8_t out[AUDIT_ITEM_HEAD]);

/* Reading one: the head, then each item in turn. 0; -ENODATA at the end; -EBADMSG when the
 * bytes are not an export of this version (cut inside an item, an unknown kind). */
struct audit_export_reader {
    const uint8_t *p, *end;
};
int audit_export_open(struct audit_export_reader *rd, const uint8_t *data, size_t len,
                      struct audit_export_head *h);
int audit_export_next(struct audit_export_reader *rd, uint8_t *kind, const uint8_t **item,
                      size_t *len);
#endif
