#include "acl.h"

#include <errno.h>
#include <string.h>

#include "lib/hex.h"
#include "lib/tlv.h"

#define OBJ_ACL "signet-acl"

/* One TLV item per entry: the fingerprint, then the name; after it an item of its fingerprint and
 * its serial prefix; and, in a record a firmware before prefixes wrote, one of its fingerprint and
 * the serial of the last certificate that firmware issued to it. A firmware that does not know an
 * item skips it (and drops it when it rewrites the list: a cluster's members run one firmware). */
enum { ACL_TAG_ENTRY = 1, ACL_TAG_SERIAL = 2, ACL_TAG_PREFIX = 3 };

static uint8_t io[TOKEN_DATA_MAX];

void acl_init(struct acl *a, struct token *token)
{
    memset(a, 0, sizeof(*a));
    a->token = token;
}

static bool name_ok(const char *name)
{
    size_t n = 0;
    for (; name[n]; n++)
        if (n >= ACL_NAME_MAX || (unsigned char)name[n] < 0x21 || (unsigned char)name[n] > 0x7e)
            return false;
    return n > 0;
}

static int index_of(const struct acl *a, const uint8_t fp[ACL_FP_LEN]);

/* Serials (and so prefixes) are DER-minimal positive integers: x509_serial_fix's first octet. */
static void prefix_fix(uint8_t prefix[ACL_PREFIX_LEN])
{
    prefix[0] = (uint8_t)((prefix[0] & 0x3f) | 0x40);
}

static bool prefix_ok(const uint8_t *prefix)
{
    return prefix[0] >= 0x40 && prefix[0] <= 0x7f;
}

/* A serial or prefix item names an entry read before it, once; else the record is damaged. */
static int decode_extra(struct acl *a, uint8_t tag, const uint8_t *v, size_t n, bool seen[])
{
    size_t want = tag == ACL_TAG_SERIAL ? ACL_SERIAL_LEN : ACL_PREFIX_LEN;
    int i = n == ACL_FP_LEN + want ? index_of(a, v) : -1;

    if (i < 0 || !prefix_ok(v + ACL_FP_LEN))
        return -EINVAL;
    struct acl_entry *e = &a->entries[i];
    if (tag == ACL_TAG_SERIAL) {
        if (e->has_serial)
            return -EINVAL;
        e->has_serial = true;
        memcpy(e->serial, v + ACL_FP_LEN, ACL_SERIAL_LEN);
        return 0;
    }
    if (seen[i])
        return -EINVAL;
    seen[i] = true;
    memcpy(e->prefix, v + ACL_FP_LEN, ACL_PREFIX_LEN);
    return 0;
}

/*
 * The prefix of an entry a firmware before prefixes wrote. With a serial recorded, that serial's
 * first octets: revoking the certificate that firmware issued then refuses the server as before,
 * and the RACs it certified (whose signetVia is that whole serial) match by the same prefix.
 * Without, the fingerprint's first octets (itself a SHA-256). Either way every cluster member
 * derives the same prefix from the same record, with no write, so no two members can issue
 * certificates under different prefixes for one principal.
 */
static void derive_prefix(struct acl_entry *e)
{
    memcpy(e->prefix, e->has_serial ? e->serial : e->fp, ACL_PREFIX_LEN);
    prefix_fix(e->prefix);
}

static int decode(struct acl *a, const uint8_t *buf, size_t len)
{
    bool has_prefix[ACL_ENTRIES_MAX] = {false};
    struct tlv_reader r;
    uint8_t tag;
    const uint8_t *v;
    size_t n;

    a->count = 0;
    tlv_reader_init(&r, buf, len);
    while (tlv_next(&r, &tag, &v, &n)) {
        if (tag == ACL_TAG_SERIAL || tag == ACL_TAG_PREFIX) {
            if (decode_extra(a, tag, v, n, has_prefix) != 0)
                return -EINVAL;
            continue;
        }
        if (tag != ACL_TAG_ENTRY)
            continue; /* written by a newer firmware */
        if (n <= ACL_FP_LEN || n > ACL_FP_LEN + ACL_NAME_MAX || a->count == ACL_ENTRIES_MAX)
            return -EINVAL;
        struct acl_entry *e = &a->entries[a->count];
        memset(e, 0, sizeof(*e));
        memcpy(e->fp, v, ACL_FP_LEN);
        memcpy(e->name, v + ACL_FP_LEN, n - ACL_FP_LEN);
        e->name[n - ACL_FP_LEN] = '\0';
        if (!name_ok(e->name) || index_of(a, e->fp) >= 0)
            return -EINVAL;
        a->count++;
    }
    for (size_t i = 0; i < a->count; i++)
        if (!has_prefix[i])
            derive_prefix(&a->entries[i]);
    return r.bad ? -EINVAL : 0;
}

