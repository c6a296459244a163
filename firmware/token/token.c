#include "token.h"

#include <string.h>

#include "token_internal.h"

#include "crypto/ecdsa_der.h"
#include "crypto/p11/p11_client.h"
#include "crypto/sha256.h"
#include "crypto/spki.h"

static const CK_BBOOL yes = CK_TRUE;
static const CK_BBOOL no = CK_FALSE;

static void wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;
    while (n--)
        *v++ = 0;
}

void token_init(struct token *t)
{
    memset(t, 0, sizeof(*t));
    t->epoch = 1;
    t->slc = (struct token_key){.id = TOKEN_SLC_ID, .label = TOKEN_SLC_LABEL};
    t->tls = (struct token_key){.id = TOKEN_TLS_ID, .label = TOKEN_TLS_LABEL};
    t->ckek = (struct token_key){.id = TOKEN_CKEK_ID, .label = TOKEN_CKEK_LABEL};
    t->audit = (struct token_key){.id = TOKEN_AUDIT_ID, .label = TOKEN_AUDIT_LABEL};
    (void)p11_client_get_function_list(&t->f);
    (void)t->f->C_Initialize(NULL);
}

bool token_link_lost(CK_RV rv)
{
    return rv == CKR_DEVICE_ERROR || rv == CKR_DEVICE_REMOVED || rv == CKR_SESSION_HANDLE_INVALID ||
           rv == CKR_SESSION_CLOSED || rv == CKR_TOKEN_NOT_PRESENT;
}

static uint32_t link_generation(void)
{
    struct p11_link_stats st;
    p11_client_stats(&st);
    return st.up ? st.generation : 0;
}

/* A session on the current connection, logged in again if the operator had logged in. */
static CK_RV ensure_session(struct token *t)
{
    CK_SLOT_ID slots[4];
    CK_ULONG n = 4;
    CK_RV rv;

    if (t->have_session && t->session_gen == link_generation())
        return CKR_OK;
    bool reopened = t->session_gen != 0; /* an earlier session existed on an older connection */
    t->have_session = false;
    t->epoch++;
    rv = t->f->C_GetSlotList(CK_TRUE, slots, &n);
    if (rv != CKR_OK)
        return rv;
    if (n == 0)
        return CKR_TOKEN_NOT_PRESENT;
    t->slot = slots[0];
    rv = t->f->C_OpenSession(t->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &t->session);
    if (rv != CKR_OK)
        return rv;
    t->session_gen = link_generation();
    t->have_session = true;
    if (t->logged_in) {
        rv = t->f->C_Login(t->session, CKU_USER, t->pin, t->pin_len);
        if (rv == CKR_USER_ALREADY_LOGGED_IN)
            rv = CKR_OK;
        if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED || rv == CKR_PIN_EXPIRED) {
            /* The held PIN is no longer good (changed elsewhere?). Trying it again on every call
             * would burn the token's retry counter: forget it; the operator logs in anew. */
            wipe(t->pin, sizeof(t->pin));
            t->pin_len = 0;
            t->logged_in = false;
        }
        if (rv != CKR_OK)
            return rv;
        if (reopened)
            t->relogins++;
    }
    return CKR_OK;
}

/* Run op on a good session; if the link failed under it, once more on a fresh one. */
CK_RV token_with_session(struct token *t, token_op op, void *arg)
{
    CK_RV rv = CKR_DEVICE_ERROR;

    for (int attempt = 0; attempt < 2; attempt++) {
        rv = ensure_session(t);
        if (rv == CKR_OK)
            rv = op(t, arg);
        if (!token_link_lost(rv))
            return rv;
        t->have_session = false;
    }
    return rv;
}

struct login_arg {
    const uint8_t *pin;
    size_t len;
};

static CK_RV op_login(struct token *t, void *arg)
{
    struct login_arg *a = arg;
    CK_RV rv = t->f->C_Login(t->session, CKU_USER, (CK_UTF8CHAR_PTR)(uintptr_t)a->pin, a->len);
    return rv == CKR_USER_ALREADY_LOGGED_IN ? CKR_OK : rv;
}

CK_RV token_login(struct token *t, const uint8_t *pin, size_t len)
{
    struct login_arg a = {pin, len};
    CK_RV rv;

    if (len == 0 || len > sizeof(t->pin))
        return CKR_PIN_LEN_RANGE;
    /* A new login replaces the old one: log out first so a wrong PIN is not masked. */
    if (t->logged_in)
        (void)token_logout(t);
    rv = token_with_session(t, op_login, &a);
    if (rv != CKR_OK)
        return rv;
    memcpy(t->pin, pin, len);
    t->pin_len = len;
    t->logged_in = true;
    return CKR_OK;
}

CK_RV token_logout(struct token *t)
{
    CK_RV rv = CKR_OK;

    if (t->have_session && t->session_gen == link_generation())
        rv = t->f->C_Logout(t->session);
    wipe(t->pin, sizeof(t->pin));
    t->pin_len = 0;
    t->logged_in = false;
    t->epoch++;
    return (rv == CKR_USER_NOT_LOGGED_IN || token_link_lost(rv)) ? CKR_OK : rv;
}

