/*
 * signet-authority audit-verify — an appliance's audit export (`audit export`) checked offline
 * (docs/audit.md "Checking an export"): the audit key's certificate chains through the SLC to the
 * authority root given, every record links to the one before, every seal is the audit key's, and
 * the export ends with the seal made for it. The first broken entry is named.
 */
#define _POSIX_C_SOURCE 200809L
#include "audit_verify.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/audit_chain.h"
#include "crypto/doc.h"
#include "crypto/spki.h"
#include "crypto/x509.h"
#include "lib/civil_time.h"
#include "lib/hex.h"
#include "mbedtls/base64.h"

#define EXPORT_TEXT_MAX (8u << 20) /* a 2 MiB ring, base64, with room */
#define EXPORT_MAX      (6u << 20)
#define LINE_MAX_LEN    76
#define CHAIN_MAX       (DOC_CHAIN_MAX + 1)

struct verify_ctx {
    const char *why; /* the first failure, one line */
    char why_buf[AUDIT_WHY_MAX + 64];
};

__attribute__((format(printf, 2, 3))) static int fail(struct verify_ctx *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->why_buf, sizeof(v->why_buf), fmt, ap);
    va_end(ap);
    v->why = v->why_buf;
    return -EBADMSG;
}

static char *read_all(const char *path, size_t cap, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;

    *len = 0;
    if (!f)
        return NULL;
    buf = malloc(cap + 1);
    if (buf) {
        *len = fread(buf, 1, cap + 1, f);
        if (ferror(f) || *len > cap) {
            free(buf);
            buf = NULL;
        } else {
            buf[*len] = '\0';
        }
    }
    fclose(f);
    return buf;
}

/* The block between "-----BEGIN label-----" and its END line, decoded. */
static int unarmor(struct verify_ctx *v, const char *text, const char *label, uint8_t *out,
                   size_t cap, size_t *len)
{
    char begin[64], end[64];

    snprintf(begin, sizeof(begin), "-----BEGIN %s-----", label);
    snprintf(end, sizeof(end), "-----END %s-----", label);
    const char *p = strstr(text, begin);
    if (!p)
        return fail(v, "no %s block", label);
    p = strchr(p, '\n');
    *len = 0;
    while (p && *++p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n && p[n - 1] == '\r')
            n--;
        if (n == strlen(end) && strncmp(p, end, n) == 0)
            return 0;
        if (!nl)
            break; /* the file ends inside the block */
        size_t got = 0;
        if (n == 0 || n > LINE_MAX_LEN ||
            mbedtls_base64_decode(out + *len, cap - *len, &got, (const unsigned char *)p, n) != 0)
            return fail(v, "the %s block is not base64 in lines of at most 76", label);
        *len += got;
        p = nl;
    }
    return fail(v, "the %s block has no END line (cut short)", label);
}

static x509_time time_at(int64_t secs)
{
    struct civil_time c;
    civil_from_epoch(secs, &c);
    return (x509_time){c.year, c.month, c.day, c.hour, c.minute, c.second};
}

