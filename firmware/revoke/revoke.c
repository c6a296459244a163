/*
 * firmware/revoke — own revocations in the token, the cluster's CRL, the CRLs from above
 * (revoke.h; docs/architecture.md "Revocation").
 *
 * Records (private CKO_DATA objects, each replaced crash-safely by token_data_write):
 *   "signet-revoked.N"  a chunk of the own list: header {version 1, 0, count (2, BE)}, then count
 *                       entries of 24 bytes {serial (16), revocation time (7, BE Unix seconds),
 *                       reason (1)}. At most CHUNK_ENTRIES each; chunk N+1 is only made once N is
 *                       full, so a revocation rewrites the last chunk or makes a new one, and a
 *                       power cut leaves the old list or the new one.
 *   "signet-excluded"   TLV, one item per excluded user name.
 *   "signet-crl-state"  TLV: the CRL number, this/next update, crl-hours, and what the CRL of that
 *                       number lists (how many of the own entries, a SHA-256 of the names), so a
 *                       cluster member that finds a newer number signs the same list under it.
 *   "signet-authority-crl" the authority's CRL as accepted (DER), verified again at every load.
 *
 * A record that does not decode makes the module "damaged": every check refuses (nothing counts
 * as not revoked when the list cannot be read), the appliance does not serve, and no CRL is
 * signed; revoke.h's functions that change the list refuse too. The records are the operator's
 * to restore (token backup); this is deliberately not repaired by guessing.
 */
#include "revoke.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "crypto/sha256.h"
#include "crypto/x509_user.h"
#include "lib/civil_time.h"
#include "lib/tlv.h"

#define OBJ_REVOKED_FMT "signet-revoked.%u"
#define OBJ_EXCLUDED    "signet-excluded"
#define OBJ_STATE       "signet-crl-state"
#define OBJ_AUTHORITY   "signet-authority-crl"

#define CHUNK_HEADER  4
#define ENTRY_BYTES   24
#define CHUNK_ENTRIES ((TOKEN_DATA_MAX - CHUNK_HEADER) / ENTRY_BYTES)
#define CHUNKS_MAX    ((REVOKE_ENTRIES_MAX + CHUNK_ENTRIES - 1) / CHUNK_ENTRIES)

enum { TAG_USER = 1 };
enum {
    TAG_NUMBER = 1,
    TAG_THIS_UPDATE,
    TAG_NEXT_UPDATE,
    TAG_HOURS,
    TAG_COVERS,
    TAG_USERS_HASH,
};

/* A failed signature is tried again this much later; changes are signed at most once a second. */
#define RETRY_SECS 60

static uint8_t io[TOKEN_DATA_MAX];
static struct x509_crl_entry own_entries[REVOKE_ENTRIES_MAX], own_sorted[REVOKE_ENTRIES_MAX];
static struct x509_crl_entry staged[REVOKE_ENTRIES_MAX], /* a load's, before it counts */
    staged_sorted[REVOKE_ENTRIES_MAX],                   /* a load's, sorted */
    /* A CRL's, apart from a load's: the net task reads a fetched CRL while a load in the token
     * task waits for the token between two chunks of the own list. */
    staged_crl_entries[X509_CRL_ENTRIES_MAX];
static struct x509_crl_entry root_entries[X509_CRL_ENTRIES_MAX];
static struct x509_crl_entry authority_entries[X509_CRL_ENTRIES_MAX];
static char staged_users[REVOKE_USERS_MAX][X509_CN_MAX + 1];
static struct x509_crl staged_crl; /* too large for a task's stack */
/* The CRL is signed into one buffer while connections may still send the other (revoke.h). */
static uint8_t crl_buf[2][X509_CRL_DER_MAX];
static bool buf_used[2];

/* The state as the token holds it, beyond what struct revoke shows. */
static struct {
    uint32_t chunks;         /* own-list chunks in the token */
    size_t covers;           /* serials the CRL of crl_number lists (the token's state) */
    uint8_t users_hash[32];  /* of the names the CRL of crl_number lists */
    uint8_t signed_hash[32]; /* of the names the CRL in RAM lists */
    uint64_t signed_number;  /* number of the CRL in RAM (0: none) */
    int64_t last_sign;       /* Unix second of the last attempt */
    int64_t retry_at;        /* after a failure: not before */
    char why[160];           /* revoke_blocks_serving's and refusals' text */
} st;

/* ---- time ---- */