static CK_RV op_info(struct token *t, void *arg)
{
    return t->f->C_GetTokenInfo(t->slot, arg);
}

CK_RV token_get_info(struct token *t, CK_TOKEN_INFO *info)
{
    return token_with_session(t, op_info, info);
}

struct mech_arg {
    CK_MECHANISM_TYPE *out;
    CK_ULONG *count;
};

static CK_RV op_mechs(struct token *t, void *arg)
{
    static const CK_MECHANISM_TYPE wanted[] = {
        CKM_RSA_PKCS_KEY_PAIR_GEN, CKM_SHA256_RSA_PKCS, CKM_RSA_PKCS_PSS, CKM_RSA_PKCS_OAEP,
        CKM_EC_KEY_PAIR_GEN,       CKM_ECDSA,           CKM_ECDSA_SHA256, CKM_AES_KEY_GEN,
        CKM_AES_KEY_WRAP_PAD,      CKM_AES_GCM,
    };
    struct mech_arg *a = arg;
    CK_MECHANISM_TYPE all[TOKEN_MECHS_MAX];
    CK_ULONG n = TOKEN_MECHS_MAX, cap = *a->count, found = 0;
    CK_RV rv = t->f->C_GetMechanismList(t->slot, all, &n);

    if (rv != CKR_OK)
        return rv;
    for (size_t w = 0; w < sizeof(wanted) / sizeof(wanted[0]); w++)
        for (CK_ULONG i = 0; i < n; i++)
            if (all[i] == wanted[w] && found < cap)
                a->out[found++] = wanted[w];
    *a->count = found;
    return CKR_OK;
}

CK_RV token_mechanisms(struct token *t, CK_MECHANISM_TYPE *mechs, CK_ULONG *count)
{
    struct mech_arg a = {mechs, count};
    return token_with_session(t, op_mechs, &a);
}

/* Keys and certificates are named by CKA_ID; data objects, which have none, by CKA_LABEL. */
static CK_ATTRIBUTE_TYPE name_attr(CK_OBJECT_CLASS cls)
{
    return cls == CKO_DATA ? CKA_LABEL : CKA_ID;
}

/* All objects of a class with this name, up to max. */
CK_RV token_find_by_id(struct token *t, CK_OBJECT_CLASS cls, const char *id, CK_OBJECT_HANDLE *out,
                       CK_ULONG max, CK_ULONG *n)
{
    CK_ATTRIBUTE q[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {name_attr(cls), (void *)(uintptr_t)id, strlen(id)},
    };
    CK_RV rv = t->f->C_FindObjectsInit(t->session, q, 2);

    if (rv != CKR_OK)
        return rv;
    rv = t->f->C_FindObjects(t->session, out, max, n);
    CK_RV fin = t->f->C_FindObjectsFinal(t->session);
    return rv != CKR_OK ? rv : fin;
}

static CK_RV key_alg_of(struct token *t, CK_OBJECT_HANDLE key, enum token_key_alg *alg)
{
    CK_KEY_TYPE kt = 0;
    CK_ATTRIBUTE a = {CKA_KEY_TYPE, &kt, sizeof(kt)};
    CK_RV rv = t->f->C_GetAttributeValue(t->session, key, &a, 1);

    if (rv != CKR_OK)
        return rv;
    if (kt == CKK_RSA)
        *alg = TOKEN_RSA2048;
    else if (kt == CKK_EC)
        *alg = TOKEN_P256;
    else
        return CKR_KEY_TYPE_INCONSISTENT;
    return CKR_OK;
}

/* "<id>-new": an object that is to replace <id> once it exists whole. */
static void staged_id(const char *id, char *out, size_t cap)
{
    size_t n = strlen(id);
    if (n + 5 > cap)
        n = cap - 5;
    memcpy(out, id, n);
    memcpy(out + n, "-new", 5);
}

/* Destroy every object of these classes with this name, or (to != NULL) rename them to; a few
 * rounds of finds, so that duplicates beyond one answer's worth go too (bounded: the token's
 * answers are not trusted to ever run out). */
static CK_RV each_with_id(struct token *t, const CK_OBJECT_CLASS *classes, int nclasses,
                          const char *id, const char *to)
{
    CK_OBJECT_HANDLE h[4];
    CK_ULONG n;
    CK_RV rv = CKR_OK;

    for (int c = 0; c < nclasses; c++) {
        CK_ATTRIBUTE set = {name_attr(classes[c]), (void *)(uintptr_t)to, to ? strlen(to) : 0};
        for (int round = 0; rv == CKR_OK && round < TOKEN_DUP_ROUNDS; round++) {
            rv = token_find_by_id(t, classes[c], id, h, 4, &n);
            if (rv != CKR_OK || n == 0)
                break;
            for (CK_ULONG i = 0; rv == CKR_OK && i < n; i++)
                rv = to ? t->f->C_SetAttributeValue(t->session, h[i], &set, 1)
                        : t->f->C_DestroyObject(t->session, h[i]);
        }
        if (rv != CKR_OK)
            return rv;
    }
    return CKR_OK;
}

