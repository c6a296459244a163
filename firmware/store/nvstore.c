#include "nvstore.h"

#include <errno.h>
#include <string.h>

#include "lib/crc32.h"

#define BANK_MAGIC    0x564e4753u /* "SGNV" */
#define BANK_FORMAT   1u
#define BANK_HDR_SIZE 16u
#define REC_HDR_SIZE  8u
#define KEY_ERASED    0xffffu
#define KEY_MIN       1u
#define KEY_MAX       0xfffeu

struct bank_hdr {
    uint32_t magic;
    uint32_t generation;
    uint32_t format;
    uint32_t crc;
};

struct rec_hdr {
    uint16_t key;
    uint16_t len; /* 0 marks a deletion */
    uint32_t crc; /* over key, len and value */
};

_Static_assert(sizeof(struct bank_hdr) == BANK_HDR_SIZE, "bank header layout");
_Static_assert(sizeof(struct rec_hdr) == REC_HDR_SIZE, "record header layout");

static uint32_t align_up(uint32_t v, uint32_t a)
{
    return (v + a - 1) / a * a;
}

static uint32_t bank_base(const struct nvstore *s, uint32_t bank)
{
    return bank * s->geo.block_size;
}

static uint32_t rec_crc(uint16_t key, uint16_t len, const void *val)
{
    uint8_t kl[4] = {(uint8_t)key, (uint8_t)(key >> 8), (uint8_t)len, (uint8_t)(len >> 8)};
    return crc32_update(crc32_update(0, kl, sizeof(kl)), val, len);
}

static uint32_t rec_size(const struct nvstore *s, uint16_t len)
{
    return REC_HDR_SIZE + align_up(len, s->geo.write_align);
}

static int read_bank_hdr(struct nvstore *s, uint32_t bank, struct bank_hdr *h)
{
    int ret = hal_nv_read(HAL_NV_STORE, bank_base(s, bank), h, sizeof(*h));
    if (ret)
        return ret;
    if (h->magic != BANK_MAGIC || h->format != BANK_FORMAT ||
        h->crc != crc32_update(0, h, offsetof(struct bank_hdr, crc)))
        return -ENOENT;
    return 0;
}

/* Program and read back: a device that silently drops writes must not look like success. */
static int program_verified(uint32_t off, const void *data, size_t len)
{
    uint8_t check[64];
    const uint8_t *p = data;
    int ret = hal_nv_program(HAL_NV_STORE, off, data, len);

    if (ret)
        return ret;
    for (size_t done = 0; done < len;) {
        size_t n = len - done < sizeof(check) ? len - done : sizeof(check);
        ret = hal_nv_read(HAL_NV_STORE, off + (uint32_t)done, check, n);
        if (ret)
            return ret;
        if (memcmp(check, p + done, n) != 0)
            return -EIO;
        done += n;
    }
    return 0;
}

/* Value first, header last: until the header is whole the record does not exist. */
static int program_record(struct nvstore *s, uint32_t bank, uint32_t off, uint16_t key,
                          const void *val, uint16_t len)
{
    struct rec_hdr h = {.key = key, .len = len, .crc = rec_crc(key, len, val)};
    uint32_t base = bank_base(s, bank);
    uint32_t whole = len / s->geo.write_align * s->geo.write_align;
    int ret = 0;

    if (whole) {
        ret = program_verified(base + off + REC_HDR_SIZE, val, whole);
        if (ret)
            return ret;
    }
    if (whole < len) {
        /* The tail shares a write unit with padding; erased-state padding programs nothing. */
        uint8_t tail[NVSTORE_WRITE_ALIGN_MAX];
        memset(tail, 0xff, sizeof(tail));
        memcpy(tail, (const uint8_t *)val + whole, len - whole);
        ret = program_verified(base + off + REC_HDR_SIZE + whole, tail, s->geo.write_align);
        if (ret)
            return ret;
    }
    return program_verified(base + off, &h, sizeof(h));
}