int acl_load(struct acl *a, const char **why)
{
    size_t len = 0;

    /* Read, then replace: the net task, which checks grants while the token task's fiber waits
     * for the token, sees the old list until the new one is whole, never an empty one. A token
     * that does not answer leaves what was loaded (it signs nothing either). */
    *why = "the token did not answer";
    if (token_data_read(a->token, OBJ_ACL, io, sizeof(io), &len) != CKR_OK)
        return -EIO;
    a->loaded = false;
    a->count = 0;
    *why = "the stored ACL is damaged; nobody is granted until it is rewritten";
    if (decode(a, io, len) != 0) {
        a->count = 0;
        return -EINVAL;
    }
    a->loaded = true;
    return 0;
}

/* Write entries[0..count) to the token; only then does RAM take them. */
static int store(struct acl *a, const struct acl_entry *entries, size_t count, const char **why)
{
    uint8_t item[ACL_FP_LEN + ACL_NAME_MAX];
    size_t len = 0;

    for (size_t i = 0; i < count; i++) {
        size_t n = strlen(entries[i].name);
        memcpy(item, entries[i].fp, ACL_FP_LEN);
        memcpy(item + ACL_FP_LEN, entries[i].name, n);
        int ret = tlv_put(io, sizeof(io), &len, ACL_TAG_ENTRY, item, ACL_FP_LEN + n);
        memcpy(item + ACL_FP_LEN, entries[i].prefix, ACL_PREFIX_LEN);
        if (!ret)
            ret = tlv_put(io, sizeof(io), &len, ACL_TAG_PREFIX, item, ACL_FP_LEN + ACL_PREFIX_LEN);
        if (!ret && entries[i].has_serial) {
            memcpy(item + ACL_FP_LEN, entries[i].serial, ACL_SERIAL_LEN);
            ret = tlv_put(io, sizeof(io), &len, ACL_TAG_SERIAL, item, ACL_FP_LEN + ACL_SERIAL_LEN);
        }
        if (ret) {
            *why = "the ACL does not fit in its token object";
            return -ENOSPC;
        }
    }
    *why = "could not store the ACL in the token";
    if (token_data_write(a->token, OBJ_ACL, io, len) != CKR_OK)
        return -EIO;
    if (entries != a->entries)
        memcpy(a->entries, entries, count * sizeof(*entries));
    a->count = count;
    return 0;
}

static int index_of(const struct acl *a, const uint8_t fp[ACL_FP_LEN])
{
    for (size_t i = 0; i < a->count; i++)
        if (memcmp(a->entries[i].fp, fp, ACL_FP_LEN) == 0)
            return (int)i;
    return -1;
}

int acl_grant(struct acl *a, const uint8_t fp[ACL_FP_LEN], const char *name, const char **why)
{
    static struct acl_entry next[ACL_ENTRIES_MAX];
    size_t count = a->count;

    *why = "the ACL is not loaded (log in)";
    if (!a->loaded)
        return -EIO;
    *why = "a name is 1-64 printable characters without spaces";
    if (!name_ok(name))
        return -EINVAL;
    memcpy(next, a->entries, count * sizeof(next[0]));
    int i = index_of(a, fp);
    if (i < 0) {
        *why = "the ACL is full (32 principals); revoke one first";
        if (count == ACL_ENTRIES_MAX)
            return -ENOSPC;
        i = (int)count++;
        memset(&next[i], 0, sizeof(next[i]));
        memcpy(next[i].fp, fp, ACL_FP_LEN);
        /* From the token's RNG: members sharing the token draw from one generator. */
        *why = "the token gave no random bytes";
        if (token_random(a->token, next[i].prefix, ACL_PREFIX_LEN) != CKR_OK)
            return -EIO;
        prefix_fix(next[i].prefix);
    }
    memcpy(next[i].name, name, strlen(name) + 1);
    return store(a, next, count, why);
}

int acl_revoke(struct acl *a, const uint8_t fp[ACL_FP_LEN], const char **why)
{
    static struct acl_entry next[ACL_ENTRIES_MAX];
    int i = index_of(a, fp);

    *why = "the ACL is not loaded (log in)";
    if (!a->loaded)
        return -EIO;
    *why = "that fingerprint is not granted";
    if (i < 0)
        return -ENOENT;
    size_t count = 0;
    for (size_t k = 0; k < a->count; k++)
        if ((int)k != i)
            next[count++] = a->entries[k];
    return store(a, next, count, why);
}

const struct acl_entry *acl_find(const struct acl *a, const uint8_t fp[ACL_FP_LEN])
{
    if (!a->loaded)
        return NULL;
    int i = index_of(a, fp);
    return i < 0 ? NULL : &a->entries[i];
}

int acl_parse_fingerprint(const char *text, uint8_t fp[ACL_FP_LEN])
{
    return hex_parse_fingerprint(text, fp, ACL_FP_LEN);
}
