#include "audit_chain.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "crypto/sha256.h"
#include "lib/crc32.h"
#include "mbedtls/ecdsa.h"

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static bool type_known(uint8_t t)
{
    return t == AUDIT_REC_TEXT || t == AUDIT_REC_SEAL || t == AUDIT_REC_LOSS;
}

size_t audit_rec_encode(struct audit_rec *r, uint8_t *out, size_t cap)
{
    size_t len = AUDIT_REC_HEAD + r->body_len + 4;

    if (r->body_len > AUDIT_TEXT_MAX || !type_known(r->type) || cap < len)
        return 0;
    put_le(out, len, 2);
    out[2] = r->type;
    out[3] = AUDIT_REC_VERSION;
    put_le(out + 4, r->seq, 4);
    put_le(out + 8, (uint64_t)r->when, 8);
    memcpy(out + 16, r->prev, AUDIT_HASH_LEN);
    memcpy(out + AUDIT_REC_HEAD, r->body, r->body_len);
    sha256(out, len - 4, r->hash);
    put_le(out + len - 4, crc32_update(0, out, len - 4), 4);
    return len;
}

int audit_rec_decode(const uint8_t *in, size_t avail, struct audit_rec *r, size_t *used)
{
    if (avail < 2)
        return -EBADMSG;
    size_t len = (size_t)get_le(in, 2);
    if (len == 0xFFFF)
        return -ENODATA;
    if (len < AUDIT_REC_HEAD + 4 || len > AUDIT_REC_MAX || len > avail || !type_known(in[2]) ||
        in[3] != AUDIT_REC_VERSION || get_le(in + len - 4, 4) != crc32_update(0, in, len - 4))
        return -EBADMSG;
    r->type = in[2];
    r->seq = (uint32_t)get_le(in + 4, 4);
    r->when = (int64_t)get_le(in + 8, 8);
    memcpy(r->prev, in + 16, AUDIT_HASH_LEN);
    r->body_len = (uint16_t)(len - 4 - AUDIT_REC_HEAD);
    memcpy(r->body, in + AUDIT_REC_HEAD, r->body_len);
    if (r->type == AUDIT_REC_SEAL && r->body_len != AUDIT_SEAL_BODY)
        return -EBADMSG;
    if (r->type != AUDIT_REC_SEAL)
        for (size_t i = 0; i < r->body_len; i++)
            if (r->body[i] < 0x20 || r->body[i] > 0x7e)
                return -EBADMSG; /* text is one printable line, whoever wrote the bytes */
    sha256(in, len - 4, r->hash);
    *used = len;
    return r->seq ? 0 : -EBADMSG;
}

void audit_seal_digest(const uint8_t ring_id[AUDIT_RING_ID_LEN], uint32_t seq,
                       const uint8_t hash[AUDIT_HASH_LEN], uint8_t out[AUDIT_HASH_LEN])
{
    static const char domain[] = "signet audit seal"; /* with its NUL */
    uint8_t n[4];
    struct sha256 c;

    put_le(n, seq, 4);
    sha256_init(&c);
    sha256_update(&c, domain, sizeof(domain));
    sha256_update(&c, ring_id, AUDIT_RING_ID_LEN);
    sha256_update(&c, n, sizeof(n));
    sha256_update(&c, hash, AUDIT_HASH_LEN);
    sha256_final(&c, out);
}

void audit_seal_to_body(const struct audit_seal *s, struct audit_rec *r)
{
    uint8_t *p = r->body;

    memcpy(p, s->ring_id, AUDIT_RING_ID_LEN);
    put_le(p + AUDIT_RING_ID_LEN, s->covered_seq, 4);
    memcpy(p + AUDIT_RING_ID_LEN + 4, s->covered_hash, AUDIT_HASH_LEN);
    memcpy(p + AUDIT_RING_ID_LEN + 4 + AUDIT_HASH_LEN, s->sig, AUDIT_SIG_LEN);
    r->body_len = AUDIT_SEAL_BODY;
    r->type = AUDIT_REC_SEAL;
}