/* Retiring and renaming go private half first: the old key stops signing at once, and the one
 * state a cut rename leaves (private half renamed, public half still staged) is told apart from
 * any other. Leftovers go public half first, so that clearing them never makes that state. */
static const CK_OBJECT_CLASS pair_classes[2] = {CKO_PRIVATE_KEY, CKO_PUBLIC_KEY};
static const CK_OBJECT_CLASS leftover_classes[2] = {CKO_PUBLIC_KEY, CKO_PRIVATE_KEY};

/* The halves of a key pair found under one name; counts stop at 2 ("more than one"). */
struct pair_found {
    CK_OBJECT_HANDLE priv[2], pub[2];
    CK_ULONG npriv, npub;
};

static CK_RV pair_find(struct token *t, const char *id, struct pair_found *p)
{
    CK_RV rv = token_find_by_id(t, CKO_PRIVATE_KEY, id, p->priv, 2, &p->npriv);

    if (rv == CKR_OK)
        rv = token_find_by_id(t, CKO_PUBLIC_KEY, id, p->pub, 2, &p->npub);
    return rv;
}

static bool pair_whole(const struct pair_found *p)
{
    return p->npriv == 1 && p->npub == 1;
}

static bool pair_none(const struct pair_found *p)
{
    return p->npriv == 0 && p->npub == 0;
}

/*
 * Finish or undo a replacement of the pair named id that was cut off (link drop, power cut),
 * deterministically from what the token holds (docs/hsm-link.md, "Replacing a key pair"):
 *   staged pair whole, current one not      -> retire what is left of the current, rename;
 *   current private half alone and staged
 *   public half alone                       -> the rename was cut between halves: finish it;
 *   anything else staged                    -> leftovers: destroy them, the current stays.
 * *cur is then what is in force: none, one whole pair (CKR_OK), or duplicates or half a pair
 * (TOKEN_RV_PAIR_DAMAGED: never used; key generate replaces it). *finished: a rename was done.
 * Needs a login: without one private halves are out of sight and nothing may be judged.
 */
static CK_RV pair_settle(struct token *t, const char *id, struct pair_found *cur, bool *finished)
{
    static const CK_OBJECT_CLASS pub_class[1] = {CKO_PUBLIC_KEY};
    char staged[TOKEN_ID_MAX];
    struct pair_found st;
    CK_RV rv;

    *finished = false;
    memset(cur, 0, sizeof(*cur));
    if (!t->logged_in)
        return CKR_USER_NOT_LOGGED_IN;
    staged_id(id, staged, sizeof(staged));
    rv = pair_find(t, id, cur);
    if (rv == CKR_OK)
        rv = pair_find(t, staged, &st);
    if (rv != CKR_OK || pair_none(&st))
        goto out;
    if (pair_whole(&st) && !pair_whole(cur)) {
        rv = each_with_id(t, pair_classes, 2, id, NULL);
        if (rv == CKR_OK)
            rv = each_with_id(t, pair_classes, 2, staged, id);
        *finished = rv == CKR_OK;
    } else if (cur->npriv == 1 && cur->npub == 0 && st.npriv == 0 && st.npub == 1) {
        rv = each_with_id(t, pub_class, 1, staged, id);
        *finished = rv == CKR_OK;
    } else {
        rv = each_with_id(t, leftover_classes, 2, staged, NULL);
    }
    if (rv == CKR_OK)
        rv = pair_find(t, id, cur);
out:
    if (rv == CKR_OK && !pair_none(cur) && !pair_whole(cur))
        rv = TOKEN_RV_PAIR_DAMAGED;
    return rv;
}

/* The cached handles, looked up (and an interrupted replacement settled) once per epoch. Not
 * found, or not logged in: CKR_OK with k->epoch stale. */
CK_RV token_lookup_key(struct token *t, struct token_key *k)
{
    struct pair_found cur;
    bool finished;
    CK_RV rv;

    if (k->epoch == t->epoch)
        return CKR_OK;
    rv = pair_settle(t, k->id, &cur, &finished);
    if (rv == CKR_USER_NOT_LOGGED_IN)
        return CKR_OK; /* no private key in sight: none to use */
    if (rv != CKR_OK || pair_none(&cur))
        return rv;
    rv = key_alg_of(t, cur.priv[0], &k->alg);
    if (rv != CKR_OK)
        return rv;
    k->priv = cur.priv[0];
    k->pub = cur.pub[0];
    k->epoch = t->epoch;
    return CKR_OK;
}

static CK_RV op_find_key(struct token *t, void *arg)
{
    return token_lookup_key(t, arg);
}

CK_RV token_find_key(struct token *t, struct token_key *k, bool *found, enum token_key_alg *alg)
{
    CK_RV rv = token_with_session(t, op_find_key, k);

    *found = rv == CKR_OK && k->epoch == t->epoch;
    if (*found && alg)
        *alg = k->alg;
    return rv;
}

struct gen_arg {
    struct token_key *k;
    enum token_key_alg alg;
    bool replace;
    bool unwrap; /* the CKEK: wrap/unwrap instead of verify/sign */
    bool tried;  /* the pair was asked for once already: this is the retry after a lost link */
};

