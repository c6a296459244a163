/*
 * tests/fuzz/fuzz_audit.c — arbitrary bytes as what the audit code reads: the NV ring's records
 * (audit_rec_decode, back to back as a segment holds them) and an export file's contents
 * (audit_export_open/next, signet-authority audit-verify's reader), each record then fed to the
 * chain walker `audit verify` uses. Seals are checked against a fixed point on P-256 (the
 * generator), so the signature check runs on hostile input too.
 *
 * The input sits in a buffer exactly as long as itself so ASan sees any read past it. A crash, a
 * sanitizer report, a record that breaks the format's limits, a text body that is not printable,
 * or a broken chain without a one-line reason is a bug.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/audit_chain.h"

/* P-256's generator: a valid public point nobody has the key of here. */
static const uint8_t point[65] = {0x04, 0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc,
                                  0xe6, 0xe5, 0x63, 0xa4, 0x40, 0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d,
                                  0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96,
                                  0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb,
                                  0x4a, 0x7c, 0x0f, 0x9e, 0x16, 0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31,
                                  0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51, 0xf5};

static struct audit_walk walk;

static void check_record(const struct audit_rec *r, size_t used, size_t avail)
{
    if (used > avail || used < AUDIT_REC_HEAD + 4 || r->body_len > AUDIT_TEXT_MAX)
        abort();
    if (r->type == AUDIT_REC_TEXT || r->type == AUDIT_REC_LOSS)
        for (size_t i = 0; i < r->body_len; i++)
            if (r->body[i] < 0x20 || r->body[i] > 0x7e)
                abort();
    int ret = audit_walk_next(&walk, r);
    if (ret && (ret != -EBADMSG || !walk.broken || !walk.why[0] || strchr(walk.why, '\n')))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct audit_rec r;
    uint8_t *buf = malloc(size ? size : 1);
    struct audit_export_head h;
    struct audit_export_reader rd;
    size_t used;

    if (!buf)
        return 0;
    memcpy(buf, data, size);
    /* As a segment: records back to back, stepping over what is not one. */
    audit_walk_init(&walk, point, sizeof(point));
    for (size_t off = 0; off < size;) {
        used = 0;
        if (audit_rec_decode(buf + off, size - off, &r, &used) == 0) {
            check_record(&r, used, size - off);
            off += used;
        } else {
            off++;
        }
    }
    /* As an export. */
    if (audit_export_open(&rd, buf, size, &h) == 0) {
        uint8_t kind;
        const uint8_t *item;
        size_t len;
        audit_walk_init(&walk, point, sizeof(point));
        while (audit_export_next(&rd, &kind, &item, &len) == 0) {
            if (item < buf || item + len > buf + size || kind < 1 || kind > 3)
                abort();
            if (kind == AUDIT_ITEM_RECORD && audit_rec_decode(item, len, &r, &used) == 0)
                check_record(&r, used, len);
        }
    }
    free(buf);
    return 0;
}