static struct nvstore_entry *find_entry(struct nvstore *s, uint16_t key)
{
    for (size_t i = 0; i < s->nkeys; i++)
        if (s->index[i].key == key)
            return &s->index[i];
    return NULL;
}

static int index_set(struct nvstore *s, uint16_t key, uint16_t len, uint32_t off)
{
    struct nvstore_entry *e = find_entry(s, key);

    if (len == 0) {
        if (e)
            *e = s->index[--s->nkeys];
        return 0;
    }
    if (!e) {
        if (s->nkeys == NVSTORE_KEYS_MAX)
            return -ENOSPC;
        e = &s->index[s->nkeys++];
        e->key = key;
    }
    e->len = len;
    e->offset = off;
    return 0;
}

static bool erased_from(struct nvstore *s, uint32_t bank, uint32_t off)
{
    uint8_t buf[64];

    while (off < s->geo.block_size) {
        uint32_t n = s->geo.block_size - off < sizeof(buf) ? s->geo.block_size - off : sizeof(buf);
        if (hal_nv_read(HAL_NV_STORE, bank_base(s, bank) + off, buf, n))
            return false;
        for (uint32_t i = 0; i < n; i++)
            if (buf[i] != 0xff)
                return false;
        off += n;
    }
    return true;
}

/* Index every valid record; stop at the first erased or damaged one. */
static int scan_bank(struct nvstore *s, uint32_t bank)
{
    uint32_t off = BANK_HDR_SIZE;
    struct rec_hdr h;
    int ret;

    s->nkeys = 0;
    s->dirty = false;
    while (off + REC_HDR_SIZE <= s->geo.block_size) {
        ret = hal_nv_read(HAL_NV_STORE, bank_base(s, bank) + off, &h, sizeof(h));
        if (ret)
            return ret;
        if (h.key == KEY_ERASED && h.len == 0xffff && h.crc == 0xffffffffu)
            break;
        if (h.key < KEY_MIN || h.key > KEY_MAX || h.len > NVSTORE_VALUE_MAX ||
            off + rec_size(s, h.len) > s->geo.block_size) {
            s->dirty = true;
            break;
        }
        ret = hal_nv_read(HAL_NV_STORE, bank_base(s, bank) + off + REC_HDR_SIZE, s->scratch, h.len);
        if (ret)
            return ret;
        if (h.crc != rec_crc(h.key, h.len, s->scratch) || index_set(s, h.key, h.len, off) != 0) {
            s->dirty = true;
            break;
        }
        off += rec_size(s, h.len);
    }
    s->write_off = off;
    if (!s->dirty && !erased_from(s, bank, off))
        s->dirty = true;
    return 0;
}

static int write_bank_hdr(struct nvstore *s, uint32_t bank, uint32_t generation)
{
    struct bank_hdr h = {.magic = BANK_MAGIC, .generation = generation, .format = BANK_FORMAT};
    h.crc = crc32_update(0, &h, offsetof(struct bank_hdr, crc));
    return program_verified(bank_base(s, bank), &h, sizeof(h));
}

/*
 * Copy the live records, plus (key, val, len) in place of its old value, into the other bank and
 * make it active by writing its header last. On failure the active bank is untouched.
 */
static int compact(struct nvstore *s, uint16_t key, const void *val, uint16_t len)
{
    uint32_t to = 1 - s->active;
    uint32_t off = BANK_HDR_SIZE;
    int ret = hal_nv_erase(HAL_NV_STORE, to);

    if (ret)
        return ret;
    for (size_t i = 0; i < s->nkeys; i++) {
        const struct nvstore_entry *e = &s->index[i];
        if (e->key == key)
            continue;
        if (off + rec_size(s, e->len) > s->geo.block_size)
            return -ENOSPC;
        ret = hal_nv_read(HAL_NV_STORE, bank_base(s, s->active) + e->offset + REC_HDR_SIZE,
                          s->scratch, e->len);
        if (ret)
            return ret;
        ret = program_record(s, to, off, e->key, s->scratch, e->len);
        if (ret)
            return ret;
        off += rec_size(s, e->len);
    }
    if (len) {
        if (off + rec_size(s, len) > s->geo.block_size)
            return -ENOSPC;
        ret = program_record(s, to, off, key, val, len);
        if (ret)
            return ret;
    }
    ret = write_bank_hdr(s, to, s->generation + 1);
    if (ret)
        return ret;
    s->active = to;
    s->generation++;
    s->compactions++;
    return scan_bank(s, to);
}