static int64_t secs_of(const x509_time *t)
{
    struct civil_time c = {t->year,          (uint8_t)t->mon, (uint8_t)t->day,
                           (uint8_t)t->hour, (uint8_t)t->min, (uint8_t)t->sec};
    return civil_to_epoch(&c);
}

static x509_time time_at(int64_t secs)
{
    struct civil_time c;
    civil_from_epoch(secs, &c);
    return (x509_time){c.year, c.month, c.day, c.hour, c.minute, c.second};
}

static void put_be(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint64_t get_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

static bool reason_ok(unsigned reason)
{
    return reason == X509_CRL_REASON_UNSPECIFIED || reason == X509_CRL_REASON_KEY_COMPROMISE ||
           reason == X509_CRL_REASON_AFFILIATION_CHANGED || reason == X509_CRL_REASON_SUPERSEDED ||
           reason == X509_CRL_REASON_CESSATION_OF_OPERATION;
}

/* Serials this hierarchy issues are 16 bytes with the first octet 0x40..0x7f (x509_serial_fix). */
static bool serial_ok(const uint8_t *s)
{
    return s[0] >= 0x40 && s[0] <= 0x7f;
}

static void users_hash(const char (*users)[X509_CN_MAX + 1], size_t n, uint8_t out[32])
{
    struct sha256 c;
    sha256_init(&c);
    for (size_t i = 0; i < n; i++)
        sha256_update(&c, users[i], strlen(users[i]) + 1);
    sha256_final(&c, out);
}

/* ---- records ---- */

static void chunk_name(char out[32], uint32_t n)
{
    snprintf(out, 32, OBJ_REVOKED_FMT, (unsigned)n);
}

/* One chunk into entries[at..]; -EINVAL when damaged. */
static int chunk_decode(const uint8_t *buf, size_t len, struct x509_crl_entry *entries, size_t at,
                        size_t *count)
{
    if (len < CHUNK_HEADER || buf[0] != 1)
        return -EINVAL;
    size_t n = (size_t)get_be(buf + 2, 2);
    if (n == 0 || n > CHUNK_ENTRIES || len != CHUNK_HEADER + n * ENTRY_BYTES ||
        at + n > REVOKE_ENTRIES_MAX)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = buf + CHUNK_HEADER + i * ENTRY_BYTES;
        struct x509_crl_entry *e = &entries[at + i];
        if (!serial_ok(p) || !reason_ok(p[23]))
            return -EINVAL;
        memcpy(e->serial, p, X509_SERIAL_LEN);
        e->revoked_at = time_at((int64_t)get_be(p + 16, 7));
        e->reason = p[23];
    }
    *count = n;
    return 0;
}

static size_t chunk_encode(const struct x509_crl_entry *entries, size_t n, uint8_t *buf)
{
    buf[0] = 1;
    buf[1] = 0;
    put_be(buf + 2, n, 2);
    for (size_t i = 0; i < n; i++) {
        uint8_t *p = buf + CHUNK_HEADER + i * ENTRY_BYTES;
        memcpy(p, entries[i].serial, X509_SERIAL_LEN);
        put_be(p + 16, (uint64_t)secs_of(&entries[i].revoked_at), 7);
        p[23] = entries[i].reason;
    }
    return CHUNK_HEADER + n * ENTRY_BYTES;
}

/* The own list from the token into staged[] (and sorted, staged_sorted[]): -EIO (token),
 * -EINVAL (damaged). */
static int read_list(struct token *t, size_t *count, uint32_t *chunks)
{
    char name[32];
    size_t total = 0;
    uint32_t n = 0;

    for (; n < CHUNKS_MAX; n++) {
        size_t len = 0, got = 0;
        chunk_name(name, n);
        if (token_data_read(t, name, io, sizeof(io), &len) != CKR_OK)
            return -EIO;
        if (len == 0)
            break;
        if (chunk_decode(io, len, staged, total, &got) != 0)
            return -EINVAL;
        total += got;
    }
    /* No serial twice: a sorted copy shows it, and the checks need one anyway. */
    memcpy(staged_sorted, staged, total * sizeof(staged[0]));
    x509_crl_sort(staged_sorted, total);
    for (size_t i = 1; i < total; i++)
        if (memcmp(staged_sorted[i - 1].serial, staged_sorted[i].serial, X509_SERIAL_LEN) == 0)
            return -EINVAL;
    *count = total;
    *chunks = n;
    return 0;
}

