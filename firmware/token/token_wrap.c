/*
 * firmware/token/token_wrap.c — the content-key encryption key (CKEK) and content keys.
 *
 * A content key is an AES-256 session object generated (publishing) or unwrapped (licensing)
 * inside the token, wrapped with RSA-OAEP to the CKEK's public key and to a user's public key,
 * and destroyed before the call returns: its clear value never crosses the link, so it never
 * exists in firmware memory. A user's public key is imported as a session object and kept in a
 * small cache (struct token_user_key), so that licensing a returning user costs no import.
 *
 * Round trips (warm caches: the CKEK looked up, the user's key imported):
 *   token_content_key_new     2  C_GenerateKey; C_WrapKey x2 + C_DestroyObject pipelined
 *   token_content_key_rewrap  2  C_UnwrapKey; C_WrapKey + C_DestroyObject pipelined
 * plus, once per epoch, the CKEK look-up (4 + 3 for the public half: find init/find/final and
 * the key type), and per new user key one C_CreateObject (and one C_DestroyObject when the
 * cache is full and the least recently used key goes).
 */
#include <string.h>

#include "crypto/p11/p11_client.h"
#include "crypto/sha256.h"
#include "crypto/spki.h"
#include "token.h"
#include "token_internal.h"

static const CK_BBOOL yes = CK_TRUE;
static const CK_BBOOL no = CK_FALSE;

/* SoftHSM2 2.6 implements OAEP with SHA-1 and MGF1-SHA1 only, and no label (source data). */
#define OAEP_SHA1_PARAMS                                                                           \
    {                                                                                              \
        CKM_SHA_1, CKG_MGF1_SHA1, CKZ_DATA_SPECIFIED, NULL, 0                                      \
    }

#define RSA_MODULUS_MAX  (SPKI_RSA_MAX_BITS / 8)
#define CKEK_WRAPPED_LEN 256 /* RSA-2048: an OAEP block is as long as the modulus */

/* A user's key as parsed from its SubjectPublicKeyInfo, before anything reaches the token. */
struct user_key {
    uint8_t spki_hash[SHA256_LEN];
    uint8_t n[RSA_MODULUS_MAX];
    uint8_t e[8];
    size_t n_len, e_len;
};

static CK_RV user_key_parse(const uint8_t *spki, size_t len, struct user_key *u)
{
    if (!spki || spki_rsa_parse(spki, len, u->n, sizeof(u->n), &u->n_len, u->e, sizeof(u->e),
                                &u->e_len) != 0)
        return CKR_KEY_TYPE_INCONSISTENT;
    sha256(spki, len, u->spki_hash);
    return CKR_OK;
}

/* ---- the CKEK ---- */

/* The CKEK's private handle (its presence), and the public one when want_pub. */
static CK_RV ckek_handles(struct token *t, struct token_key *k, bool want_pub)
{
    CK_OBJECT_HANDLE h[1];
    CK_ULONG n = 0;
    CK_RV rv = token_lookup_key(t, k);

    if (rv != CKR_OK)
        return rv;
    if (k->epoch != t->epoch)
        return CKR_KEY_HANDLE_INVALID; /* no CKEK in the token */
    if (k->alg != TOKEN_RSA2048)
        return CKR_KEY_TYPE_INCONSISTENT;
    if (!want_pub || k->pub != CK_INVALID_HANDLE)
        return CKR_OK;
    rv = token_find_by_id(t, CKO_PUBLIC_KEY, k->id, h, 1, &n);
    if (rv == CKR_OK && n == 0)
        rv = CKR_KEY_HANDLE_INVALID;
    if (rv == CKR_OK)
        k->pub = h[0];
    return rv;
}

/* A key handle the token no longer knows (another cluster member replaced the CKEK, say). */
static bool stale_handle(CK_RV rv)
{
    return rv == CKR_KEY_HANDLE_INVALID || rv == CKR_OBJECT_HANDLE_INVALID ||
           rv == CKR_WRAPPING_KEY_HANDLE_INVALID || rv == CKR_UNWRAPPING_KEY_HANDLE_INVALID;
}

/* ---- users' public keys ---- */

static bool same_session(const struct token *t, const struct token_user_key *e)
{
    return t->have_session && e->session == t->session && e->session_gen == t->session_gen;
}

