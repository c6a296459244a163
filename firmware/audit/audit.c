#include "audit.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/crc32.h"

#define SEG_MAGIC 0x52414753u /* "SGAR", little-endian */
#define SEG_HEAD  16u         /* magic, counter, first seq, CRC */
#define STATE_LEN (2 + AUDIT_RING_ID_LEN + 4)
/* Room a full ring keeps for seals: a few exports' worth (a seal record is 160 bytes). */
#define SEAL_RESERVE (16u * 160u)
#define OLD_HEAD     12 /* the old log's records: seq (4) + when (8), then the text */

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t padded(const struct audit *a, size_t n)
{
    uint32_t al = a->geo.write_align ? a->geo.write_align : 1;
    return (uint32_t)((n + al - 1) / al * al);
}

static uint32_t block_at(const struct audit *a, uint32_t b)
{
    return b * a->geo.block_size;
}

static bool read_header(const struct audit *a, uint32_t b, uint32_t *counter, uint32_t *first)
{
    uint8_t h[SEG_HEAD];

    if (hal_nv_read(HAL_NV_AUDIT, block_at(a, b), h, sizeof(h)) != 0 || le32(h) != SEG_MAGIC ||
        le32(h + 12) != crc32_update(0, h, 12))
        return false;
    *counter = le32(h + 4);
    *first = le32(h + 8);
    return *counter != 0 && *first != 0;
}

static bool erased(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0xFF)
            return false;
    return true;
}

struct scan {
    uint32_t end; /* after the last good record */
    bool clean;   /* everything after end is erased */
    uint32_t damaged;
};

/*
 * The records of block b in order. Bytes that are no record (torn, or altered) are stepped over
 * one write unit at a time, so the records after them are still found: at mount that keeps seq
 * numbers from being used twice, and `audit verify` names what is missing rather than stopping.
 */
static int scan_block(const struct audit *a, uint32_t b,
                      int (*fn)(void *ctx, const struct audit_rec *r), void *ctx, struct scan *sc)
{
    uint8_t buf[AUDIT_REC_MAX];
    struct audit_rec r;
    uint32_t bs = a->geo.block_size, al = padded(a, 1), off = SEG_HEAD;
    bool gap = false;

    sc->end = SEG_HEAD;
    sc->clean = true;
    sc->damaged = 0;
    while (off + AUDIT_REC_HEAD + 4 <= bs) {
        size_t avail = bs - off, used = 0;
        if (avail > sizeof(buf))
            avail = sizeof(buf);
        if (hal_nv_read(HAL_NV_AUDIT, block_at(a, b) + off, buf, avail) != 0)
            return -EIO;
        int ret = audit_rec_decode(buf, avail, &r, &used);
        if (ret == 0) {
            sc->damaged += gap;
            gap = false;
            sc->clean = true;
            off += padded(a, used);
            sc->end = off;
            ret = fn ? fn(ctx, &r) : 0;
            if (ret)
                return ret;
            continue;
        }
        if (erased(buf, avail)) {
            /* No record starts inside erased bytes: its length would read 0xFFFF. */
            off += (uint32_t)avail / al * al;
            continue;
        }
        gap = true;
        sc->clean = false;
        off += al;
    }
    if (sc->clean && off < bs) {
        uint8_t tail[AUDIT_REC_HEAD + 4];
        if (hal_nv_read(HAL_NV_AUDIT, block_at(a, b) + off, tail, bs - off) != 0 ||
            !erased(tail, bs - off))
            sc->clean = false;
    }
    return 0;
}

struct mount {
    struct audit *a;
    uint32_t block;
    bool any;
    uint32_t best_seq;
    uint8_t best_hash[AUDIT_HASH_LEN];
    bool best_is_seal;
    bool seal_id; /* a seal was found: a->ring_id holds its id when the state had none */
};