static int read_users(struct token *t, size_t *count)
{
    struct tlv_reader rd;
    const uint8_t *v;
    uint8_t tag;
    size_t len = 0, n, k = 0;

    if (token_data_read(t, OBJ_EXCLUDED, io, sizeof(io), &len) != CKR_OK)
        return -EIO;
    tlv_reader_init(&rd, io, len);
    while (tlv_next(&rd, &tag, &v, &n)) {
        if (tag != TAG_USER)
            continue; /* written by a newer firmware */
        if (n == 0 || n > X509_CN_MAX || k == REVOKE_USERS_MAX)
            return -EINVAL;
        memcpy(staged_users[k], v, n);
        staged_users[k][n] = '\0';
        if (!x509_user_name_ok(staged_users[k]))
            return -EINVAL;
        k++;
    }
    if (rd.bad)
        return -EINVAL;
    *count = k;
    return 0;
}

struct crl_state {
    uint64_t number;
    int64_t this_update, next_update;
    unsigned hours;
    size_t covers;
    uint8_t users_hash[32];
};

static int read_state(struct token *t, struct crl_state *s)
{
    struct tlv_reader rd;
    const uint8_t *v;
    uint8_t tag;
    size_t len = 0, n;

    *s = (struct crl_state){.hours = REVOKE_CRL_HOURS_DEFAULT};
    if (token_data_read(t, OBJ_STATE, io, sizeof(io), &len) != CKR_OK)
        return -EIO;
    tlv_reader_init(&rd, io, len);
    while (tlv_next(&rd, &tag, &v, &n)) {
        if (tag == TAG_USERS_HASH && n == 32)
            memcpy(s->users_hash, v, 32);
        else if (tag == TAG_USERS_HASH)
            return -EINVAL;
        else if (tag >= TAG_NUMBER && tag <= TAG_COVERS && n != 8)
            return -EINVAL;
        else if (tag == TAG_NUMBER)
            s->number = get_be(v, 8);
        else if (tag == TAG_THIS_UPDATE)
            s->this_update = (int64_t)get_be(v, 8);
        else if (tag == TAG_NEXT_UPDATE)
            s->next_update = (int64_t)get_be(v, 8);
        else if (tag == TAG_HOURS)
            s->hours = (unsigned)get_be(v, 8);
        else if (tag == TAG_COVERS)
            s->covers = (size_t)get_be(v, 8);
    }
    if (rd.bad || s->hours < 1 || s->hours > REVOKE_CRL_HOURS_MAX || s->covers > REVOKE_ENTRIES_MAX)
        return -EINVAL;
    return 0;
}

static int write_state(struct token *t, const struct crl_state *s)
{
    const uint64_t vals[] = {s->number, (uint64_t)s->this_update, (uint64_t)s->next_update,
                             s->hours, s->covers};
    uint8_t item[8];
    size_t len = 0;

    for (unsigned i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        put_be(item, vals[i], 8);
        if (tlv_put(io, sizeof(io), &len, (uint8_t)(TAG_NUMBER + i), item, 8) != 0)
            return -ENOSPC;
    }
    if (tlv_put(io, sizeof(io), &len, TAG_USERS_HASH, s->users_hash, 32) != 0)
        return -ENOSPC;
    return token_data_write(t, OBJ_STATE, io, len) == CKR_OK ? 0 : -EIO;
}

static void state_from(struct revoke *r, const struct crl_state *s)
{
    r->crl_number = s->number;
    r->crl_this_update = s->this_update;
    r->crl_next_update = s->next_update;
    r->crl_hours = s->hours;
    st.covers = s->covers;
    memcpy(st.users_hash, s->users_hash, 32);
}

static struct crl_state state_of(const struct revoke *r)
{
    struct crl_state s = {r->crl_number, r->crl_this_update, r->crl_next_update,
                          r->crl_hours,  st.covers,          {0}};
    memcpy(s.users_hash, st.users_hash, 32);
    return s;
}

/* ---- CRLs from above ---- */

static struct revoke_held *held_of(struct revoke *r, enum revoke_source src)
{
    return src == REVOKE_FROM_ROOT ? &r->root : &r->authority;
}

/* Who signs src's CRL: the trusted authority root, or for a licensing server the root's SLC (the
 * issuer of our own, first in our chain). */