int audit_seal_parse(const struct audit_rec *r, struct audit_seal *s)
{
    const uint8_t *p = r->body;

    if (r->type != AUDIT_REC_SEAL || r->body_len != AUDIT_SEAL_BODY)
        return -EBADMSG;
    memcpy(s->ring_id, p, AUDIT_RING_ID_LEN);
    s->covered_seq = (uint32_t)get_le(p + AUDIT_RING_ID_LEN, 4);
    memcpy(s->covered_hash, p + AUDIT_RING_ID_LEN + 4, AUDIT_HASH_LEN);
    memcpy(s->sig, p + AUDIT_RING_ID_LEN + 4 + AUDIT_HASH_LEN, AUDIT_SIG_LEN);
    return 0;
}

int audit_seal_check(const uint8_t *point, size_t point_len, const uint8_t digest[AUDIT_HASH_LEN],
                     const uint8_t sig[AUDIT_SIG_LEN])
{
    mbedtls_ecp_group grp;
    mbedtls_ecp_point q;
    mbedtls_mpi r, s;
    int ret = -EINVAL;

    mbedtls_ecp_group_init(&grp);
    mbedtls_ecp_point_init(&q);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    if (mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1) != 0 ||
        mbedtls_ecp_point_read_binary(&grp, &q, point, point_len) != 0 ||
        mbedtls_ecp_check_pubkey(&grp, &q) != 0)
        goto out;
    ret = -EBADMSG;
    if (mbedtls_mpi_read_binary(&r, sig, AUDIT_SIG_LEN / 2) != 0 ||
        mbedtls_mpi_read_binary(&s, sig + AUDIT_SIG_LEN / 2, AUDIT_SIG_LEN / 2) != 0)
        goto out;
    if (mbedtls_ecdsa_verify(&grp, digest, AUDIT_HASH_LEN, &q, &r, &s) == 0)
        ret = 0;
out:
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&r);
    mbedtls_ecp_point_free(&q);
    mbedtls_ecp_group_free(&grp);
    return ret;
}

void audit_walk_init(struct audit_walk *w, const uint8_t *point, size_t point_len)
{
    memset(w, 0, sizeof(*w));
    w->point = point;
    w->point_len = point_len;
}