static int mount_record(void *ctx, const struct audit_rec *r)
{
    struct mount *m = ctx;
    struct audit *a = m->a;
    struct audit_seal s;

    if (r->seq == UINT32_MAX)
        return 0; /* no ring gets there: planted, to wrap the numbers; verify names it */
    if (r->seq > a->last[m->block])
        a->last[m->block] = r->seq;
    if (!m->any || r->seq > m->best_seq) {
        m->any = true;
        m->best_seq = r->seq;
        memcpy(m->best_hash, r->hash, AUDIT_HASH_LEN);
        m->best_is_seal = r->type == AUDIT_REC_SEAL;
    }
    if (audit_seal_parse(r, &s) == 0 && s.covered_seq >= a->sealed_seq) {
        a->sealed_seq = s.covered_seq;
        a->sealed_when = r->when;
        /* The ring's id, should the NV store have lost it: the seals carry it. */
        if (!a->have_ring_id)
            memcpy(a->ring_id, s.ring_id, AUDIT_RING_ID_LEN);
        m->seal_id = true;
    }
    return 0;
}

static void load_state(struct audit *a)
{
    uint8_t st[STATE_LEN];
    size_t len = 0;

    if (!a->nv || nvstore_read(a->nv, a->state_key, st, sizeof(st), &len) != 0 ||
        len != STATE_LEN || st[0] != 1)
        return;
    a->have_ring_id = st[1] & 1;
    memcpy(a->ring_id, st + 2, AUDIT_RING_ID_LEN);
    a->exported_seq = le32(st + 2 + AUDIT_RING_ID_LEN);
}

static int save_state(struct audit *a, bool have_id, const uint8_t *id, uint32_t exported)
{
    uint8_t st[STATE_LEN] = {1, have_id};

    if (!a->nv)
        return -ENODEV;
    memcpy(st + 2, id, AUDIT_RING_ID_LEN);
    put32(st + 2 + AUDIT_RING_ID_LEN, exported);
    return nvstore_write(a->nv, a->state_key, st, sizeof(st));
}

static void mount(struct audit *a)
{
    struct mount m = {.a = a};
    uint32_t head_counter = 0;
    struct scan head_scan = {0};

    for (uint32_t b = 0; b < a->geo.block_count; b++) {
        struct scan sc;
        if (!read_header(a, b, &a->counter[b], &a->first[b])) {
            a->counter[b] = 0;
            continue;
        }
        m.block = b;
        if (scan_block(a, b, mount_record, &m, &sc) != 0) {
            a->counter[b] = 0; /* unreadable: treated as free, erased before use */
            continue;
        }
        a->damaged += sc.damaged;
        if (a->counter[b] > head_counter) {
            head_counter = a->counter[b];
            a->head_block = b;
            head_scan = sc;
            a->have_head = true;
        }
    }
    if (!a->have_head)
        return;
    if (m.seal_id)
        a->have_ring_id = true;
    /* A torn record cannot be programmed over: the next one opens a new segment. */
    a->head_off = head_scan.clean ? head_scan.end : a->geo.block_size;
    if (m.any) {
        a->next_seq = m.best_seq + 1;
        memcpy(a->head, m.best_hash, AUDIT_HASH_LEN);
        a->head_is_seal = m.best_is_seal;
    } else {
        a->next_seq = a->first[a->head_block];
    }
}

static uint32_t newest_counter(const struct audit *a)
{
    uint32_t c = 0;
    for (uint32_t b = 0; b < a->geo.block_count; b++)
        if (a->counter[b] > c)
            c = a->counter[b];
    return c;
}

static bool reusable(const struct audit *a, uint32_t b)
{
    return !a->counter[b] || a->last[b] <= a->exported_seq;
}

static uint32_t next_block(const struct audit *a)
{
    return a->have_head ? (a->head_block + 1) % a->geo.block_count : 0;
}

/* Events may not open the last segment that could be opened: it is kept for seals and LOSS
 * records, so a full ring can still be sealed for its export even when the head segment was
 * closed by a torn write. */
static bool full_for_events(const struct audit *a)
{
    uint32_t b = next_block(a);
    return !reusable(a, b) || !reusable(a, (b + 1) % a->geo.block_count);
}