/* Drop an entry; its object is destroyed if it still lives in this session (after a new
 * session it died with the old one, and its handle may name something else now). */
static CK_RV user_key_drop(struct token *t, struct token_user_key *e)
{
    CK_RV rv = CKR_OK;

    if (e->epoch && same_session(t, e))
        rv = t->f->C_DestroyObject(t->session, e->handle);
    memset(e, 0, sizeof(*e));
    return token_link_lost(rv) ? rv : CKR_OK;
}

CK_RV token_user_keys_expire(struct token *t)
{
    CK_RV rv = CKR_OK;

    for (size_t i = 0; i < TOKEN_USER_KEYS && rv == CKR_OK; i++)
        if (t->user_keys[i].epoch && t->user_keys[i].epoch != t->epoch)
            rv = user_key_drop(t, &t->user_keys[i]);
    return rv;
}

/* The user's key as a session object (CKA_WRAP only): from the cache, or imported now in place
 * of the least recently used one. */
static CK_RV user_key_handle(struct token *t, const struct user_key *u, struct token_user_key **out)
{
    static const CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
    static const CK_KEY_TYPE kt = CKK_RSA;
    static const char label[] = "signet-user-key";
    struct token_user_key *slot = &t->user_keys[0];
    CK_RV rv = token_user_keys_expire(t);

    if (rv != CKR_OK)
        return rv;
    for (size_t i = 0; i < TOKEN_USER_KEYS; i++) {
        struct token_user_key *e = &t->user_keys[i];
        if (e->epoch && memcmp(e->spki_hash, u->spki_hash, sizeof(u->spki_hash)) == 0) {
            e->used = ++t->user_key_clock;
            *out = e;
            return CKR_OK;
        }
        if (slot->epoch && (!e->epoch || e->used < slot->used))
            slot = e;
    }
    rv = user_key_drop(t, slot);
    if (rv != CKR_OK)
        return rv;
    CK_ATTRIBUTE tmpl[] = {
        {CKA_CLASS, (void *)(uintptr_t)&cls, sizeof(cls)},
        {CKA_KEY_TYPE, (void *)(uintptr_t)&kt, sizeof(kt)},
        {CKA_TOKEN, (void *)(uintptr_t)&no, 1},
        {CKA_PRIVATE, (void *)(uintptr_t)&no, 1},
        {CKA_WRAP, (void *)(uintptr_t)&yes, 1},
        {CKA_ENCRYPT, (void *)(uintptr_t)&no, 1},
        {CKA_VERIFY, (void *)(uintptr_t)&no, 1},
        {CKA_LABEL, (void *)(uintptr_t)label, sizeof(label) - 1},
        {CKA_MODULUS, (void *)(uintptr_t)u->n, u->n_len},
        {CKA_PUBLIC_EXPONENT, (void *)(uintptr_t)u->e, u->e_len},
    };
    rv = t->f->C_CreateObject(t->session, tmpl, sizeof(tmpl) / sizeof(tmpl[0]), &slot->handle);
    if (rv != CKR_OK)
        return rv;
    memcpy(slot->spki_hash, u->spki_hash, sizeof(u->spki_hash));
    slot->session = t->session;
    slot->session_gen = t->session_gen;
    slot->epoch = t->epoch;
    slot->used = ++t->user_key_clock;
    slot->modulus_len = u->n_len;
    *out = slot;
    return CKR_OK;
}

/* ---- content keys ---- */

/*
 * A content key's attributes: a session object, private and sensitive (its value is never
 * readable), extractable only so that it can be wrapped, and good for nothing else here.
 * value_len: CKA_VALUE_LEN, last, for generation; unwrapping passes all but it (the length is
 * the wrapped key's: whatever AES key a publisher wrapped to the CKEK is what its users get).
 */