static int issuer_of(const struct revoke *r, enum revoke_source src, struct x509_cert *out,
                     const char **why)
{
    const struct enroll *e = r->enroll;

    if (src == REVOKE_FROM_AUTHORITY) {
        *why = "no authority root is trusted (trust import)";
        if (!e->anchor_len)
            return -ENOENT;
        *out = (struct x509_cert){e->anchor, e->anchor_len};
        return 0;
    }
    *why = "only a licensing server with an SLC holds its root's CRL";
    if (e->cfg.role != ENROLL_ROLE_LICENSING || !e->slc.slc_len || !e->slc.chain_count)
        return -ENOENT;
    *out = (struct x509_cert){e->slc.chain[0], e->slc.chain_len[0]};
    return 0;
}

/* Read and verify der into staged_crl (entries in staged_crl_entries[]). */
static int read_crl(const struct revoke *r, enum revoke_source src, const uint8_t *der, size_t len,
                    const char **why)
{
    struct x509_cert issuer;
    int ret = issuer_of(r, src, &issuer, why);

    if (ret)
        return ret;
    staged_crl.entries = staged_crl_entries;
    staged_crl.entries_cap = X509_CRL_ENTRIES_MAX;
    return x509_crl_read(der, len, issuer, &staged_crl, why);
}

static void hold(struct revoke *r, enum revoke_source src, int64_t fetched_at)
{
    struct revoke_held *h = held_of(r, src);
    struct x509_crl_entry *store = src == REVOKE_FROM_ROOT ? root_entries : authority_entries;

    memcpy(store, staged_crl_entries, staged_crl.count * sizeof(staged_crl_entries[0]));
    h->crl = staged_crl;
    h->crl.entries = store;
    h->crl.entries_cap = X509_CRL_ENTRIES_MAX;
    h->present = true;
    h->fetched_at = fetched_at;
}

int revoke_accept_crl(struct revoke *r, enum revoke_source src, const uint8_t *der, size_t len,
                      const x509_time *now, bool *newer, const char **why)
{
    struct revoke_held *h = held_of(r, src);
    int ret;

    *newer = false;
    *why = "the revocation state is not loaded (log in)";
    if (!r->loaded)
        return -EIO;
    ret = read_crl(r, src, der, len, why);
    if (ret)
        return ret;
    if (h->present && staged_crl.number < h->crl.number) {
        snprintf(st.why, sizeof(st.why), "older than the CRL held (number %llu < %llu)",
                 (unsigned long long)staged_crl.number, (unsigned long long)h->crl.number);
        *why = st.why;
        return -ESTALE;
    }
    if (h->present && staged_crl.number == h->crl.number)
        return 0; /* the one held: nothing to do */
    if (src == REVOKE_FROM_AUTHORITY) {
        /* Kept in the token first, so that every cluster member and the next boot hold it. */
        *why = "the authority's CRL is too large to keep in the token";
        if (len > TOKEN_DATA_MAX)
            return -E2BIG;
        *why = "could not store the authority's CRL in the token";
        if (token_data_write(r->token, OBJ_AUTHORITY, der, len) != CKR_OK)
            return -EIO;
    }
    hold(r, src, secs_of(now));
    *newer = true;
    return 0;
}

int64_t revoke_root_fetch_due(const struct revoke *r)
{
    if (!r->root.present)
        return 0;
    return r->root.fetched_at + (int64_t)r->crl_hours * 3600 / 2;
}

/* ---- load ---- */

void revoke_init(struct revoke *r, struct token *token, struct enroll *enroll)
{
    memset(r, 0, sizeof(*r));
    r->token = token;
    r->enroll = enroll;
    r->entries = own_entries;
    r->sorted = own_sorted;
    r->crl_hours = REVOKE_CRL_HOURS_DEFAULT;
    memset(&st, 0, sizeof(st));
    buf_used[0] = buf_used[1] = false;
}

static void refresh_dirty(struct revoke *r)
{
    uint8_t h[32];
    users_hash(r->users, r->user_count, h);
    r->crl_dirty =
        st.signed_number == 0 || r->count != r->crl_covers || memcmp(h, st.signed_hash, 32) != 0;
}