static int open_segment(struct audit *a)
{
    uint32_t b = next_block(a), counter = newest_counter(a) + 1;
    uint8_t h[SEG_HEAD];

    if (!reusable(a, b))
        return -ENOSPC;
    a->counter[b] = 0;
    a->last[b] = 0;
    put32(h, SEG_MAGIC);
    put32(h + 4, counter);
    put32(h + 8, a->next_seq);
    put32(h + 12, crc32_update(0, h, 12));
    int ret = hal_nv_erase(HAL_NV_AUDIT, b);
    if (!ret)
        ret = hal_nv_program(HAL_NV_AUDIT, block_at(a, b), h, sizeof(h));
    if (ret)
        return ret;
    a->counter[b] = counter;
    a->first[b] = a->next_seq;
    a->head_block = b;
    a->head_off = SEG_HEAD;
    a->have_head = true;
    return 0;
}

static int append(struct audit *a, uint8_t type, int64_t when, const void *body, size_t len)
{
    uint8_t buf[AUDIT_REC_MAX + 8];
    struct audit_rec r = {.type = type, .seq = a->next_seq, .when = when};

    if (!a->usable)
        return -ENODEV;
    if (a->next_seq == 0 || a->next_seq == UINT32_MAX)
        return -EOVERFLOW; /* the numbers are spent (or a forged record claimed the last) */
    memcpy(r.prev, a->head, AUDIT_HASH_LEN);
    r.body_len = (uint16_t)len;
    memcpy(r.body, body, len);
    size_t n = audit_rec_encode(&r, buf, sizeof(buf));
    if (!n)
        return -EINVAL;
    uint32_t p = padded(a, n);
    memset(buf + n, 0xFF, p - n);
    /* A full ring keeps room for seals: `audit export` needs one to free the ring. */
    bool needs_segment = !a->have_head || a->head_off + p > a->geo.block_size;
    if (type == AUDIT_REC_TEXT && full_for_events(a) &&
        (needs_segment || a->head_off + p + SEAL_RESERVE > a->geo.block_size))
        return -ENOSPC;
    if (needs_segment) {
        int ret = open_segment(a);
        if (ret)
            return ret;
    }
    int ret = hal_nv_program(HAL_NV_AUDIT, block_at(a, a->head_block) + a->head_off, buf, p);
    if (ret) {
        a->head_off = a->geo.block_size; /* never program over a torn record */
        return ret;
    }
    a->head_off += p;
    a->last[a->head_block] = r.seq;
    a->next_seq++;
    memcpy(a->head, r.hash, AUDIT_HASH_LEN);
    a->head_is_seal = type == AUDIT_REC_SEAL;
    return 0;
}

static void store(struct audit *a, int64_t when, const char *text, size_t n)
{
    if (append(a, AUDIT_REC_TEXT, when, text, n) != 0)
        a->lost++;
}

static size_t printable(char *text, int n)
{
    if (n < 0)
        n = 0;
    if (n > AUDIT_TEXT_MAX)
        n = AUDIT_TEXT_MAX; /* truncated, still one line */
    text[n] = '\0';
    for (int i = 0; i < n; i++)
        if (text[i] < 0x20 || text[i] > 0x7e)
            text[i] = '?'; /* whatever was quoted stays on one printable line */
    return (size_t)n;
}