#define CONTENT_KEY_TEMPLATE(value_len)                                                            \
    {                                                                                              \
        {CKA_CLASS, (void *)(uintptr_t)&secret_class, sizeof(secret_class)},                       \
            {CKA_KEY_TYPE, (void *)(uintptr_t)&aes_type, sizeof(aes_type)},                        \
            {CKA_TOKEN, (void *)(uintptr_t)&no, 1}, {CKA_PRIVATE, (void *)(uintptr_t)&yes, 1},     \
            {CKA_SENSITIVE, (void *)(uintptr_t)&yes, 1},                                           \
            {CKA_EXTRACTABLE, (void *)(uintptr_t)&yes, 1},                                         \
            {CKA_ENCRYPT, (void *)(uintptr_t)&no, 1}, {CKA_DECRYPT, (void *)(uintptr_t)&no, 1},    \
            {CKA_SIGN, (void *)(uintptr_t)&no, 1}, {CKA_VERIFY, (void *)(uintptr_t)&no, 1},        \
            {CKA_WRAP, (void *)(uintptr_t)&no, 1}, {CKA_UNWRAP, (void *)(uintptr_t)&no, 1},        \
            {CKA_DERIVE, (void *)(uintptr_t)&no, 1},                                               \
            {CKA_VALUE_LEN, (void *)(uintptr_t)(value_len), sizeof(CK_ULONG)},                     \
    }

static const CK_OBJECT_CLASS secret_class = CKO_SECRET_KEY;
static const CK_KEY_TYPE aes_type = CKK_AES;
static const CK_ULONG content_key_len = TOKEN_CONTENT_KEY_LEN;

/* Wrap key to n public keys and destroy it, in one round trip; if the token did not confirm
 * the destroy (and the session still lives), destroy it on its own. */
static CK_RV wrap_and_destroy(struct token *t, const CK_OBJECT_HANDLE *wrapping, CK_ULONG n,
                              CK_OBJECT_HANDLE key, uint8_t *const *out, size_t *const *out_len)
{
    CK_RSA_PKCS_OAEP_PARAMS oaep = OAEP_SHA1_PARAMS;
    CK_MECHANISM mech = {CKM_RSA_PKCS_OAEP, &oaep, sizeof(oaep)};
    CK_BYTE_PTR outs[P11_PIPELINE_WRAPS];
    CK_ULONG lens[P11_PIPELINE_WRAPS];
    CK_ULONG_PTR len_ptrs[P11_PIPELINE_WRAPS];
    bool destroyed = false;

    for (CK_ULONG i = 0; i < n; i++) {
        outs[i] = out[i];
        lens[i] = *out_len[i];
        len_ptrs[i] = &lens[i];
    }
    CK_RV rv =
        p11_client_wrap_destroy(t->session, &mech, wrapping, n, key, outs, len_ptrs, &destroyed);
    if (!destroyed && !token_link_lost(rv))
        (void)t->f->C_DestroyObject(t->session, key);
    for (CK_ULONG i = 0; rv == CKR_OK && i < n; i++)
        *out_len[i] = lens[i];
    return rv;
}

struct content_arg {
    struct token_key *ckek;
    const struct user_key *user;
    const uint8_t *wrapped;
    size_t wrapped_len;
    uint8_t *to_ckek, *to_user;
    size_t *to_ckek_len, *to_user_len;
};

/* After a failure on a handle the token no longer knows, look the keys up afresh next time. */
static CK_RV forget_stale(struct token *t, struct content_arg *a, struct token_user_key *u,
                          CK_RV rv)
{
    if (stale_handle(rv)) {
        a->ckek->epoch = 0;
        if (u)
            (void)user_key_drop(t, u);
    }
    return rv;
}

/* The handles both operations need: the CKEK's (public half to wrap to it, private half to
 * unwrap) and the user's key, with room for a wrap to it. */
static CK_RV content_handles(struct token *t, struct content_arg *a, bool wrap_to_ckek,
                             struct token_user_key **u)
{
    CK_RV rv = ckek_handles(t, a->ckek, wrap_to_ckek);

    if (rv == CKR_OK)
        rv = user_key_handle(t, a->user, u);
    if (rv == CKR_OK && *a->to_user_len < (*u)->modulus_len)
        rv = CKR_BUFFER_TOO_SMALL;
    return rv != CKR_OK ? forget_stale(t, a, *u, rv) : CKR_OK;
}