static CK_RV op_generate(struct token *t, void *arg)
{
    struct gen_arg *g = arg;
    /* DER OID 1.2.840.10045.3.1.7, prime256v1 */
    static const uint8_t p256_oid[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
    static const uint8_t f4[] = {0x01, 0x00, 0x01};
    CK_ULONG bits = 2048;
    CK_OBJECT_HANDLE pub, priv;
    struct pair_found cur;
    bool finished;
    char staged[TOKEN_ID_MAX];
    CK_RV rv;

    t->epoch++; /* the pair is about to change under any cached handle */
    rv = pair_settle(t, g->k->id, &cur, &finished);
    /* The attempt the link cut off got far enough that its pair is the one in force. */
    if (g->tried && rv == CKR_OK && (finished || (pair_whole(&cur) && !g->replace)))
        return CKR_OK;
    if (rv == TOKEN_RV_PAIR_DAMAGED && g->replace)
        rv = CKR_OK; /* the damaged remains are retired with the rest below */
    if (rv != CKR_OK)
        return rv;
    if (!pair_none(&cur) && !g->replace)
        return CKR_FUNCTION_REJECTED;
    /* Made under the staged name, so that the current pair (if any) stays in force until the new
     * one exists whole; pair_settle finishes the rest wherever it is cut off. */
    staged_id(g->k->id, staged, sizeof(staged));
    const char *label = g->k->label;
    /* One purpose per key: a signing key never unwraps, the CKEK never signs (nor decrypts). */
    const CK_BBOOL *sign = g->unwrap ? &no : &yes, *unwrap = g->unwrap ? &yes : &no;
    CK_MECHANISM mech = {g->alg == TOKEN_RSA2048 ? CKM_RSA_PKCS_KEY_PAIR_GEN : CKM_EC_KEY_PAIR_GEN,
                         NULL, 0};
    CK_ATTRIBUTE pub_t[] = {
        {CKA_TOKEN, (void *)(uintptr_t)&yes, 1},
        {CKA_PRIVATE, (void *)(uintptr_t)&no, 1},
        {CKA_VERIFY, (void *)(uintptr_t)sign, 1},
        {CKA_ENCRYPT, (void *)(uintptr_t)&no, 1},
        {CKA_WRAP, (void *)(uintptr_t)unwrap, 1},
        {CKA_ID, staged, strlen(staged)},
        {CKA_LABEL, (void *)(uintptr_t)label, strlen(label)},
        {CKA_MODULUS_BITS, &bits, sizeof(bits)},
        {CKA_PUBLIC_EXPONENT, (void *)(uintptr_t)f4, sizeof(f4)},
    };
    CK_ATTRIBUTE priv_t[] = {
        {CKA_TOKEN, (void *)(uintptr_t)&yes, 1},
        {CKA_PRIVATE, (void *)(uintptr_t)&yes, 1},
        {CKA_SENSITIVE, (void *)(uintptr_t)&yes, 1},
        {CKA_EXTRACTABLE, (void *)(uintptr_t)&no, 1},
        {CKA_SIGN, (void *)(uintptr_t)sign, 1},
        {CKA_DECRYPT, (void *)(uintptr_t)&no, 1},
        {CKA_UNWRAP, (void *)(uintptr_t)unwrap, 1},
        {CKA_DERIVE, (void *)(uintptr_t)&no, 1},
        {CKA_ID, staged, strlen(staged)},
        {CKA_LABEL, (void *)(uintptr_t)label, strlen(label)},
    };
    CK_ULONG pub_n = sizeof(pub_t) / sizeof(pub_t[0]);
    if (g->alg == TOKEN_P256) {
        /* EC public template: the curve instead of modulus size and exponent. */
        pub_t[7] = (CK_ATTRIBUTE){CKA_EC_PARAMS, (void *)(uintptr_t)p256_oid, sizeof(p256_oid)};
        pub_n = 8;
    }
    g->tried = true;
    rv = t->f->C_GenerateKeyPair(t->session, &mech, pub_t, pub_n, priv_t,
                                 sizeof(priv_t) / sizeof(priv_t[0]), &pub, &priv);
    token_test_step(t, "key: new pair staged");
    if (rv == CKR_OK)
        rv = each_with_id(t, pair_classes, 2, g->k->id, NULL);
    token_test_step(t, "key: old pair retired");
    if (rv == CKR_OK)
        rv = each_with_id(t, pair_classes, 2, staged, g->k->id);
    token_test_step(t, "key: new pair in force");
    return rv;
}

CK_RV token_generate_key(struct token *t, struct token_key *k, enum token_key_alg alg, bool replace)
{
    struct gen_arg g = {k, alg, replace, false, false};
    return token_with_session(t, op_generate, &g);
}

CK_RV token_generate_unwrap_key(struct token *t, struct token_key *k, bool replace)
{
    struct gen_arg g = {k, TOKEN_RSA2048, replace, true, false};
    return token_with_session(t, op_generate, &g);
}

struct sign_arg {
    struct token_key *k;
    const uint8_t *data;
    size_t len;
    uint8_t *sig;
    size_t *sig_len;
};

/* Raw ECDSA over a digest: r || s. */
static CK_RV ecdsa_digest(struct token *t, struct token_key *k, const uint8_t *digest, size_t len,
                          uint8_t *rs, size_t *rs_len)
{
    CK_MECHANISM mech = {CKM_ECDSA, NULL, 0};
    CK_ULONG out = *rs_len;
    CK_RV rv = p11_client_sign(t->session, &mech, k->priv, digest, len, rs, &out);

    if (rv == CKR_OK)
        *rs_len = out;
    return rv;
}

/* What the token signs for k over data: RSA takes the data, EC its digest (made in digest[]). */
static void sign_input(const struct token_key *k, const uint8_t *data, size_t len,
                       uint8_t digest[SHA256_LEN], CK_MECHANISM *mech, const uint8_t **in,
                       size_t *in_len)
{
    if (k->alg == TOKEN_RSA2048) {
        *mech = (CK_MECHANISM){CKM_SHA256_RSA_PKCS, NULL, 0};
        *in = data;
        *in_len = len;
        return;
    }
    /* Tokens need not offer CKM_ECDSA_SHA256 (SoftHSM2 2.6 does not): hash here, sign the digest
     * with plain CKM_ECDSA, and hand out the DER form X.509 uses. */
    sha256(data, len, digest);
    *mech = (CK_MECHANISM){CKM_ECDSA, NULL, 0};
    *in = digest;
    *in_len = SHA256_LEN;
}

/* The token's answer as X.509 wants it: RSA as it is, EC's r || s as DER. */
static CK_RV sign_output(const struct token_key *k, const uint8_t *raw, size_t raw_len,
                         uint8_t *sig, size_t cap, size_t *sig_len)
{
    if (k->alg == TOKEN_RSA2048) {
        if (raw_len > cap)
            return CKR_BUFFER_TOO_SMALL;
        memcpy(sig, raw, raw_len);
        *sig_len = raw_len;
        return CKR_OK;
    }
    if (ecdsa_raw_to_der(raw, raw_len, sig, cap, sig_len) != 0)
        return CKR_DEVICE_ERROR; /* the token answered with something that is no r || s */
    return CKR_OK;
}

/* A signature of data with k: what token_sign passes to op_sign. */
struct sign_job {
    struct token_key *k;
    const uint8_t *data;
    size_t len;
    uint8_t digest[32];
    uint8_t raw[TOKEN_SIG_MAX];
    CK_ULONG raw_len;
    uint8_t sig[TOKEN_SIG_MAX];
    size_t sig_len;
};

/* C_SignInit + C_Sign in one round trip (p11_client_sign), then the signature as X.509 has it. */
static CK_RV op_sign(struct token *t, void *arg)
{
    struct sign_job *j = arg;
    CK_MECHANISM mech;
    const uint8_t *in;
    size_t in_len;
    CK_RV rv = token_lookup_key(t, j->k);

    if (rv != CKR_OK)
        return rv;
    if (j->k->epoch != t->epoch)
        return CKR_KEY_HANDLE_INVALID;
    sign_input(j->k, j->data, j->len, j->digest, &mech, &in, &in_len);
    j->raw_len = sizeof(j->raw);
    rv = p11_client_sign(t->session, &mech, j->k->priv, in, in_len, j->raw, &j->raw_len);
    if (rv == CKR_OK)
        rv = sign_output(j->k, j->raw, j->raw_len, j->sig, sizeof(j->sig), &j->sig_len);
    return rv;
}

CK_RV token_sign(struct token *t, struct token_key *k, const uint8_t *data, size_t len,
                 uint8_t *sig, size_t *sig_len)
{
    static struct sign_job j; /* one operation at a time; too large for a task's stack */
    CK_RV rv;

    j = (struct sign_job){.k = k, .data = data, .len = len};
    rv = token_with_session(t, op_sign, &j);
    if (rv == CKR_OK && j.sig_len > *sig_len)
        rv = CKR_BUFFER_TOO_SMALL;
    if (rv == CKR_OK) {
        memcpy(sig, j.sig, j.sig_len);
        *sig_len = j.sig_len;
    }
    return rv;
}

static CK_RV op_sign_digest(struct token *t, void *arg)
{
    struct sign_arg *s = arg;
    CK_RV rv = token_lookup_key(t, s->k);

    if (rv != CKR_OK)
        return rv;
    if (s->k->epoch != t->epoch)
        return CKR_KEY_HANDLE_INVALID;
    if (s->k->alg != TOKEN_P256)
        return CKR_KEY_TYPE_INCONSISTENT;
    rv = ecdsa_digest(t, s->k, s->data, s->len, s->sig, s->sig_len);
    /* P-256: r and s are 32 bytes each; anything else is not a signature we can use. */
    if (rv == CKR_OK && *s->sig_len != 64)
        return CKR_DEVICE_ERROR;
    return rv;
}

CK_RV token_sign_digest(struct token *t, struct token_key *k, const uint8_t *digest, size_t len,
                        uint8_t *rs, size_t *rs_len)
{
    struct sign_arg s = {k, digest, len, rs, rs_len};
    return token_with_session(t, op_sign_digest, &s);
}

/* DER DigestInfo for SHA-256 (RFC 8017 §9.2, note 1): what CKM_SHA256_RSA_PKCS puts before the
 * hash, so that CKM_RSA_PKCS over it makes the same signature. */
static const uint8_t digest_info_sha256[19] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
                                               0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                                               0x01, 0x05, 0x00, 0x04, 0x20};