/* The old log kept its last entries one NV record each, at old_base + seq % old_slots. */
static void migrate_old(struct audit *a, uint16_t old_base, uint32_t old_slots)
{
    uint8_t rec[OLD_HEAD + AUDIT_TEXT_MAX];
    uint32_t lo = UINT32_MAX, hi = 0, moved = 0;
    size_t len;

    for (uint32_t i = 0; i < old_slots; i++) {
        if (nvstore_read(a->nv, (uint16_t)(old_base + i), rec, sizeof(rec), &len) != 0 ||
            len < OLD_HEAD)
            continue;
        uint32_t seq = le32(rec);
        lo = seq < lo ? seq : lo;
        hi = seq > hi ? seq : hi;
    }
    for (uint32_t seq = lo; lo <= hi && seq <= hi && seq - lo < old_slots; seq++) {
        if (nvstore_read(a->nv, (uint16_t)(old_base + seq % old_slots), rec, sizeof(rec), &len) !=
                0 ||
            len < OLD_HEAD || le32(rec) != seq)
            continue;
        int64_t when = (int64_t)((uint64_t)le32(rec + 4) | (uint64_t)le32(rec + 8) << 32);
        char text[AUDIT_TEXT_MAX + 1];
        size_t n = len - OLD_HEAD < AUDIT_TEXT_MAX ? len - OLD_HEAD : AUDIT_TEXT_MAX;
        memcpy(text, rec + OLD_HEAD, n);
        store(a, when, text, printable(text, (int)n));
        moved++;
    }
    if (lo > hi)
        return;
    for (uint32_t i = 0; i < old_slots; i++)
        (void)nvstore_delete(a->nv, (uint16_t)(old_base + i));
    audit_log(a, 0, "audit: %lu entries of the old 64-entry log moved into the ring",
              (unsigned long)moved);
}

void audit_init(struct audit *a, struct nvstore *state, uint16_t state_key, uint16_t old_base,
                uint32_t old_slots)
{
    memset(a, 0, sizeof(*a));
    a->nv = state;
    a->state_key = state_key;
    a->next_seq = 1;
    if (hal_nv_open(HAL_NV_AUDIT, &a->geo) != 0 || a->geo.block_count > AUDIT_BLOCKS_MAX ||
        a->geo.block_count < 2 || a->geo.block_size < SEG_HEAD + AUDIT_REC_MAX + 8)
        return;
    a->usable = true;
    load_state(a);
    mount(a);
    a->mounted_seq = a->next_seq - 1;
    if (a->usable && a->nv && old_slots)
        migrate_old(a, old_base, old_slots);
}

void audit_flush(struct audit *a)
{
    char line[AUDIT_TEXT_MAX + 1];

    if (!a->repeats)
        return;
    int n = snprintf(line, sizeof(line), "(the entry above repeated %lu more time%s)",
                     (unsigned long)a->repeats, a->repeats == 1 ? "" : "s");
    a->repeats = 0;
    a->last_text[0] = '\0'; /* a repeat after the count starts a new run */
    store(a, a->repeat_when, line, (size_t)n);
}

void audit_log(struct audit *a, int64_t when, const char *fmt, ...)
{
    char text[AUDIT_TEXT_MAX + 1];
    va_list ap;

    va_start(ap, fmt);
    size_t n = printable(text, vsnprintf(text, sizeof(text), fmt, ap));
    va_end(ap);
    if (n && strcmp(text, a->last_text) == 0) {
        a->repeats++;
        a->repeat_when = when;
        return;
    }
    audit_flush(a);
    store(a, when, text, n);
    memcpy(a->last_text, text, n + 1);
}

int audit_log_loss(struct audit *a, int64_t when, const char *fmt_text)
{
    char text[AUDIT_TEXT_MAX + 1];
    size_t n = printable(text, snprintf(text, sizeof(text), "%s", fmt_text));

    audit_flush(a);
    int ret = append(a, AUDIT_REC_LOSS, when, text, n);
    if (ret)
        a->lost++;
    return ret;
}

struct find {
    uint32_t seq;
    struct audit_entry *out;
    bool found;
};

void audit_describe(const struct audit_rec *r, struct audit_entry *out)
{
    struct audit_seal s;

    out->seq = r->seq;
    out->when = r->when;
    out->type = r->type;
    if (audit_seal_parse(r, &s) == 0) {
        snprintf(out->text, sizeof(out->text), "(seal: entry %lu signed by the audit key)",
                 (unsigned long)s.covered_seq);
    } else {
        int n =
            snprintf(out->text, sizeof(out->text), "%s", r->type == AUDIT_REC_LOSS ? "LOSS: " : "");
        size_t len = r->body_len < sizeof(out->text) - 1 - (size_t)n
                         ? r->body_len
                         : sizeof(out->text) - 1 - (size_t)n;
        memcpy(out->text + n, r->body, len);
        out->text[(size_t)n + len] = '\0';
    }
}

