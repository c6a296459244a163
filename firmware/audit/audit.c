#include "audit.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "signet_config.h"

#define HEADER 12 /* seq (4) + when (8), little-endian */

_Static_assert(HEADER + AUDIT_TEXT_MAX <= NVSTORE_VALUE_MAX, "an audit entry is one NV record");

static uint16_t slot_key(const struct audit *a, uint32_t seq)
{
    return (uint16_t)(a->key_base + seq % AUDIT_SLOTS);
}

/* Decode a stored entry; false for anything that is not one. */
static bool decode(const uint8_t *rec, size_t len, struct audit_entry *e)
{
    if (len < HEADER || len > HEADER + AUDIT_TEXT_MAX)
        return false;
    e->seq =
        (uint32_t)rec[0] | (uint32_t)rec[1] << 8 | (uint32_t)rec[2] << 16 | (uint32_t)rec[3] << 24;
    uint64_t w = 0;
    for (int i = 7; i >= 0; i--)
        w = w << 8 | rec[4 + i];
    e->when = (int64_t)w;
    memcpy(e->text, rec + HEADER, len - HEADER);
    e->text[len - HEADER] = '\0';
    return e->seq != 0;
}

void audit_init(struct audit *a, struct nvstore *nv, uint16_t key_base)
{
    uint8_t rec[HEADER + AUDIT_TEXT_MAX];
    struct audit_entry e;

    memset(a, 0, sizeof(*a));
    a->nv = nv;
    a->key_base = key_base;
    a->next_seq = 1;
    for (uint32_t i = 0; nv && i < AUDIT_SLOTS; i++) {
        size_t len = 0;
        if (nvstore_read(nv, (uint16_t)(key_base + i), rec, sizeof(rec), &len) == 0 &&
            decode(rec, len, &e) && e.seq >= a->next_seq)
            a->next_seq = e.seq + 1;
    }
}

/* One record: the ring's next slot. */
static void store(struct audit *a, int64_t when, const char *text, size_t n)
{
    uint8_t rec[HEADER + AUDIT_TEXT_MAX];
    uint32_t seq = a->next_seq++;

    for (int i = 0; i < 4; i++)
        rec[i] = (uint8_t)(seq >> (8 * i));
    for (int i = 0; i < 8; i++)
        rec[4 + i] = (uint8_t)((uint64_t)when >> (8 * i));
    memcpy(rec + HEADER, text, n);
    if (!a->nv || nvstore_write(a->nv, slot_key(a, seq), rec, HEADER + n) != 0)
        a->lost++;
}

void audit_flush(struct audit *a)
{
    char line[AUDIT_TEXT_MAX + 1];

    if (!a->repeats)
        return;
    int n = snprintf(line, sizeof(line), "(the entry above repeated %lu more time%s)",
                     (unsigned long)a->repeats, a->repeats == 1 ? "" : "s");
    a->repeats = 0;
    a->last[0] = '\0'; /* a repeat after the count starts a new run */
    store(a, a->repeat_when, line, (size_t)n);
}

void audit_log(struct audit *a, int64_t when, const char *fmt, ...)
{
    char text[AUDIT_TEXT_MAX + 1];
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if (n > AUDIT_TEXT_MAX)
        n = AUDIT_TEXT_MAX; /* truncated, still one line */
    text[n] = '\0';
    for (int i = 0; i < n; i++)
        if (text[i] < 0x20 || text[i] > 0x7e)
            text[i] = '?'; /* whatever was quoted stays on one printable line */
    if (n && strcmp(text, a->last) == 0) {
        a->repeats++;
        a->repeat_when = when;
        return;
    }
    audit_flush(a);
    store(a, when, text, (size_t)n);
    memcpy(a->last, text, (size_t)n + 1);
}

int audit_get(struct audit *a, uint32_t back, struct audit_entry *out)
{
    uint8_t rec[HEADER + AUDIT_TEXT_MAX];
    size_t len = 0;

    if (back >= AUDIT_SLOTS || back + 1 >= a->next_seq || !a->nv)
        return -ENOENT;
    uint32_t seq = a->next_seq - 1 - back;
    if (nvstore_read(a->nv, slot_key(a, seq), rec, sizeof(rec), &len) != 0 ||
        !decode(rec, len, out) || out->seq != seq)
        return -ENOENT; /* lost, or not written */
    return 0;
}
