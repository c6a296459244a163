/*
 * Replacing a key pair (firmware/token/token.c, op_generate and pair_settle) against an in-memory
 * token that can be cut off at any mutating call: the call takes effect (or not) and the link
 * drops, or the power goes (the appliance's RAM is lost; the token keeps what it has). Every cut
 * point, two cuts in a row (a cut during the recovery of a cut), and every combination of up to two
 * private and public halves under the name and the staged name: afterwards the key is one whole
 * pair whose halves belong together, or none, or it is refused as damaged — never used half.
 */
#include "firmware/token/token.h"

#include "crypto/p11/p11_client.h"
#include "crypto/spki.h"
#include "unit.h"

/* ---- the fake token ---- */

#define OBJS 32

struct obj {
    bool used;
    CK_OBJECT_CLASS cls;
    char id[TOKEN_ID_MAX];
    CK_KEY_TYPE kt;
    int pair; /* which C_GenerateKeyPair made it: the two halves of one pair share it */
};

static struct obj objs[OBJS];
static int pairs_made;
static CK_OBJECT_HANDLE hits[OBJS];
static CK_ULONG nfound, next_found;
static uint32_t generation = 1;
static bool link_up = true;

/* The cut: the cut_at-th mutating call from now fails with the link (taking effect first when
 * cut_applies); power_off: from then on nothing answers, as if the appliance were off. */
static int mutating, cut_at;
static bool cut_applies, power_cut, power_off;
static bool cut_again; /* the next mutating call after the cut is cut too (the retry's) */

static void token_reset(void)
{
    memset(objs, 0, sizeof(objs));
    pairs_made = 0;
    mutating = cut_at = 0;
    cut_again = false;
    power_off = false;
}

static bool dead(void)
{
    return power_off || !link_up;
}

/* Called by a mutating call: CKR_OK to go on; otherwise its answer (the call then takes effect
 * only when *apply). */
static CK_RV cut_point(bool *apply)
{
    *apply = true;
    if (dead())
        return (*apply = false), CKR_DEVICE_ERROR;
    if (!cut_at || ++mutating != cut_at)
        return CKR_OK;
    *apply = cut_applies;
    cut_at = cut_again ? mutating + 1 : 0;
    cut_again = false;
    link_up = false; /* the connection is gone: the next call reconnects */
    if (power_cut)
        power_off = true;
    return CKR_DEVICE_ERROR;
}

static int obj_new(CK_OBJECT_CLASS cls, const char *id, size_t id_len, CK_KEY_TYPE kt, int pair)
{
    for (int i = 0; i < OBJS; i++)
        if (!objs[i].used) {
            objs[i] = (struct obj){.used = true, .cls = cls, .kt = kt, .pair = pair};
            memcpy(objs[i].id, id, id_len < TOKEN_ID_MAX - 1 ? id_len : TOKEN_ID_MAX - 1);
            return i + 1;
        }
    return 0;
}

static struct obj *obj_of(CK_OBJECT_HANDLE h)
{
    return h >= 1 && h <= OBJS && objs[h - 1].used ? &objs[h - 1] : NULL;
}

static CK_RV f_initialize(CK_VOID_PTR a)
{
    (void)a;
    return CKR_OK;
}

static CK_RV f_slots(CK_BBOOL present, CK_SLOT_ID_PTR list, CK_ULONG_PTR n)
{
    (void)present;
    if (power_off)
        return CKR_DEVICE_ERROR;
    link_up = true; /* a call after a drop is a fresh connection */
    generation++;
    list[0] = 1;
    *n = 1;
    return CKR_OK;
}

static CK_RV f_open(CK_SLOT_ID s, CK_FLAGS fl, CK_VOID_PTR app, CK_NOTIFY nf,
                    CK_SESSION_HANDLE_PTR h)
{
    (void)s, (void)fl, (void)app, (void)nf;
    *h = 1;
    return dead() ? CKR_DEVICE_ERROR : CKR_OK;
}

static CK_RV f_login(CK_SESSION_HANDLE s, CK_USER_TYPE u, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
    (void)s, (void)u, (void)pin, (void)len;
    return dead() ? CKR_DEVICE_ERROR : CKR_OK;
}