int revoke_load(struct revoke *r, const char **why)
{
    struct crl_state s;
    size_t count = 0, users = 0, len = 0;
    uint32_t chunks = 0;
    int bad = 0, ret;

    /* Everything is read into staging first and replaces what the checks use only once it is
     * whole: the net task checks while the token task's fiber waits for the token here, and must
     * never see a list that is half the old and half the new. */
    ret = read_list(r->token, &count, &chunks);
    if (ret == -EIO)
        goto token_failed;
    bad |= ret;
    ret = read_users(r->token, &users);
    if (ret == -EIO)
        goto token_failed;
    bad |= ret;
    ret = read_state(r->token, &s);
    if (ret == -EIO)
        goto token_failed;
    bad |= ret;
    if (token_data_read(r->token, OBJ_AUTHORITY, io, sizeof(io), &len) != CKR_OK)
        goto token_failed;

    r->damaged = bad != 0;
    if (r->damaged) {
        r->count = 0;
        r->user_count = 0;
        r->loaded = true;
        *why = "the revocation records in the token are damaged; nothing is accepted and no CRL "
               "is signed until they are restored";
        return -EINVAL;
    }
    memcpy(own_entries, staged, count * sizeof(staged[0]));
    memcpy(own_sorted, staged_sorted, count * sizeof(staged_sorted[0]));
    r->count = count;
    memcpy(r->users, staged_users, users * sizeof(staged_users[0]));
    r->user_count = users;
    st.chunks = chunks;
    state_from(r, &s);
    r->authority.present = false;
    r->loaded = true;
    /* The held authority CRL is verified again: the trust anchor may have changed since. */
    if (len && read_crl(r, REVOKE_FROM_AUTHORITY, io, len, why) == 0)
        hold(r, REVOKE_FROM_AUTHORITY, 0);
    refresh_dirty(r);
    return 0;

token_failed:
    *why = "the token did not answer";
    return -EIO;
}

void revoke_unload(struct revoke *r)
{
    r->loaded = false;
    r->damaged = false;
    r->count = 0;
    r->user_count = 0;
    r->root.present = false;
    r->authority.present = false;
}

/* ---- changes ---- */

int revoke_parse_serial(const char *text, uint8_t serial[X509_SERIAL_LEN])
{
    size_t n = strlen(text);

    if (n != 2 * X509_SERIAL_LEN)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        int v = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (v < 0)
            return -EINVAL;
        if (i % 2 == 0)
            serial[i / 2] = (uint8_t)(v << 4);
        else
            serial[i / 2] |= (uint8_t)v;
    }
    return serial_ok(serial) ? 0 : -EINVAL;
}

/* Before a change: the list as the token holds it now, so a change a cluster member made since
 * our last load is not overwritten. */
static int fresh(struct revoke *r, const char **why)
{
    *why = "the revocation state is not loaded (log in)";
    if (!r->loaded)
        return -EIO;
    int ret = revoke_load(r, why);
    if (ret == 0 || ret == -EIO)
        return ret;
    return -EINVAL; /* damaged: *why says so */
}

int revoke_serial(struct revoke *r, const uint8_t serial[X509_SERIAL_LEN],
                  enum x509_crl_reason reason, const x509_time *now, const char **why)
{
    static struct x509_crl_entry next[CHUNK_ENTRIES];
    char name[32];
    int ret = fresh(r, why);

    if (ret)
        return ret;
    *why = "not a serial this hierarchy issues (32 hex digits, the first two 40..7f)";
    if (!serial_ok(serial))
        return -EINVAL;
    *why = "not a reason a revocation may give";
    if (!reason_ok(reason))
        return -EINVAL;
    *why = "already revoked";
    if (x509_crl_search(r->sorted, r->count, serial))
        return -EEXIST;
    *why = "the revocation list is full (16384 entries)";
    if (r->count == REVOKE_ENTRIES_MAX)
        return -ENOSPC;
    /* Append to the last chunk, or begin the next once it is full. */
    size_t in_last = r->count - (st.chunks ? (size_t)(st.chunks - 1) * CHUNK_ENTRIES : 0);
    uint32_t chunk = st.chunks ? st.chunks - 1 : 0;
    if (st.chunks && in_last == CHUNK_ENTRIES) {
        chunk = st.chunks;
        in_last = 0;
    }
    memcpy(next, r->entries + (r->count - in_last), in_last * sizeof(next[0]));
    next[in_last] = (struct x509_crl_entry){.revoked_at = *now, .reason = (uint8_t)reason};
    memcpy(next[in_last].serial, serial, X509_SERIAL_LEN);
    size_t len = chunk_encode(next, in_last + 1, io);
    chunk_name(name, chunk);
    *why = "could not store the revocation in the token";
    if (token_data_write(r->token, name, io, len) != CKR_OK)
        return -EIO;
    /* The token holds it: now RAM. */
    r->entries[r->count] = next[in_last];
    r->count++;
    st.chunks = chunk + 1;
    memcpy(r->sorted, r->entries, r->count * sizeof(r->entries[0]));
    x509_crl_sort(r->sorted, r->count);
    refresh_dirty(r);
    return 0;
}