struct sha256_sign_arg {
    struct token_key *k;
    const uint8_t *digest;
    uint8_t *sig;
    size_t cap;
    size_t *sig_len;
};

static CK_RV op_sign_sha256(struct token *t, void *arg)
{
    struct sha256_sign_arg *s = arg;
    uint8_t in[sizeof(digest_info_sha256) + SHA256_LEN];
    uint8_t raw[TOKEN_SIG_MAX];
    CK_ULONG raw_len = sizeof(raw);
    CK_MECHANISM mech = {CKM_ECDSA, NULL, 0};
    size_t in_len = SHA256_LEN;
    CK_RV rv = token_lookup_key(t, s->k);

    if (rv != CKR_OK)
        return rv;
    if (s->k->epoch != t->epoch)
        return CKR_KEY_HANDLE_INVALID;
    if (s->k->alg == TOKEN_RSA2048) {
        memcpy(in, digest_info_sha256, sizeof(digest_info_sha256));
        memcpy(in + sizeof(digest_info_sha256), s->digest, SHA256_LEN);
        in_len = sizeof(in);
        mech.mechanism = CKM_RSA_PKCS;
    } else {
        memcpy(in, s->digest, SHA256_LEN);
    }
    rv = p11_client_sign(t->session, &mech, s->k->priv, in, in_len, raw, &raw_len);
    if (rv != CKR_OK)
        return rv;
    return sign_output(s->k, raw, raw_len, s->sig, s->cap, s->sig_len);
}