static CK_RV f_logout(CK_SESSION_HANDLE s)
{
    (void)s;
    return CKR_OK;
}

static CK_RV f_find_init(CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR q, CK_ULONG n)
{
    CK_OBJECT_CLASS cls = 0;
    const char *id = NULL;
    size_t id_len = 0;

    (void)s;
    if (dead())
        return CKR_DEVICE_ERROR;
    for (CK_ULONG i = 0; i < n; i++) {
        if (q[i].type == CKA_CLASS)
            memcpy(&cls, q[i].pValue, sizeof(cls));
        if (q[i].type == CKA_ID) {
            id = q[i].pValue;
            id_len = q[i].ulValueLen;
        }
    }
    nfound = next_found = 0;
    for (int i = 0; i < OBJS; i++)
        if (objs[i].used && objs[i].cls == cls && id && strlen(objs[i].id) == id_len &&
            memcmp(objs[i].id, id, id_len) == 0)
            hits[nfound++] = (CK_OBJECT_HANDLE)i + 1;
    return CKR_OK;
}

static CK_RV f_find(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE_PTR out, CK_ULONG max, CK_ULONG_PTR n)
{
    (void)s;
    if (dead())
        return CKR_DEVICE_ERROR;
    *n = 0;
    while (next_found < nfound && *n < max)
        out[(*n)++] = hits[next_found++];
    return CKR_OK;
}

static CK_RV f_find_final(CK_SESSION_HANDLE s)
{
    (void)s;
    return dead() ? CKR_DEVICE_ERROR : CKR_OK;
}

static CK_RV f_get_attr(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_PTR a, CK_ULONG n)
{
    struct obj *o = obj_of(h);

    (void)s;
    if (dead())
        return CKR_DEVICE_ERROR;
    if (!o || n != 1 || a[0].type != CKA_KEY_TYPE)
        return CKR_OBJECT_HANDLE_INVALID;
    memcpy(a[0].pValue, &o->kt, sizeof(o->kt));
    return CKR_OK;
}

static CK_RV f_set_attr(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_PTR a, CK_ULONG n)
{
    struct obj *o = obj_of(h);
    bool apply;
    CK_RV rv = cut_point(&apply);

    (void)s;
    if (!o || n != 1 || a[0].type != CKA_ID || a[0].ulValueLen >= TOKEN_ID_MAX)
        return CKR_OBJECT_HANDLE_INVALID;
    if (apply) {
        memset(o->id, 0, sizeof(o->id));
        memcpy(o->id, a[0].pValue, a[0].ulValueLen);
    }
    return rv;
}

static CK_RV f_destroy(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h)
{
    struct obj *o = obj_of(h);
    bool apply;
    CK_RV rv = cut_point(&apply);

    (void)s;
    if (!o)
        return CKR_OBJECT_HANDLE_INVALID;
    if (apply)
        o->used = false;
    return rv;
}

static const char *template_id(CK_ATTRIBUTE_PTR t, CK_ULONG n, size_t *len)
{
    for (CK_ULONG i = 0; i < n; i++)
        if (t[i].type == CKA_ID) {
            *len = t[i].ulValueLen;
            return t[i].pValue;
        }
    *len = 0;
    return "";
}

static CK_RV f_genpair(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR pub_t,
                       CK_ULONG pub_n, CK_ATTRIBUTE_PTR priv_t, CK_ULONG priv_n,
                       CK_OBJECT_HANDLE_PTR pub, CK_OBJECT_HANDLE_PTR priv)
{
    CK_KEY_TYPE kt = m->mechanism == CKM_EC_KEY_PAIR_GEN ? CKK_EC : CKK_RSA;
    size_t pub_len, priv_len;
    const char *pub_id = template_id(pub_t, pub_n, &pub_len);
    const char *priv_id = template_id(priv_t, priv_n, &priv_len);
    bool apply;
    CK_RV rv = cut_point(&apply);

    (void)s;
    if (apply) {
        pairs_made++;
        *pub = (CK_OBJECT_HANDLE)obj_new(CKO_PUBLIC_KEY, pub_id, pub_len, kt, pairs_made);
        *priv = (CK_OBJECT_HANDLE)obj_new(CKO_PRIVATE_KEY, priv_id, priv_len, kt, pairs_made);
    }
    return rv;
}