static int broken(struct audit_walk *w, uint32_t seq, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int broken(struct audit_walk *w, uint32_t seq, const char *fmt, ...)
{
    va_list ap;

    if (w->broken)
        return -EBADMSG;
    w->broken = true;
    w->bad_seq = seq;
    va_start(ap, fmt);
    vsnprintf(w->why, sizeof(w->why), fmt, ap);
    va_end(ap);
    return -EBADMSG;
}

/* A seal: ours (the ring id), over a record the window still holds, and signed by the key. */
static int check_seal(struct audit_walk *w, const struct audit_rec *r)
{
    struct audit_seal s;
    uint8_t digest[AUDIT_HASH_LEN];

    if (audit_seal_parse(r, &s) != 0)
        return broken(w, r->seq, "entry %lu: a seal that is not well formed",
                      (unsigned long)r->seq);
    if (w->have_ring_id && memcmp(s.ring_id, w->ring_id, AUDIT_RING_ID_LEN) != 0)
        return broken(w, r->seq, "entry %lu: a seal of another ring", (unsigned long)r->seq);
    /* Over an entry before the walk began (the oldest kept, an export's FROM): nothing here to
     * compare it with; it is not counted, the next seal is. */
    if (s.covered_seq < w->first_seq && s.covered_seq < r->seq &&
        r->seq - s.covered_seq <= AUDIT_WALK_WINDOW)
        return 0;
    if (s.covered_seq >= r->seq || r->seq - s.covered_seq > AUDIT_WALK_WINDOW)
        return broken(w, r->seq, "entry %lu: a seal over entry %lu, which is not just before it",
                      (unsigned long)r->seq, (unsigned long)s.covered_seq);
    if (memcmp(w->window[s.covered_seq % AUDIT_WALK_WINDOW], s.covered_hash, AUDIT_HASH_LEN))
        return broken(
            w, s.covered_seq,
            "entry %lu: not what entry %lu sealed (it or an entry before it was rewritten)",
            (unsigned long)s.covered_seq, (unsigned long)r->seq);
    if (w->point) {
        audit_seal_digest(s.ring_id, s.covered_seq, s.covered_hash, digest);
        if (audit_seal_check(w->point, w->point_len, digest, s.sig) != 0)
            return broken(w, r->seq, "entry %lu: the seal's signature is not the audit key's",
                          (unsigned long)r->seq);
    }
    memcpy(w->ring_id, s.ring_id, AUDIT_RING_ID_LEN);
    w->have_ring_id = true;
    w->sealed_seq = s.covered_seq;
    w->seals++;
    return 0;
}

int audit_walk_next(struct audit_walk *w, const struct audit_rec *r)
{
    static const uint8_t zeros[AUDIT_HASH_LEN];
    unsigned long seq = r->seq;

    if (w->broken)
        return -EBADMSG;
    if (!w->first_seq) {
        if (seq == 1 && memcmp(r->prev, zeros, AUDIT_HASH_LEN) != 0)
            return broken(w, r->seq, "entry 1: it names an entry before it");
        w->first_seq = r->seq;
    } else if (r->seq <= w->last_seq) {
        return broken(w, r->seq, "entry %lu: out of order (after entry %lu)", seq,
                      (unsigned long)w->last_seq);
    } else if (r->seq != w->last_seq + 1) {
        return broken(w, w->last_seq + 1, "entries %lu..%lu: missing",
                      (unsigned long)w->last_seq + 1, seq - 1);
    } else if (memcmp(r->prev, w->head, AUDIT_HASH_LEN) != 0) {
        return broken(w, w->last_seq, "entry %lu: changed (entry %lu names another hash for it)",
                      (unsigned long)w->last_seq, seq);
    }
    if (r->type == AUDIT_REC_SEAL && check_seal(w, r) != 0)
        return -EBADMSG;
    if (r->type == AUDIT_REC_LOSS)
        return broken(w, r->seq, "entry %lu: the appliance recorded a loss: %.*s", seq,
                      (int)(r->body_len > 150 ? 150 : r->body_len), (const char *)r->body);
    w->last_seq = r->seq;
    memcpy(w->head, r->hash, AUDIT_HASH_LEN);
    memcpy(w->window[r->seq % AUDIT_WALK_WINDOW], r->hash, AUDIT_HASH_LEN);
    w->records++;
    return 0;
}

void audit_export_head_encode(const struct audit_export_head *h, uint8_t out[AUDIT_EXPORT_HEAD])
{
    memcpy(out, "SGAX", 4);
    out[4] = 1;
    memcpy(out + 5, h->ring_id, AUDIT_RING_ID_LEN);
    put_le(out + 5 + AUDIT_RING_ID_LEN, h->first_seq, 4);
    put_le(out + 9 + AUDIT_RING_ID_LEN, h->last_seq, 4);
}

void audit_item_head_encode(uint8_t kind, size_t len, uint8_t out[AUDIT_ITEM_HEAD])
{
    out[0] = kind;
    put_le(out + 1, len, 3);
}

int audit_export_open(struct audit_export_reader *rd, const uint8_t *data, size_t len,
                      struct audit_export_head *h)
{
    if (len < AUDIT_EXPORT_HEAD || memcmp(data, "SGAX", 4) != 0 || data[4] != 1)
        return -EBADMSG;
    memcpy(h->ring_id, data + 5, AUDIT_RING_ID_LEN);
    h->first_seq = (uint32_t)get_le(data + 5 + AUDIT_RING_ID_LEN, 4);
    h->last_seq = (uint32_t)get_le(data + 9 + AUDIT_RING_ID_LEN, 4);
    rd->p = data + AUDIT_EXPORT_HEAD;
    rd->end = data + len;
    return 0;
}

int audit_export_next(struct audit_export_reader *rd, uint8_t *kind, const uint8_t **item,
                      size_t *len)
{
    size_t left = (size_t)(rd->end - rd->p);

    if (!left)
        return -ENODATA;
    if (left < AUDIT_ITEM_HEAD)
        return -EBADMSG;
    size_t n = (size_t)get_le(rd->p + 1, 3);
    if (rd->p[0] < AUDIT_ITEM_KEY_CERT || rd->p[0] > AUDIT_ITEM_RECORD ||
        n > left - AUDIT_ITEM_HEAD)
        return -EBADMSG;
    *kind = rd->p[0];
    *item = rd->p + AUDIT_ITEM_HEAD;
    *len = n;
    rd->p += AUDIT_ITEM_HEAD + n;
    return 0;
}