CK_RV token_sign_sha256(struct token *t, struct token_key *k, const uint8_t digest[32],
                        uint8_t *sig, size_t *sig_len)
{
    struct sha256_sign_arg s = {k, digest, sig, *sig_len, sig_len};
    return token_with_session(t, op_sign_sha256, &s);
}

/* One attribute of one object into out[cap], bounded; *len is its length. */
static CK_RV read_attr(struct token *t, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, uint8_t *out,
                       size_t cap, size_t *len)
{
    CK_ATTRIBUTE a = {type, NULL, 0};
    CK_RV rv = t->f->C_GetAttributeValue(t->session, h, &a, 1);

    if (rv != CKR_OK)
        return rv;
    if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen > cap)
        return CKR_BUFFER_TOO_SMALL;
    a.pValue = out;
    rv = t->f->C_GetAttributeValue(t->session, h, &a, 1);
    if (rv == CKR_OK && a.ulValueLen > cap)
        return CKR_DEVICE_ERROR; /* grew between the two calls: not an answer to trust */
    *len = a.ulValueLen;
    return rv;
}

struct blob_arg {
    const char *id;
    uint8_t *out;
    size_t cap;
    size_t *len;
};

/* The uncompressed point of the public key h, bounded by cap. */
static CK_RV ec_point_of(struct token *t, CK_OBJECT_HANDLE h, uint8_t *out, size_t cap,
                         size_t *out_len)
{
    uint8_t der[2 + 133];
    size_t len = 0;
    CK_RV rv = read_attr(t, h, CKA_EC_POINT, der, sizeof(der), &len);

    if (rv != CKR_OK)
        return rv;
    /* PKCS#11 wants the point DER-wrapped in an OCTET STRING; some tokens give it bare. */
    const uint8_t *pt = der;
    if (len >= 2 && der[0] == 0x04 && der[1] < 0x80 && (size_t)der[1] + 2 == len) {
        pt = der + 2;
        len -= 2;
    }
    if (len == 0 || pt[0] != 0x04 || len > cap)
        return CKR_DEVICE_ERROR;
    memcpy(out, pt, len);
    *out_len = len;
    return CKR_OK;
}

struct spki_arg {
    struct token_key *k;
    uint8_t *out;
    size_t cap;
    size_t *len;
};

/* The key's public half as token_lookup_key found it with the private one: one pair, whole. */
static CK_RV lookup_pub(struct token *t, struct token_key *k)
{
    CK_RV rv = token_lookup_key(t, k);

    if (rv == CKR_OK && (k->epoch != t->epoch || k->pub == CK_INVALID_HANDLE))
        rv = CKR_KEY_HANDLE_INVALID;
    return rv;
}

static CK_RV op_ec_point(struct token *t, void *arg)
{
    struct spki_arg *a = arg;
    CK_RV rv = lookup_pub(t, a->k);

    return rv == CKR_OK ? ec_point_of(t, a->k->pub, a->out, a->cap, a->len) : rv;
}