static int find_record(void *ctx, const struct audit_rec *r)
{
    struct find *f = ctx;

    if (r->seq != f->seq)
        return 0;
    audit_describe(r, f->out);
    f->found = true;
    return 1;
}

int audit_get(struct audit *a, uint32_t back, struct audit_entry *out)
{
    struct find f = {.out = out};
    struct scan sc;

    if (!a->usable || back + 1 >= a->next_seq)
        return -ENOENT;
    f.seq = a->next_seq - 1 - back;
    for (uint32_t b = 0; b < a->geo.block_count && !f.found; b++)
        if (a->counter[b] && a->first[b] <= f.seq && f.seq <= a->last[b])
            (void)scan_block(a, b, find_record, &f, &sc);
    return f.found ? 0 : -ENOENT;
}

struct each {
    uint32_t from;
    int (*fn)(void *ctx, const struct audit_rec *r);
    void *ctx;
};

static int each_record(void *ctx, const struct audit_rec *r)
{
    const struct each *e = ctx;
    return r->seq >= e->from ? e->fn(e->ctx, r) : 0;
}

int audit_each(struct audit *a, uint32_t from, int (*fn)(void *ctx, const struct audit_rec *r),
               void *ctx)
{
    struct each e = {from, fn, ctx};
    uint32_t prev = 0;
    int ret = 0;

    while (a->usable && !ret) {
        uint32_t b = a->geo.block_count, c = UINT32_MAX;
        for (uint32_t i = 0; i < a->geo.block_count; i++)
            if (a->counter[i] > prev && a->counter[i] < c) {
                c = a->counter[i];
                b = i;
            }
        if (b == a->geo.block_count)
            break;
        prev = c;
        struct scan sc;
        if (a->last[b] >= from)
            ret = scan_block(a, b, each_record, &e, &sc);
    }
    return ret ? ret : fn(ctx, NULL);
}

struct seek {
    uint32_t want;
    struct audit_rec *r;
    const struct scan *sc;
    bool found;
    uint32_t next_off;
};

static int seek_record(void *ctx, const struct audit_rec *r)
{
    struct seek *k = ctx;
    if (r->seq != k->want)
        return 0;
    *k->r = *r;
    k->found = true;
    k->next_off = k->sc->end; /* scan_block has stepped past this record */
    return 1;
}

int audit_read(struct audit *a, struct audit_cursor *c, struct audit_rec *r)
{
    uint8_t buf[AUDIT_REC_MAX];
    size_t used = 0;

    if (!a->usable)
        return -ENODEV;
    if (c->seq == 0)
        c->seq = 1;
    if (c->seq >= a->next_seq)
        return -EAGAIN;
    if (c->valid && c->block < a->geo.block_count && a->counter[c->block] == c->counter &&
        c->off + AUDIT_REC_HEAD + 4 <= a->geo.block_size) {
        size_t avail =
            a->geo.block_size - c->off < sizeof(buf) ? a->geo.block_size - c->off : sizeof(buf);
        if (hal_nv_read(HAL_NV_AUDIT, block_at(a, c->block) + c->off, buf, avail) == 0 &&
            audit_rec_decode(buf, avail, r, &used) == 0 && r->seq == c->seq) {
            c->off += padded(a, used);
            c->seq++;
            return 0;
        }
    }
    c->valid = false;
    uint32_t next = UINT32_MAX;
    for (uint32_t b = 0; b < a->geo.block_count; b++) {
        if (!a->counter[b])
            continue;
        if (a->first[b] <= c->seq && c->seq <= a->last[b]) {
            struct scan sc;
            struct seek k = {.want = c->seq, .r = r, .sc = &sc};
            (void)scan_block(a, b, seek_record, &k, &sc);
            if (k.found) {
                *c = (struct audit_cursor){c->seq + 1, true, b, k.next_off, a->counter[b]};
                return 0;
            }
            next = c->seq + 1; /* damaged in place: the one after may be there */
        } else if (a->first[b] > c->seq && a->first[b] < next) {
            next = a->first[b];
        }
    }
    c->seq = next == UINT32_MAX ? a->next_seq : next;
    return -ENOENT;
}