static int store_users(struct revoke *r, const char (*users)[X509_CN_MAX + 1], size_t n,
                       const char **why)
{
    size_t len = 0;

    for (size_t i = 0; i < n; i++)
        if (tlv_put(io, sizeof(io), &len, TAG_USER, users[i], strlen(users[i])) != 0) {
            *why = "the excluded users do not fit in their token object";
            return -ENOSPC;
        }
    *why = "could not store the excluded users in the token";
    if (token_data_write(r->token, OBJ_EXCLUDED, io, len) != CKR_OK)
        return -EIO;
    if (users != r->users)
        memcpy(r->users, users, n * sizeof(users[0]));
    r->user_count = n;
    refresh_dirty(r);
    return 0;
}

static int user_index(const struct revoke *r, const char *name)
{
    for (size_t i = 0; i < r->user_count; i++)
        if (x509_user_name_equal(r->users[i], name))
            return (int)i;
    return -1;
}

int revoke_user(struct revoke *r, const char *name, const char **why)
{
    char canon[X509_CN_MAX + 1];
    int ret = fresh(r, why);

    if (ret)
        return ret;
    *why = "not a user name (user@domain)";
    if (strlen(name) > X509_CN_MAX || !x509_user_name_ok(name))
        return -EINVAL;
    *why = "that user is already excluded";
    if (user_index(r, name) >= 0)
        return -EEXIST;
    *why = "the excluded users are full (128)";
    if (r->user_count == REVOKE_USERS_MAX)
        return -ENOSPC;
    memcpy(staged_users, r->users, r->user_count * sizeof(r->users[0]));
    memcpy(canon, name, strlen(name) + 1);
    x509_user_name_canon(canon);
    memcpy(staged_users[r->user_count], canon, sizeof(canon));
    return store_users(r, (const char(*)[X509_CN_MAX + 1]) staged_users, r->user_count + 1, why);
}

int revoke_unuser(struct revoke *r, const char *name, const char **why)
{
    int ret = fresh(r, why);

    if (ret)
        return ret;
    int i = user_index(r, name);
    *why = "that user is not excluded";
    if (i < 0)
        return -ENOENT;
    size_t n = 0;
    for (size_t k = 0; k < r->user_count; k++)
        if ((int)k != i)
            memcpy(staged_users[n++], r->users[k], sizeof(r->users[k]));
    return store_users(r, (const char(*)[X509_CN_MAX + 1]) staged_users, n, why);
}

int revoke_set_crl_hours(struct revoke *r, unsigned hours, const char **why)
{
    struct crl_state s;
    int ret;

    *why = "crl-hours is 1..744";
    if (hours < 1 || hours > REVOKE_CRL_HOURS_MAX)
        return -EINVAL;
    ret = fresh(r, why);
    if (ret)
        return ret;
    s = state_of(r);
    s.hours = hours;
    *why = "could not store the setting in the token";
    if (write_state(r->token, &s) != 0)
        return -EIO;
    r->crl_hours = hours;
    return 0;
}

/* ---- decisions ---- */