CK_RV token_ec_point(struct token *t, struct token_key *k, uint8_t *out, size_t cap, size_t *len)
{
    struct spki_arg a = {k, out, cap, len};
    return token_with_session(t, op_ec_point, &a);
}

/* The value of the object of this class and name. A replacement cut off between retiring the old
 * object and renaming the new one is finished here: the new one is the one. *len = 0: none. */
static CK_RV read_named(struct token *t, CK_OBJECT_CLASS cls, struct blob_arg *b)
{
    const CK_OBJECT_CLASS classes[1] = {cls};
    CK_OBJECT_HANDLE h[1];
    CK_ULONG n = 0;
    char staged[TOKEN_ID_MAX];
    CK_RV rv = token_find_by_id(t, cls, b->id, h, 1, &n);

    *b->len = 0;
    if (rv == CKR_OK && n == 0) {
        staged_id(b->id, staged, sizeof(staged));
        rv = each_with_id(t, classes, 1, staged, b->id);
        if (rv == CKR_OK)
            rv = token_find_by_id(t, cls, b->id, h, 1, &n);
    }
    if (rv != CKR_OK || n == 0)
        return rv;
    return read_attr(t, h[0], CKA_VALUE, b->out, b->cap, b->len);
}

/*
 * Create the object tmpl describes — its name attribute set to the staged name — then retire
 * the one it replaces and let it take the name. A power cut at any point leaves the old object
 * in force (before the retirement) or the new one (after; read_named finishes a rename).
 */
static CK_RV replace_named(struct token *t, CK_OBJECT_CLASS cls, const char *name,
                           const char *staged, CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
    const CK_OBJECT_CLASS classes[1] = {cls};
    CK_OBJECT_HANDLE h;
    CK_RV rv = each_with_id(t, classes, 1, staged, NULL);

    token_test_step(t, "replace: staged leftovers gone");
    if (rv == CKR_OK)
        rv = t->f->C_CreateObject(t->session, tmpl, n, &h);
    token_test_step(t, "replace: new object staged");
    if (rv == CKR_OK)
        rv = each_with_id(t, classes, 1, name, NULL);
    token_test_step(t, "replace: old object retired");
    if (rv == CKR_OK)
        rv = each_with_id(t, classes, 1, staged, name);
    token_test_step(t, "replace: new object in force");
    return rv;
}

static CK_RV op_cert_read(struct token *t, void *arg)
{
    return read_named(t, CKO_CERTIFICATE, arg);
}

CK_RV token_cert_read(struct token *t, const char *id, uint8_t *der, size_t cap, size_t *len)
{
    struct blob_arg b = {id, der, cap, len};
    return token_with_session(t, op_cert_read, &b);
}

struct cert_arg {
    const char *id, *label;
    const uint8_t *der, *subject;
    size_t len, subject_len;
};

static CK_RV op_cert_write(struct token *t, void *arg)
{
    struct cert_arg *c = arg;
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_CERTIFICATE_TYPE ct = CKC_X_509;
    char staged[TOKEN_ID_MAX];

    staged_id(c->id, staged, sizeof(staged));
    CK_ATTRIBUTE tmpl[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_CERTIFICATE_TYPE, &ct, sizeof(ct)},
        {CKA_TOKEN, (void *)(uintptr_t)&yes, 1},
        {CKA_PRIVATE, (void *)(uintptr_t)&no, 1},
        {CKA_ID, staged, strlen(staged)},
        {CKA_LABEL, (void *)(uintptr_t)c->label, strlen(c->label)},
        {CKA_SUBJECT, (void *)(uintptr_t)c->subject, c->subject_len},
        {CKA_VALUE, (void *)(uintptr_t)c->der, c->len},
    };
    return replace_named(t, cls, c->id, staged, tmpl, sizeof(tmpl) / sizeof(tmpl[0]));
}

CK_RV token_cert_write(struct token *t, const char *id, const char *label, const uint8_t *der,
                       size_t len, const uint8_t *subject, size_t subject_len)
{
    struct cert_arg c = {id, label, der, subject, len, subject_len};
    return token_with_session(t, op_cert_write, &c);
}

static CK_RV op_data_read(struct token *t, void *arg)
{
    return read_named(t, CKO_DATA, arg);
}

CK_RV token_data_read(struct token *t, const char *name, uint8_t *out, size_t cap, size_t *len)
{
    struct blob_arg b = {name, out, cap, len};
    return token_with_session(t, op_data_read, &b);
}

static CK_RV op_data_write(struct token *t, void *arg)
{
    static const char app[] = "signet";
    struct cert_arg *c = arg;
    CK_OBJECT_CLASS cls = CKO_DATA;
    char staged[TOKEN_ID_MAX];

    staged_id(c->id, staged, sizeof(staged));
    /* Private: only a logged-in user reads it or, more to the point, changes it. */
    CK_ATTRIBUTE tmpl[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_TOKEN, (void *)(uintptr_t)&yes, 1},
        {CKA_PRIVATE, (void *)(uintptr_t)&yes, 1},
        {CKA_APPLICATION, (void *)(uintptr_t)app, sizeof(app) - 1},
        {CKA_LABEL, staged, strlen(staged)},
        {CKA_VALUE, (void *)(uintptr_t)c->der, c->len},
    };
    return replace_named(t, cls, c->id, staged, tmpl, sizeof(tmpl) / sizeof(tmpl[0]));
}