static CK_RV op_content_new(struct token *t, void *arg)
{
    struct content_arg *a = arg;
    struct token_user_key *u = NULL;
    CK_MECHANISM gen = {CKM_AES_KEY_GEN, NULL, 0};
    CK_ATTRIBUTE tmpl[] = CONTENT_KEY_TEMPLATE(&content_key_len);
    CK_OBJECT_HANDLE key;
    CK_RV rv = content_handles(t, a, true, &u);

    if (rv != CKR_OK)
        return rv;
    rv = t->f->C_GenerateKey(t->session, &gen, tmpl, sizeof(tmpl) / sizeof(tmpl[0]), &key);
    if (rv != CKR_OK)
        return rv;
    token_test_step(t, "content: key generated"); /* a test drops the link here */
    CK_OBJECT_HANDLE wrapping[2] = {a->ckek->pub, u->handle};
    uint8_t *const out[2] = {a->to_ckek, a->to_user};
    size_t *const out_len[2] = {a->to_ckek_len, a->to_user_len};
    rv = wrap_and_destroy(t, wrapping, 2, key, out, out_len);
    return forget_stale(t, a, u, rv);
}

CK_RV token_content_key_new(struct token *t, struct token_key *ckek, const uint8_t *user_spki,
                            size_t user_len, uint8_t *to_ckek, size_t *to_ckek_len,
                            uint8_t *to_user, size_t *to_user_len)
{
    struct user_key user;
    struct content_arg a = {ckek, &user, NULL, 0, to_ckek, to_user, to_ckek_len, to_user_len};
    CK_RV rv = user_key_parse(user_spki, user_len, &user);

    if (rv != CKR_OK)
        return rv;
    if (!to_ckek || !to_user || *to_ckek_len < CKEK_WRAPPED_LEN)
        return CKR_BUFFER_TOO_SMALL;
    return token_with_session(t, op_content_new, &a);
}

/* SoftHSM2 reports an OAEP block that does not decode (another key's, or altered) as a general
 * error and a block of the wrong size as a length error: to the caller, both mean the CKEK does
 * not open it. */
static CK_RV unwrap_refused(CK_RV rv)
{
    if (rv == CKR_GENERAL_ERROR || rv == CKR_WRAPPED_KEY_LEN_RANGE ||
        rv == CKR_ENCRYPTED_DATA_INVALID || rv == CKR_ENCRYPTED_DATA_LEN_RANGE)
        return CKR_WRAPPED_KEY_INVALID;
    return rv;
}

static CK_RV op_content_rewrap(struct token *t, void *arg)
{
    struct content_arg *a = arg;
    struct token_user_key *u = NULL;
    CK_RSA_PKCS_OAEP_PARAMS oaep = OAEP_SHA1_PARAMS;
    CK_MECHANISM mech = {CKM_RSA_PKCS_OAEP, &oaep, sizeof(oaep)};
    CK_ATTRIBUTE tmpl[] = CONTENT_KEY_TEMPLATE(&content_key_len);
    CK_OBJECT_HANDLE key;
    CK_RV rv = content_handles(t, a, false, &u);

    if (rv != CKR_OK)
        return rv;
    /* Without CKA_VALUE_LEN, which an unwrap template may not set (SoftHSM2: read-only). */
    rv = t->f->C_UnwrapKey(t->session, &mech, a->ckek->priv, (CK_BYTE_PTR)(uintptr_t)a->wrapped,
                           a->wrapped_len, tmpl, sizeof(tmpl) / sizeof(tmpl[0]) - 1, &key);
    if (rv != CKR_OK)
        return forget_stale(t, a, u, unwrap_refused(rv));
    token_test_step(t, "content: key unwrapped");
    uint8_t *const out[1] = {a->to_user};
    size_t *const out_len[1] = {a->to_user_len};
    rv = wrap_and_destroy(t, &u->handle, 1, key, out, out_len);
    return forget_stale(t, a, u, rv);
}

CK_RV token_content_key_rewrap(struct token *t, struct token_key *ckek, const uint8_t *wrapped,
                               size_t wrapped_len, const uint8_t *user_spki, size_t user_len,
                               uint8_t *out, size_t *out_len)
{
    struct user_key user;
    struct content_arg a = {ckek, &user, wrapped, wrapped_len, NULL, out, NULL, out_len};
    CK_RV rv = user_key_parse(user_spki, user_len, &user);

    if (rv != CKR_OK)
        return rv;
    /* Only a block as long as the CKEK's modulus can be one of ours: refuse others here. */
    if (!wrapped || wrapped_len != CKEK_WRAPPED_LEN)
        return CKR_WRAPPED_KEY_INVALID;
    if (!out)
        return CKR_BUFFER_TOO_SMALL;
    return token_with_session(t, op_content_rewrap, &a);
}