void audit_use(const struct audit *a, struct audit_use *u)
{
    memset(u, 0, sizeof(*u));
    u->segments = a->usable ? a->geo.block_count : 0;
    u->capacity = (uint64_t)u->segments * a->geo.block_size;
    u->first_seq = UINT32_MAX;
    for (uint32_t b = 0; b < u->segments; b++) {
        if (a->counter[b] && a->last[b]) {
            u->first_seq = a->first[b] < u->first_seq ? a->first[b] : u->first_seq;
            u->bytes += b == a->head_block ? a->head_off : a->geo.block_size;
        }
        if (b != a->head_block && reusable(a, b))
            u->free_segments++;
    }
    if (u->first_seq == UINT32_MAX)
        u->first_seq = 0;
    u->last_seq = a->next_seq - 1;
    u->exported_seq = a->exported_seq;
    u->sealed_seq = a->sealed_seq;
    u->lost = a->lost;
    u->damaged = a->damaged;
    u->full = audit_full(a);
    u->nearly_full = u->full || u->free_segments < AUDIT_WARN_FREE;
}

bool audit_full(const struct audit *a)
{
    return !a->usable || full_for_events(a);
}

static uint32_t unsealed(const struct audit *a)
{
    uint32_t n = a->next_seq - 1 - a->sealed_seq;
    return n && a->head_is_seal ? n - 1 : n;
}

bool audit_seal_due(const struct audit *a, int64_t now)
{
    uint32_t n = unsealed(a);
    return a->usable && n && (n >= AUDIT_SEAL_EVERY || now - a->sealed_when >= AUDIT_SEAL_SECS);
}

void audit_head(const struct audit *a, uint32_t *seq, uint8_t hash[AUDIT_HASH_LEN])
{
    *seq = a->next_seq - 1;
    memcpy(hash, a->head, AUDIT_HASH_LEN);
}

int audit_append_seal(struct audit *a, int64_t when, const struct audit_seal *s)
{
    struct audit_rec r = {0};

    audit_flush(a); /* first: it may append, and the seal must stay in the window */
    if (!s->covered_seq || s->covered_seq >= a->next_seq ||
        a->next_seq - s->covered_seq > AUDIT_WALK_WINDOW)
        return -ESTALE;
    audit_seal_to_body(s, &r);
    int ret = append(a, AUDIT_REC_SEAL, when, r.body, r.body_len);
    if (ret) {
        a->lost++;
        return ret;
    }
    a->sealed_seq = s->covered_seq;
    a->sealed_when = when;
    return 0;
}

int audit_get_ring_id(const struct audit *a, uint8_t id[AUDIT_RING_ID_LEN])
{
    if (!a->have_ring_id)
        return -ENOENT;
    memcpy(id, a->ring_id, AUDIT_RING_ID_LEN);
    return 0;
}

int audit_set_ring_id(struct audit *a, const uint8_t id[AUDIT_RING_ID_LEN])
{
    int ret = save_state(a, true, id, a->exported_seq);
    if (!ret) {
        memcpy(a->ring_id, id, AUDIT_RING_ID_LEN);
        a->have_ring_id = true;
    }
    return ret;
}

int audit_set_exported(struct audit *a, uint32_t seq)
{
    if (seq >= a->next_seq)
        return -EINVAL;
    int ret = save_state(a, a->have_ring_id, a->ring_id, seq);
    if (!ret)
        a->exported_seq = seq;
    return ret;
}