CK_RV token_data_write(struct token *t, const char *name, const uint8_t *data, size_t len)
{
    struct cert_arg c = {name, NULL, data, NULL, len, 0};
    return token_with_session(t, op_data_write, &c);
}

static CK_RV op_public_spki(struct token *t, void *arg)
{
    struct spki_arg *a = arg;
    uint8_t n[512], e[8], point[65];
    size_t n_len = 0, e_len = 0, point_len = 0;
    CK_RV rv = lookup_pub(t, a->k);

    if (rv != CKR_OK)
        return rv;
    if (a->k->alg == TOKEN_P256) {
        rv = ec_point_of(t, a->k->pub, point, sizeof(point), &point_len);
        if (rv == CKR_OK && spki_from_p256(point, point_len, a->out, a->cap, a->len) != 0)
            rv = CKR_DEVICE_ERROR;
        return rv;
    }
    rv = read_attr(t, a->k->pub, CKA_MODULUS, n, sizeof(n), &n_len);
    if (rv == CKR_OK)
        rv = read_attr(t, a->k->pub, CKA_PUBLIC_EXPONENT, e, sizeof(e), &e_len);
    /* What the token says is untrusted: it must make a sane RSA public key. */
    if (rv == CKR_OK && spki_from_rsa(n, n_len, e, e_len, a->out, a->cap, a->len) != 0)
        rv = CKR_DEVICE_ERROR;
    return rv;
}

CK_RV token_public_spki(struct token *t, struct token_key *k, uint8_t *out, size_t cap, size_t *len)
{
    struct spki_arg a = {k, out, cap, len};
    return token_with_session(t, op_public_spki, &a);
}

struct random_arg {
    uint8_t *out;
    size_t len;
};

static CK_RV op_random(struct token *t, void *arg)
{
    struct random_arg *r = arg;
    return t->f->C_GenerateRandom(t->session, r->out, r->len);
}

CK_RV token_random(struct token *t, uint8_t *out, size_t len)
{
    struct random_arg r = {out, len};
    return token_with_session(t, op_random, &r);
}

const char *token_rv_name(CK_RV rv)
{
    switch (rv) {
    case CKR_OK:
        return "ok";
    case CKR_PIN_INCORRECT:
        return "PIN incorrect";
    case CKR_PIN_LOCKED:
        return "PIN locked: the token refuses further logins until its SO resets the PIN";
    case CKR_PIN_LEN_RANGE:
        return "PIN length out of range";
    case CKR_USER_NOT_LOGGED_IN:
        return "not logged in to the token";
    case CKR_DEVICE_ERROR:
    case CKR_DEVICE_REMOVED:
        return "token link down";
    case CKR_TOKEN_NOT_PRESENT:
        return "no token on the link";
    case CKR_KEY_HANDLE_INVALID:
        return "no SLC key in the token (key generate)";
    case CKR_FUNCTION_REJECTED:
        return "an SLC key already exists";
    case CKR_MECHANISM_INVALID:
        return "the token does not support this mechanism";
    case CKR_DEVICE_MEMORY:
        return "the token is out of memory";
    case CKR_ARGUMENTS_BAD:
        return "request too large for the link";
    case CKR_WRAPPED_KEY_INVALID:
        return "the wrapped key does not open with this cluster's CKEK (another's, or altered)";
    case CKR_KEY_TYPE_INCONSISTENT:
        return "not an RSA public key of 2048 to 4096 bits";
    case TOKEN_RV_PAIR_DAMAGED:
        return "the token holds more than one key, or half a pair, under one id (key generate "
               "replaces the SLC key)";
    default:
        return "token error";
    }
}

/*
 * One try, never the retry on a fresh session that token_with_session makes: if the answer was
 * lost the token may already hold the new PIN, and logging in again with the old one would spend
 * a try of its retry counter.
 */
CK_RV token_set_pin(struct token *t, const uint8_t *old_pin, size_t old_len, const uint8_t *new_pin,
                    size_t new_len)
{
    CK_RV rv = CKR_USER_NOT_LOGGED_IN;

    if (!t->logged_in)
        goto out;
    rv = CKR_PIN_LEN_RANGE;
    if (old_len == 0 || old_len > sizeof(t->pin) || new_len == 0 || new_len > sizeof(t->pin))
        goto out;
    rv = ensure_session(t);
    if (rv != CKR_OK)
        goto out;
    rv = t->f->C_SetPIN(t->session, (CK_UTF8CHAR_PTR)(uintptr_t)old_pin, old_len,
                        (CK_UTF8CHAR_PTR)(uintptr_t)new_pin, new_len);
    if (rv != CKR_OK)
        goto out;
    /* Re-login after a link loss must use the PIN the token now has. */
    wipe(t->pin, sizeof(t->pin));
    memcpy(t->pin, new_pin, new_len);
    t->pin_len = new_len;
out:
    return rv;
}