int audit_verify_export(const char *path, const char *anchor_path, FILE *out)
{
    static struct verify_ctx v;
    static struct audit_walk w;
    static uint8_t root[DOC_CERT_MAX];
    size_t text_len = 0, root_len = 0, len = 0;
    char *text = NULL, *root_text = NULL;
    uint8_t *bin = NULL;
    struct audit_export_head h;
    struct audit_export_reader rd;
    struct x509_cert key_cert = {0}, chain[CHAIN_MAX];
    size_t chain_n = 0;
    struct audit_rec r, last = {0}, before_last = {0};
    bool have_last = false;
    int ret = -EBADMSG;

    memset(&v, 0, sizeof(v));
    memset(&w, 0, sizeof(w));
    root_text = read_all(anchor_path, 64 * 1024, &root_len);
    text = read_all(path, EXPORT_TEXT_MAX, &text_len);
    bin = malloc(EXPORT_MAX);
    if (!root_text || !text || !bin) {
        fprintf(stderr, "signet-authority: error: cannot read %s\n",
                !root_text ? anchor_path : path);
        ret = -EIO;
        goto out;
    }
    if (unarmor(&v, root_text, "CERTIFICATE", root, sizeof(root), &root_len) != 0 ||
        unarmor(&v, text, AUDIT_EXPORT_LABEL, bin, EXPORT_MAX, &len) != 0)
        goto report;
    if (audit_export_open(&rd, bin, len, &h) != 0) {
        fail(&v, "not an audit export of this version");
        goto report;
    }
    uint8_t kind;
    const uint8_t *item;
    size_t item_len;
    int n;
    while ((n = audit_export_next(&rd, &kind, &item, &item_len)) == 0) {
        if (kind == AUDIT_ITEM_KEY_CERT && !key_cert.der && !w.first_seq) {
            key_cert = (struct x509_cert){item, item_len};
        } else if (kind == AUDIT_ITEM_CHAIN && key_cert.der && chain_n < CHAIN_MAX &&
                   !w.first_seq && !have_last) {
            chain[chain_n++] = (struct x509_cert){item, item_len};
        } else if (kind == AUDIT_ITEM_RECORD && chain_n) {
            size_t used = 0;
            if (!w.point) {
                /* The records come after the certificates: the key is known by now. */
                struct x509_info info;
                const char *why = "";
                if (x509_read(key_cert.der, key_cert.len, &info, &why) != 0 ||
                    !spki_is_p256(info.spki, info.spki_len) || info.spki_len < 66) {
                    fail(&v, "the audit key's certificate: %s", why[0] ? why : "not P-256");
                    goto report;
                }
                audit_walk_init(&w, info.spki + info.spki_len - 65, 65);
            }
            if (audit_rec_decode(item, item_len, &r, &used) != 0 || used != item_len) {
                fail(&v, "entry %lu: damaged (not a whole record)",
                     (unsigned long)(have_last ? last.seq + 1 : h.first_seq));
                goto report;
            }
            if (!have_last && r.seq != h.first_seq) {
                fail(&v, "entry %lu: the export names entry %lu as its first", (unsigned long)r.seq,
                     (unsigned long)h.first_seq);
                goto report;
            }
            if (audit_walk_next(&w, &r) != 0) {
                fail(&v, "%s", w.why);
                goto report;
            }
            before_last = last;
            last = r;
            have_last = true;
        } else {
            fail(&v, "items out of order: the audit key's certificate, the SLC chain, then the "
                     "records");
            goto report;
        }
    }
    if (n != -ENODATA) {
        fail(&v, "cut inside an item after entry %lu: truncated",
             (unsigned long)(have_last ? last.seq : 0));
        goto report;
    }
    if (!have_last) {
        fail(&v, "no entries");
        goto report;
    }
    if (last.seq != h.last_seq || last.type != AUDIT_REC_SEAL || w.sealed_seq + 1 != last.seq) {
        fail(&v, "the export ends at entry %lu, not with the seal of entry %lu it names: truncated",
             (unsigned long)last.seq, (unsigned long)h.last_seq - 1);
        goto report;
    }
    if (memcmp(w.ring_id, h.ring_id, AUDIT_RING_ID_LEN) != 0) {
        fail(&v, "the seals are of another ring than the export names");
        goto report;
    }
    /* The chain as it was when the export was sealed: an SLC since expired still vouches for
     * what it signed then. The time of the entry the seal covers, which the signature covers
     * (the seal record's own time is not). */
    x509_time at = time_at(before_last.when);
    const char *why = "";
    if (x509_chain_verify(key_cert, chain, chain_n, (struct x509_cert){root, root_len}, &at, 0,
                          &why) != 0) {
        fail(&v, "the audit key's certificate does not chain to the root: %s", why);
        goto report;
    }
    struct x509_info slc;
    char last_iso[CIVIL_ISO8601_LEN + 1];
    if (x509_read(chain[0].der, chain[0].len, &slc, &why) != 0)
        snprintf(slc.cn, sizeof(slc.cn), "?");
    civil_format_iso8601(before_last.when, last_iso);
    char ring[2 * AUDIT_RING_ID_LEN + 1];
    hex_encode(h.ring_id, sizeof(h.ring_id), ring);
    fprintf(out,
            "audit-verify: ok: entries %lu..%lu (%lu records, %lu seals) of %s's ring %s, "
            "sealed %s\n",
            (unsigned long)w.first_seq, (unsigned long)w.last_seq, (unsigned long)w.records,
            (unsigned long)w.seals, slc.cn, ring, last_iso);
    ret = 0;
    goto out;
report:
    fprintf(stderr, "signet-authority: error: audit-verify: %s\n", v.why);
out:
    free(root_text);
    free(text);
    free(bin);
    return ret;
}
