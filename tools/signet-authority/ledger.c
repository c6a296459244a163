#include "ledger.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "crypto/sha256.h"

/* Value layout, big-endian: "SAL1", generation u64, crl_number u64, count u32, count entries of
 * serial[16] issued_at i64 revoked_at i64 reason u8, then SHA-256 of all before it. */
#define MAGIC      "SAL1"
#define HEAD_LEN   (4 + 8 + 8 + 4)
#define ENTRY_LEN  (X509_SERIAL_LEN + 8 + 8 + 1)
#define RECORD_MAX (HEAD_LEN + LEDGER_MAX * ENTRY_LEN + SHA256_LEN)

static uint8_t record[RECORD_MAX]; /* one record at a time: single-threaded tool */

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static size_t encode(const struct ledger *l, uint64_t generation)
{
    uint8_t *p = record;
    memcpy(p, MAGIC, 4);
    put64(p + 4, generation);
    put64(p + 12, l->crl_number);
    for (int i = 0; i < 4; i++)
        p[20 + i] = (uint8_t)(l->count >> (24 - 8 * i));
    p += HEAD_LEN;
    for (size_t i = 0; i < l->count; i++, p += ENTRY_LEN) {
        memcpy(p, l->e[i].serial, X509_SERIAL_LEN);
        put64(p + 16, (uint64_t)l->e[i].issued_at);
        put64(p + 24, (uint64_t)l->e[i].revoked_at);
        p[32] = l->e[i].reason;
    }
    sha256(record, (size_t)(p - record), p);
    return (size_t)(p - record) + SHA256_LEN;
}

/* A stored value into out (entries only when it decodes whole). */
static bool decode(const uint8_t *v, size_t len, struct ledger *out)
{
    uint8_t sum[SHA256_LEN];

    if (len < HEAD_LEN + SHA256_LEN || memcmp(v, MAGIC, 4) != 0)
        return false;
    size_t count = (size_t)v[20] << 24 | (size_t)v[21] << 16 | (size_t)v[22] << 8 | v[23];
    if (count > LEDGER_MAX || len != HEAD_LEN + count * ENTRY_LEN + SHA256_LEN)
        return false;
    sha256(v, len - SHA256_LEN, sum);
    if (memcmp(sum, v + len - SHA256_LEN, SHA256_LEN) != 0)
        return false;
    out->generation = get64(v + 4);
    out->crl_number = get64(v + 12);
    out->count = count;
    const uint8_t *p = v + HEAD_LEN;
    for (size_t i = 0; i < count; i++, p += ENTRY_LEN) {
        memcpy(out->e[i].serial, p, X509_SERIAL_LEN);
        out->e[i].issued_at = (int64_t)get64(p + 16);
        out->e[i].revoked_at = (int64_t)get64(p + 24);
        out->e[i].reason = p[32];
    }
    return out->generation > 0;
}

int ledger_load(struct hsm *h, struct ledger *l, char *why, size_t cap)
{
    static struct ledger candidate;
    size_t n = 0, len = 0;
    bool found = false;

    l->generation = 0;
    l->crl_number = 0;
    l->count = 0;
    l->object_count = 0;
    if (hsm_find_data(h, LEDGER_LABEL, l->objects, LEDGER_OBJECTS_MAX, &n) != 0) {
        snprintf(why, cap, "token: %s", h->why);
        return -EIO;
    }
    l->object_count = n;
    for (size_t i = 0; i < n; i++) {
        int ret = hsm_attr(h, l->objects[i], CKA_VALUE, record, sizeof(record), &len);
        if (ret == -ENOSPC)
            continue; /* larger than any record we write: not ours to trust */
        if (ret != 0) {
            snprintf(why, cap, "token: %s", h->why);
            return -EIO;
        }
        if (decode(record, len, &candidate) && candidate.generation > l->generation) {
            l->generation = candidate.generation;
            l->crl_number = candidate.crl_number;
            l->count = candidate.count;
            memcpy(l->e, candidate.e, candidate.count * sizeof(l->e[0]));
            found = true;
        }
    }
    if (n && !found) {
        snprintf(why, cap, "the token's issuance log (%s) is damaged", LEDGER_LABEL);
        return -EINVAL;
    }
    return 0;
}

int ledger_store(struct hsm *h, struct ledger *l, char *why, size_t cap)
{
    CK_OBJECT_HANDLE obj;
    size_t len = encode(l, l->generation + 1);

    if (hsm_store_data(h, LEDGER_LABEL, record, len, &obj) != 0) {
        snprintf(why, cap, "token: %s", h->why);
        return -EIO;
    }
    /* The new generation is in: the old ones may go (one left behind is outranked anyway). */
    for (size_t i = 0; i < l->object_count; i++)
        hsm_destroy(h, l->objects[i]);
    l->generation++;
    l->objects[0] = obj;
    l->object_count = 1;
    return 0;
}

struct ledger_entry *ledger_find(struct ledger *l, const uint8_t serial[X509_SERIAL_LEN])
{
    for (size_t i = 0; i < l->count; i++)
        if (memcmp(l->e[i].serial, serial, X509_SERIAL_LEN) == 0)
            return &l->e[i];
    return NULL;
}