int nvstore_mount(struct nvstore *s)
{
    struct bank_hdr h0, h1;
    int ret;

    memset(s, 0, sizeof(*s));
    ret = hal_nv_open(HAL_NV_STORE, &s->geo);
    if (ret)
        return ret;
    if (s->geo.block_count < 2 || s->geo.write_align == 0 ||
        s->geo.write_align > NVSTORE_WRITE_ALIGN_MAX || REC_HDR_SIZE % s->geo.write_align ||
        s->geo.block_size < BANK_HDR_SIZE + rec_size(s, NVSTORE_VALUE_MAX))
        return -EINVAL;
    bool ok0 = read_bank_hdr(s, 0, &h0) == 0;
    bool ok1 = read_bank_hdr(s, 1, &h1) == 0;
    if (!ok0 && !ok1) {
        /* First boot, or nothing recognisable: start empty rather than refuse to boot. */
        ret = hal_nv_erase(HAL_NV_STORE, 0);
        if (ret)
            return ret;
        ret = write_bank_hdr(s, 0, 1);
        if (ret)
            return ret;
        s->formatted = true;
        s->active = 0;
        s->generation = 1;
    } else if (ok0 && (!ok1 || (int32_t)(h0.generation - h1.generation) > 0)) {
        s->active = 0;
        s->generation = h0.generation;
    } else {
        s->active = 1;
        s->generation = h1.generation;
    }
    return scan_bank(s, s->active);
}

int nvstore_read(struct nvstore *s, uint16_t key, void *buf, size_t cap, size_t *len)
{
    const struct nvstore_entry *e = find_entry(s, key);
    struct rec_hdr h;
    int ret;

    if (!e)
        return -ENOENT;
    *len = e->len;
    if (cap < e->len)
        return -ENOBUFS;
    ret = hal_nv_read(HAL_NV_STORE, bank_base(s, s->active) + e->offset, &h, sizeof(h));
    if (ret)
        return ret;
    ret =
        hal_nv_read(HAL_NV_STORE, bank_base(s, s->active) + e->offset + REC_HDR_SIZE, buf, e->len);
    if (ret)
        return ret;
    if (h.key != key || h.len != e->len || h.crc != rec_crc(key, e->len, buf))
        return -EIO;
    return 0;
}

static int store_record(struct nvstore *s, uint16_t key, const void *val, uint16_t len)
{
    int ret;

    if (!find_entry(s, key) && len && s->nkeys == NVSTORE_KEYS_MAX)
        return -ENOSPC;
    if (s->dirty || s->write_off + rec_size(s, len) > s->geo.block_size)
        return compact(s, key, val, len);
    ret = program_record(s, s->active, s->write_off, key, val, len);
    if (ret) {
        /* Whatever landed is damaged or partial: the next write compacts past it. */
        s->dirty = true;
        return ret;
    }
    ret = index_set(s, key, len, s->write_off);
    s->write_off += rec_size(s, len);
    return ret;
}

int nvstore_write(struct nvstore *s, uint16_t key, const void *val, size_t len)
{
    if (key < KEY_MIN || key > KEY_MAX || len == 0 || len > NVSTORE_VALUE_MAX)
        return -EINVAL;
    return store_record(s, key, val, (uint16_t)len);
}

int nvstore_delete(struct nvstore *s, uint16_t key)
{
    if (key < KEY_MIN || key > KEY_MAX)
        return -EINVAL;
    if (!find_entry(s, key))
        return 0;
    static const uint8_t none[1];
    return store_record(s, key, none, 0); /* a deletion carries no value */
}

uint32_t nvstore_used(const struct nvstore *s)
{
    return s->write_off;
}