static CK_FUNCTION_LIST fake = {
    .C_Initialize = f_initialize,
    .C_GetSlotList = f_slots,
    .C_OpenSession = f_open,
    .C_Login = f_login,
    .C_Logout = f_logout,
    .C_FindObjectsInit = f_find_init,
    .C_FindObjects = f_find,
    .C_FindObjectsFinal = f_find_final,
    .C_GetAttributeValue = f_get_attr,
    .C_SetAttributeValue = f_set_attr,
    .C_DestroyObject = f_destroy,
    .C_GenerateKeyPair = f_genpair,
};

/* ---- what token.c needs from below it (not exercised here) ---- */

CK_RV p11_client_get_function_list(CK_FUNCTION_LIST_PTR_PTR list)
{
    *list = &fake;
    return CKR_OK;
}

void p11_client_stats(struct p11_link_stats *out)
{
    memset(out, 0, sizeof(*out));
    out->up = link_up && !power_off;
    out->generation = generation;
}

CK_RV p11_client_sign(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k,
                      const uint8_t *data, size_t len, uint8_t *sig, CK_ULONG *sig_len)
{
    (void)s, (void)m, (void)k, (void)data, (void)len, (void)sig, (void)sig_len;
    return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV p11_client_sign_send(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k,
                           const uint8_t *data, size_t len, uint8_t *sig, CK_ULONG *sig_len)
{
    (void)s, (void)m, (void)k, (void)data, (void)len, (void)sig, (void)sig_len;
    return CKR_FUNCTION_NOT_SUPPORTED;
}

bool p11_client_sign_poll(CK_RV *rv)
{
    *rv = CKR_FUNCTION_NOT_SUPPORTED;
    return true;
}

CK_RV p11_client_sign_wait(void)
{
    return CKR_FUNCTION_NOT_SUPPORTED;
}

int spki_from_rsa(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len, uint8_t *out,
                  size_t cap, size_t *len)
{
    (void)n, (void)n_len, (void)e, (void)e_len, (void)out, (void)cap, (void)len;
    return -1;
}

int spki_from_p256(const uint8_t *point, size_t point_len, uint8_t *out, size_t cap, size_t *len)
{
    (void)point, (void)point_len, (void)out, (void)cap, (void)len;
    return -1;
}

/* ---- helpers ---- */

static struct token tok;

/* The appliance (re)starts: RAM is new, the token is as it was; the operator logs in. */
static void boot(void)
{
    power_off = false;
    link_up = true;
    token_init(&tok);
    (void)token_login(&tok, (const uint8_t *)"123456", 6);
}

static int count(CK_OBJECT_CLASS cls, const char *id)
{
    int n = 0;
    for (int i = 0; i < OBJS; i++)
        n += objs[i].used && objs[i].cls == cls && strcmp(objs[i].id, id) == 0;
    return n;
}

static int pair_of(CK_OBJECT_CLASS cls, const char *id)
{
    for (int i = 0; i < OBJS; i++)
        if (objs[i].used && objs[i].cls == cls && strcmp(objs[i].id, id) == 0)
            return objs[i].pair;
    return -1;
}

static void put(CK_OBJECT_CLASS cls, const char *id, int pair)
{
    CHECK(obj_new(cls, id, strlen(id), CKK_EC, pair) != 0);
}

/* What every cut must leave once the key is looked up again: one whole pair, halves of one
 * generation, nothing staged; its generation returned. */
static int one_whole_pair(void)
{
    bool found = false;
    CK_RV rv = token_find_key(&tok, &tok.slc, &found, NULL);

    if (rv != CKR_OK || !found)
        return -1;
    if (count(CKO_PRIVATE_KEY, TOKEN_SLC_ID) != 1 || count(CKO_PUBLIC_KEY, TOKEN_SLC_ID) != 1 ||
        count(CKO_PRIVATE_KEY, TOKEN_SLC_ID "-new") || count(CKO_PUBLIC_KEY, TOKEN_SLC_ID "-new"))
        return -1;
    int p = pair_of(CKO_PRIVATE_KEY, TOKEN_SLC_ID);
    return p == pair_of(CKO_PUBLIC_KEY, TOKEN_SLC_ID) ? p : -1;
}

/* A token holding the first key (generation 1), the appliance booted and logged in. */
static void with_first_key(void)
{
    token_reset();
    boot();
    CHECK_EQ(token_generate_key(&tok, &tok.slc, TOKEN_P256, false), CKR_OK);
    CHECK_EQ(one_whole_pair(), 1);
}

/* The mutating calls of one clean replacement. */
static int replace_calls(void)
{
    with_first_key();
    mutating = 0;
    cut_at = 1000; /* counts, never reached */
    CK_RV rv = token_generate_key(&tok, &tok.slc, TOKEN_P256, true);
    int n = mutating;
    cut_at = 0;
    return rv == CKR_OK ? n : -1;
}

/* ---- tests ---- */

TEST(clean_replacement_makes_one_new_pair)
{
    CHECK_EQ(replace_calls(), 5); /* generate, 2 destroys, 2 renames */
    CHECK_EQ(one_whole_pair(), 2);
    CHECK_EQ(token_generate_key(&tok, &tok.slc, TOKEN_P256, false), CKR_FUNCTION_REJECTED);
    CHECK_EQ(one_whole_pair(), 2);
}

TEST(link_drop_at_every_call_is_retried_to_one_pair)
{
    int calls = replace_calls();
    for (int applies = 0; applies < 2; applies++)
        for (int k = 1; k <= calls; k++) {
            with_first_key();
            mutating = 0;
            cut_at = k;
            cut_applies = applies;
            power_cut = false;
            CHECK_EQ(token_generate_key(&tok, &tok.slc, TOKEN_P256, true), CKR_OK);
            CHECK(one_whole_pair() >= 2); /* the new key (or a newer one made by the retry) */
        }
}

TEST(power_cut_at_every_call_leaves_old_or_new)
{
    int calls = replace_calls();
    for (int applies = 0; applies < 2; applies++)
        for (int k = 1; k <= calls; k++) {
            with_first_key();
            mutating = 0;
            cut_at = k;
            cut_applies = applies;
            power_cut = true;
            CHECK(token_generate_key(&tok, &tok.slc, TOKEN_P256, true) != CKR_OK);
            boot();
            int p = one_whole_pair();
            CHECK(p == 1 || p == 2);
            /* Before the old private half goes, the old key stays; from then on the new one. */
            CHECK_EQ(p, (k > 2 || (k == 2 && applies)) ? 2 : 1);
        }
}

TEST(power_cut_during_the_recovery_of_a_power_cut)
{
    int calls = replace_calls();
    for (int k = 1; k <= calls; k++)
        for (int j = 1; j <= 4; j++) {
            with_first_key();
            mutating = 0;
            cut_at = k;
            cut_applies = true;
            power_cut = true;
            (void)token_generate_key(&tok, &tok.slc, TOKEN_P256, true);
            boot(); /* the login's look-up settles; cut it too, at its j-th change */
            mutating = 0;
            cut_at = j;
            bool found;
            (void)token_find_key(&tok, &tok.slc, &found, NULL);
            cut_at = 0;
            boot();
            int p = one_whole_pair();
            CHECK(p == 1 || p == 2);
        }
}

TEST(link_drop_under_the_retry_too_is_settled_by_the_next_look_up)
{
    int calls = replace_calls();
    for (int k = 1; k <= calls; k++) {
        with_first_key();
        mutating = 0;
        cut_at = k;
        cut_applies = true;
        cut_again = true;
        power_cut = false;
        CHECK(token_generate_key(&tok, &tok.slc, TOKEN_P256, true) != CKR_OK);
        cut_at = 0;
        cut_again = false;
        int p = one_whole_pair();
        CHECK(p >= 1);
    }
}

TEST(first_key_cut_is_made_once)
{
    for (int k = 1; k <= 3; k++) {
        token_reset();
        boot();
        mutating = 0;
        cut_at = k;
        cut_applies = true;
        power_cut = false;
        CHECK_EQ(token_generate_key(&tok, &tok.slc, TOKEN_P256, false), CKR_OK);
        CHECK_EQ(one_whole_pair(), 1); /* the retry found its own pair, made no second */
        CHECK_EQ(pairs_made, 1);
    }
}

/* Every mix of 0..2 private and public halves under the name and the staged name, the halves
 * from different generations: the look-up leaves one matching pair or none, nothing staged, or
 * refuses a damaged key; replacing always ends with one new pair. */
TEST(every_mix_of_halves_is_settled_or_refused)
{
    for (int mix = 0; mix < 81; mix++) {
        int p = mix % 3, q = mix / 3 % 3, ps = mix / 9 % 3, qs = mix / 27;
        token_reset();
        for (int i = 0; i < p; i++)
            put(CKO_PRIVATE_KEY, TOKEN_SLC_ID, 10 + i);
        for (int i = 0; i < q; i++)
            put(CKO_PUBLIC_KEY, TOKEN_SLC_ID, q == 1 && p == 1 ? 10 : 20 + i);
        for (int i = 0; i < ps; i++)
            put(CKO_PRIVATE_KEY, TOKEN_SLC_ID "-new", 30 + i);
        for (int i = 0; i < qs; i++)
            put(CKO_PUBLIC_KEY, TOKEN_SLC_ID "-new", qs == 1 && ps == 1 ? 30 : 40 + i);
        /* The one state a cut rename leaves: the lone halves are one pair. */
        if (p == 1 && q == 0 && ps == 0 && qs == 1)
            objs[1].pair = objs[0].pair;
        boot();
        bool found = false;
        CK_RV rv = token_find_key(&tok, &tok.slc, &found, NULL);
        int left = count(CKO_PRIVATE_KEY, TOKEN_SLC_ID "-new") +
                   count(CKO_PUBLIC_KEY, TOKEN_SLC_ID "-new");
        int cp = count(CKO_PRIVATE_KEY, TOKEN_SLC_ID), cq = count(CKO_PUBLIC_KEY, TOKEN_SLC_ID);
        CHECK_EQ(left, 0);
        if (rv == CKR_OK) {
            CHECK((found && cp == 1 && cq == 1) || (!found && cp == 0 && cq == 0));
            if (found)
                CHECK_EQ(pair_of(CKO_PRIVATE_KEY, TOKEN_SLC_ID),
                         pair_of(CKO_PUBLIC_KEY, TOKEN_SLC_ID));
        } else {
            CHECK_EQ(rv, TOKEN_RV_PAIR_DAMAGED);
            CHECK(!found && !(cp == 1 && cq == 1) && cp + cq > 0);
            CHECK_EQ(token_generate_key(&tok, &tok.slc, TOKEN_P256, false), TOKEN_RV_PAIR_DAMAGED);
        }
        int before = pairs_made;
        CHECK_EQ(token_generate_key(&tok, &tok.slc, TOKEN_P256, true), CKR_OK);
        CHECK_EQ(one_whole_pair(), before + 1);
    }
}

TEST(not_logged_in_nothing_is_judged_or_changed)
{
    token_reset();
    put(CKO_PUBLIC_KEY, TOKEN_SLC_ID, 1); /* what is visible without a login */
    put(CKO_PRIVATE_KEY, TOKEN_SLC_ID "-new", 2);
    power_off = false;
    link_up = true;
    token_init(&tok);
    bool found = true;
    CHECK_EQ(token_find_key(&tok, &tok.slc, &found, NULL), CKR_OK);
    CHECK(!found);
    CHECK_EQ(count(CKO_PUBLIC_KEY, TOKEN_SLC_ID), 1);
    CHECK_EQ(count(CKO_PRIVATE_KEY, TOKEN_SLC_ID "-new"), 1);
}

int main(void)
{
    RUN(clean_replacement_makes_one_new_pair);
    RUN(link_drop_at_every_call_is_retried_to_one_pair);
    RUN(power_cut_at_every_call_leaves_old_or_new);
    RUN(power_cut_during_the_recovery_of_a_power_cut);
    RUN(link_drop_under_the_retry_too_is_settled_by_the_next_look_up);
    RUN(first_key_cut_is_made_once);
    RUN(every_mix_of_halves_is_settled_or_refused);
    RUN(not_logged_in_nothing_is_judged_or_changed);
    return unit_summary();
}