static const char *refuse_entry(const char *what, const uint8_t *serial,
                                const struct x509_crl_entry *e, const char *by)
{
    char date[CIVIL_ISO8601_LEN + 1];
    char hex[2 * X509_SERIAL_LEN + 1];

    for (size_t i = 0; i < X509_SERIAL_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", serial[i]);
    civil_format_iso8601(secs_of(&e->revoked_at), date);
    snprintf(st.why, sizeof(st.why), "revoked: %s %s%s (%s, %s)", what, hex, by,
             x509_crl_reason_name(e->reason), date);
    return st.why;
}

static const char *damaged_why(void)
{
    return "revoked: the revocation records in the token are damaged; nothing is accepted";
}

/* The first serial on our list, else on the held root CRL, that starts with key[len] (len
 * X509_SERIAL_LEN: that serial itself), and who said so. */
static const struct x509_crl_entry *find_listed(const struct revoke *r, const uint8_t *key,
                                                size_t len, const char **by)
{
    const struct x509_crl_entry *e = x509_crl_search_prefix(r->sorted, r->count, key, len);
    *by = "";
    if (!e && r->root.present) {
        e = x509_crl_search_prefix(r->root.crl.entries, r->root.crl.count, key, len);
        *by = " by the root";
    }
    return e;
}

static int check_listed(const struct revoke *r, const uint8_t *key, size_t len, const char *what,
                        const char **why)
{
    const char *by;
    const struct x509_crl_entry *e;

    *why = "the revocation state is not loaded (log in)";
    if (!r->loaded)
        return -EIO;
    if (r->damaged)
        return (*why = damaged_why()), -EPERM;
    e = find_listed(r, key, len, &by);
    if (!e)
        return 0;
    *why = refuse_entry(what, e->serial, e, by);
    return -EPERM;
}

int revoke_check_serial(const struct revoke *r, const uint8_t serial[X509_SERIAL_LEN],
                        const char *what, const char **why)
{
    return check_listed(r, serial, X509_SERIAL_LEN, what, why);
}

int revoke_check_prefix(const struct revoke *r, const uint8_t prefix[X509_SERIAL_PREFIX_LEN],
                        const char *what, const char **why)
{
    return check_listed(r, prefix, X509_SERIAL_PREFIX_LEN, what, why);
}

int revoke_check_user(const struct revoke *r, const char *name, const char **why)
{
    *why = "the revocation state is not loaded (log in)";
    if (!r->loaded)
        return -EIO;
    if (r->damaged)
        return (*why = damaged_why()), -EPERM;
    if (user_index(r, name) < 0 && !(r->root.present && x509_crl_excludes(&r->root.crl, name)))
        return 0;
    snprintf(st.why, sizeof(st.why), "revoked: %s is excluded", name);
    *why = st.why;
    return -EPERM;
}

int revoke_check_cert(const struct revoke *r, const struct x509_info *cert, const char *what,
                      const char **why)
{
    int ret;

    if (cert->serial_len == X509_SERIAL_LEN) {
        ret = revoke_check_serial(r, cert->serial, what, why);
        if (ret)
            return ret;
    } else if (!r->loaded || r->damaged) {
        return revoke_check_serial(r, cert->serial, what, why);
    }
    /* Other lengths are no serials of this hierarchy's: they cannot be on a CRL of it. */
    if (cert->kind == X509_KIND_RAC) {
        ret = revoke_check_user(r, cert->cn, why);
        if (ret)
            return ret;
    }
    /* A whole serial (written before prefixes) starts with its server's prefix too. */
    if (cert->has_via)
        return revoke_check_prefix(r, cert->via, "licensing server", why);
    return 0;
}

bool revoke_blocks_serving(const struct revoke *r, const x509_time *now, const char **why)
{
    const struct enroll *e = r->enroll;
    const struct x509_crl_entry *hit;
    char date[CIVIL_ISO8601_LEN + 1];

    if (!r->loaded || !e->slc.slc_len)
        return false;
    if (r->damaged) {
        *why = "the revocation records in the token are damaged";
        return true;
    }
    const uint8_t *own = e->info.serial;
    bool ours = e->info.serial_len == X509_SERIAL_LEN;
    const struct revoke_held *src[2] = {&r->authority, &r->root};
    const char *name[2] = {"authority", "root"};
    for (int i = 0; i < 2 && ours; i++) {
        if (!src[i]->present || !(hit = x509_crl_find(&src[i]->crl, own)))
            continue;
        civil_format_iso8601(secs_of(&hit->revoked_at), date);
        snprintf(st.why, sizeof(st.why), "the SLC is revoked by the %s (%s, %s)", name[i],
                 x509_crl_reason_name(hit->reason), date);
        *why = st.why;
        return true;
    }
    if (e->cfg.role != ENROLL_ROLE_LICENSING)
        return false;
    if (!r->root.present) {
        *why = "no CRL from the root yet";
        return true;
    }
    if (x509_time_cmp(now, &r->root.crl.next_update) > 0) {
        civil_format_iso8601(secs_of(&r->root.crl.next_update), date);
        snprintf(st.why, sizeof(st.why),
                 "the root's CRL expired at %s and the root cannot be "
                 "reached",
                 date);
        *why = st.why;
        return true;
    }
    return false;
}

/* ---- the cluster's CRL ---- */

void revoke_on_replace(struct revoke *r, void (*fn)(const void *old_der))
{
    r->on_replace = fn;
}

int revoke_crl(const struct revoke *r, const uint8_t **der, size_t *len, const char **why)
{
    *why = "no CRL yet";
    if (!r->crl_len)
        return -EAGAIN;
    *der = r->crl_der;
    *len = r->crl_len;
    return 0;
}

/* Sign the list as it is under state s into the buffer not being served. */
static int sign_crl(struct revoke *r, const struct crl_state *s)
{
    struct x509_issuer issuer;
    uint8_t digest[SHA256_LEN], sig[TOKEN_SIG_MAX];
    size_t tbs_len = 0, sig_len = sizeof(sig), len = 0;
    int k = r->crl_der == crl_buf[0] ? 1 : 0;
    uint8_t *out = crl_buf[k];

    enroll_issuer(r->enroll, &issuer);
    /* thisUpdate backdated as certificates are (docs/certificates.md "Backdating"): a relying
     * party whose clock is a little behind must not see the CRL as not yet valid. Never before
     * the SLC's own notBefore. */
    x509_time this_update = time_at(s->this_update - X509_BACKDATE_SECS);
    if (x509_time_cmp(&this_update, &r->enroll->info.not_before) < 0)
        this_update = r->enroll->info.not_before;
    struct x509_crl_profile p = {
        .number = s->number,
        .this_update = this_update,
        .next_update = time_at(s->next_update),
        .entries = r->entries,
        .count = s->covers,
        .excluded = (const char(*)[X509_CN_MAX + 1]) r->users,
        .excluded_count = r->user_count,
    };
    /* Connections may still be sending what this buffer held two CRLs ago: end them first. */
    if (buf_used[k] && r->on_replace)
        r->on_replace(out);
    buf_used[k] = false;
    if (x509_crl_tbs_build(&p, &issuer, out, X509_CRL_DER_MAX, &tbs_len) != 0)
        return -ENOSPC;
    /* The token signs the digest: a CRL of thousands of entries never crosses the HSM link. */
    sha256(out + X509_CRL_DER_MAX - tbs_len, tbs_len, digest);
    if (token_sign_sha256(r->token, &r->token->slc, digest, sig, &sig_len) != CKR_OK)
        return -EIO;
    if (x509_assemble(&issuer, out, X509_CRL_DER_MAX, tbs_len, sig, sig_len, &len) != 0)
        return -EIO;
    buf_used[k] = true;
    r->crl_der = out;
    r->crl_len = len;
    r->crl_covers = s->covers;
    st.signed_number = s->number;
    users_hash(r->users, r->user_count, st.signed_hash);
    r->crl_signed++;
    return 0;
}

static bool due(const struct revoke *r, int64_t now)
{
    /* A cluster member signed under a newer number: the same list under it, so all agree. */
    if (!r->crl_len || r->crl_dirty || r->crl_number > st.signed_number)
        return true;
    /* Half the lifetime gone: a fresh one well before relying parties would stop trusting it. */
    return now >= r->crl_this_update + (r->crl_next_update - r->crl_this_update) / 2;
}

void revoke_tick(struct revoke *r, const x509_time *now)
{
    struct crl_state s;
    uint8_t h[32];
    int64_t secs = secs_of(now);

    if (!r->loaded || r->damaged || !enroll_serving(r->enroll, now) || !r->token->logged_in)
        return;
    /* A clock set back must not hold signing off until it catches up again. */
    if (st.retry_at > secs + RETRY_SECS)
        st.retry_at = 0;
    if (!due(r, secs) || secs == st.last_sign || secs < st.retry_at)
        return;
    st.last_sign = secs;
    /* The state as the token holds it now: a cluster member may have signed since. */
    if (read_state(r->token, &s) != 0)
        goto failed;
    users_hash(r->users, r->user_count, h);
    bool same = s.number > st.signed_number && s.covers == r->count &&
                memcmp(s.users_hash, h, 32) == 0 &&
                secs < s.this_update + (s.next_update - s.this_update) / 2;
    if (!same) {
        /* A new number, in the token before anything is signed under it. */
        s.number = (s.number > r->crl_number ? s.number : r->crl_number) + 1;
        s.this_update = secs;
        s.next_update = secs + (int64_t)s.hours * 3600;
        s.covers = r->count;
        memcpy(s.users_hash, h, 32);
        if (write_state(r->token, &s) != 0)
            goto failed;
    }
    state_from(r, &s);
    if (sign_crl(r, &s) != 0)
        goto failed;
    st.retry_at = 0;
    r->crl_retry_at = 0;
    refresh_dirty(r);
    return;

failed:
    st.retry_at = secs + RETRY_SECS;
    r->crl_retry_at = st.retry_at;
}
