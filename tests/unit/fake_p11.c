/* tests/unit/fake_p11.c — see fake_p11.h. */
#include "fake_p11.h"

#include <string.h>

#include "crypto/p11/p11_client.h"

#define USER_PIN     "123456"
#define SESSION_BASE 100

/* CKA_EC_POINT of every P-256 public key this fake generates: the curve's base point G, DER-wrapped
 * in an OCTET STRING. A valid public key with no secret behind it worth keeping: nothing here
 * signs, so tests that need signatures plant their own keys. */
static const uint8_t p256_g[] = {
    0x04, 0x41, 0x04, 0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6,
    0xe5, 0x63, 0xa4, 0x40, 0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4,
    0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96, 0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f,
    0x9b, 0x8e, 0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e, 0x16, 0x2b, 0xce, 0x33, 0x57, 0x6b,
    0x31, 0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51, 0xf5};

static struct fake_p11_obj objs[FAKE_P11_OBJS];
static int pairs_made;
static CK_OBJECT_HANDLE hits[FAKE_P11_OBJS];
static CK_ULONG nfound, next_found;
static uint32_t generation = 1;
static bool link_up = true, power_off, logged_in, session_open;
static CK_SESSION_HANDLE session;
static int calls, mutations;
static int fail_at; /* the fail_at-th call from the arming fails; 0: none armed */
static bool fail_applies, fail_powers_off;
static int mutating, cut_at; /* as fail_at, counted in mutating calls */
static bool cut_applies, cut_powers_off, cut_again;

/* Called as each call begins: where the firmware's fiber would park while the token works. */
static void (*on_call)(void);

void fake_p11_on_call(void (*fn)(void))
{
    on_call = fn;
}

void fake_p11_reset(void)
{
    on_call = NULL;
    memset(objs, 0, sizeof(objs));
    pairs_made = 0;
    nfound = next_found = 0;
    generation++;
    link_up = true;
    power_off = logged_in = session_open = false;
    calls = mutations = fail_at = 0;
    mutating = cut_at = 0;
    cut_again = false;
}

void fake_p11_cut_mutation_at(int nth, bool applies, bool power, bool again)
{
    cut_at = nth > 0 ? mutating + nth : 0;
    cut_applies = applies;
    cut_powers_off = power;
    cut_again = again;
}

int fake_p11_mutating_calls(void)
{
    return mutating;
}

int fake_p11_pairs_made(void)
{
    return pairs_made;
}

static void arm(int nth, bool applies, bool powers_off)
{
    fail_at = nth > 0 ? calls + nth : 0;
    fail_applies = applies;
    fail_powers_off = powers_off;
}

void fake_p11_fail_at(int nth, bool applies)
{
    arm(nth, applies, false);
}

void fake_p11_power_cut_at(int nth, bool applies)
{
    arm(nth, applies, true);
}

void fake_p11_power_on(void)
{
    power_off = false;
}

/* The connection goes: the server closes its sessions and their login with it. */
void fake_p11_link_lost(void)
{
    link_up = false;
    session_open = logged_in = false;
    for (int i = 0; i < FAKE_P11_OBJS; i++)
        if (objs[i].session_only)
            objs[i].used = false;
}

int fake_p11_calls(void)
{
    return calls;
}

int fake_p11_mutations(void)
{
    return mutations;
}

struct fake_p11_obj *fake_p11_objects(void)
{
    return objs;
}

static void name_copy(char *dst, const void *src, size_t len)
{
    memset(dst, 0, FAKE_P11_NAME_MAX);
    memcpy(dst, src, len < FAKE_P11_NAME_MAX - 1 ? len : FAKE_P11_NAME_MAX - 1);
}

static struct fake_p11_obj *obj_new(void)
{
    for (int i = 0; i < FAKE_P11_OBJS; i++)
        if (!objs[i].used) {
            memset(&objs[i], 0, sizeof(objs[i]));
            objs[i].used = true;
            return &objs[i];
        }
    return NULL;
}

static const char *name_of(const struct fake_p11_obj *o)
{
    return o->cls == CKO_DATA ? o->label : o->id;
}

struct fake_p11_obj *fake_p11_put(CK_OBJECT_CLASS cls, const char *name, const void *value,
                                  size_t len)
{
    struct fake_p11_obj *o = obj_new();

    if (!o || len > FAKE_P11_VALUE_MAX)
        return NULL;
    o->cls = cls;
    o->is_private = cls == CKO_DATA || cls == CKO_PRIVATE_KEY;
    name_copy(cls == CKO_DATA ? o->label : o->id, name, strlen(name));
    memcpy(o->value, value, len);
    o->value_len = len;
    return o;
}

int fake_p11_count(CK_OBJECT_CLASS cls, const char *name)
{
    int n = 0;

    for (int i = 0; i < FAKE_P11_OBJS; i++)
        n += objs[i].used && !objs[i].session_only && objs[i].cls == cls &&
             strcmp(name_of(&objs[i]), name) == 0;
    return n;
}

const struct fake_p11_obj *fake_p11_find(CK_OBJECT_CLASS cls, const char *name)
{
    if (fake_p11_count(cls, name) != 1)
        return NULL;
    for (int i = 0; i < FAKE_P11_OBJS; i++)
        if (objs[i].used && !objs[i].session_only && objs[i].cls == cls &&
            strcmp(name_of(&objs[i]), name) == 0)
            return &objs[i];
    return NULL;
}

/* Every call passes here first: CKR_OK to go on, else its answer. A mutating call that is cut
 * takes effect only when *apply comes back true. */
static CK_RV call_gate(bool *apply)
{
    *apply = true;
    calls++;
    if (on_call)
        on_call();
    if (power_off)
        return (*apply = false), CKR_DEVICE_ERROR;
    if (!fail_at || calls != fail_at)
        return CKR_OK;
    *apply = fail_applies;
    fail_at = 0;
    fake_p11_link_lost();
    if (fail_powers_off)
        power_off = true;
    return CKR_DEVICE_ERROR;
}

/* A non-mutating call's gate, and the session it names. */
static CK_RV session_gate(CK_SESSION_HANDLE s)
{
    bool apply;
    CK_RV rv = call_gate(&apply);

    if (rv != CKR_OK)
        return rv;
    if (!link_up)
        return CKR_DEVICE_ERROR; /* p11_client reconnects on the next C_GetSlotList */
    if (!session_open || s != session)
        return CKR_SESSION_HANDLE_INVALID;
    return CKR_OK;
}

static struct fake_p11_obj *obj_of(CK_OBJECT_HANDLE h)
{
    struct fake_p11_obj *o = h >= 1 && h <= FAKE_P11_OBJS ? &objs[h - 1] : NULL;
    return o && o->used && (!o->is_private || logged_in) ? o : NULL;
}

static CK_RV f_initialize(CK_VOID_PTR a)
{
    (void)a;
    return CKR_OK;
}

static CK_RV f_slots(CK_BBOOL present, CK_SLOT_ID_PTR list, CK_ULONG_PTR n)
{
    bool apply;
    CK_RV rv = call_gate(&apply);

    (void)present;
    if (rv != CKR_OK)
        return rv;
    if (!link_up) {
        link_up = true; /* a call after a drop is a fresh connection */
        generation++;
    }
    if (*n < 1)
        return CKR_BUFFER_TOO_SMALL;
    list[0] = 1;
    *n = 1;
    return CKR_OK;
}

static CK_RV f_open(CK_SLOT_ID slot, CK_FLAGS fl, CK_VOID_PTR app, CK_NOTIFY nf,
                    CK_SESSION_HANDLE_PTR h)
{
    bool apply;
    CK_RV rv = call_gate(&apply);

    (void)fl, (void)app, (void)nf;
    if (rv != CKR_OK)
        return rv;
    if (!link_up)
        return CKR_DEVICE_ERROR;
    if (slot != 1)
        return CKR_SLOT_ID_INVALID;
    session = SESSION_BASE + generation;
    session_open = true;
    *h = session;
    return CKR_OK;
}

static CK_RV f_login(CK_SESSION_HANDLE s, CK_USER_TYPE u, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
    CK_RV rv = session_gate(s);

    if (rv != CKR_OK)
        return rv;
    if (u != CKU_USER)
        return CKR_USER_TYPE_INVALID;
    if (logged_in)
        return CKR_USER_ALREADY_LOGGED_IN;
    if (len != strlen(USER_PIN) || memcmp(pin, USER_PIN, len) != 0)
        return CKR_PIN_INCORRECT;
    logged_in = true;
    return CKR_OK;
}

static CK_RV f_logout(CK_SESSION_HANDLE s)
{
    CK_RV rv = session_gate(s);

    if (rv != CKR_OK)
        return rv;
    if (!logged_in)
        return CKR_USER_NOT_LOGGED_IN;
    logged_in = false;
    return CKR_OK;
}

static bool matches(const struct fake_p11_obj *o, const CK_ATTRIBUTE *a)
{
    switch (a->type) {
    case CKA_CLASS:
        return a->ulValueLen == sizeof(o->cls) && memcmp(a->pValue, &o->cls, sizeof(o->cls)) == 0;
    case CKA_ID:
        return strlen(o->id) == a->ulValueLen && memcmp(o->id, a->pValue, a->ulValueLen) == 0;
    case CKA_LABEL:
        return strlen(o->label) == a->ulValueLen && memcmp(o->label, a->pValue, a->ulValueLen) == 0;
    case CKA_TOKEN:
        return a->ulValueLen == 1 && (*(const CK_BBOOL *)a->pValue != 0) == !o->session_only;
    case CKA_KEY_TYPE:
        return a->ulValueLen == sizeof(o->kt) && memcmp(a->pValue, &o->kt, sizeof(o->kt)) == 0;
    default:
        return false; /* an attribute this fake does not keep matches nothing */
    }
}

static CK_RV f_find_init(CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR q, CK_ULONG n)
{
    CK_RV rv = session_gate(s);

    if (rv != CKR_OK)
        return rv;
    nfound = next_found = 0;
    for (int i = 0; i < FAKE_P11_OBJS; i++) {
        const struct fake_p11_obj *o = obj_of((CK_OBJECT_HANDLE)i + 1);
        bool all = o != NULL;
        for (CK_ULONG k = 0; all && k < n; k++)
            all = matches(o, &q[k]);
        if (all)
            hits[nfound++] = (CK_OBJECT_HANDLE)i + 1;
    }
    return CKR_OK;
}

static CK_RV f_find(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE_PTR out, CK_ULONG max, CK_ULONG_PTR n)
{
    CK_RV rv = session_gate(s);

    if (rv != CKR_OK)
        return rv;
    *n = 0;
    while (next_found < nfound && *n < max)
        out[(*n)++] = hits[next_found++];
    return CKR_OK;
}

static CK_RV f_find_final(CK_SESSION_HANDLE s)
{
    return session_gate(s);
}

static CK_RV attr_out(CK_ATTRIBUTE *a, const void *v, size_t len)
{
    CK_ULONG cap = a->ulValueLen;

    a->ulValueLen = len;
    if (!a->pValue)
        return CKR_OK;
    if (cap < len) {
        a->ulValueLen = CK_UNAVAILABLE_INFORMATION;
        return CKR_BUFFER_TOO_SMALL;
    }
    memcpy(a->pValue, v, len);
    return CKR_OK;
}

static CK_RV f_get_attr(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_PTR a, CK_ULONG n)
{
    CK_RV rv = session_gate(s);
    struct fake_p11_obj *o = obj_of(h);

    for (CK_ULONG i = 0; rv == CKR_OK && i < n; i++) {
        if (!o)
            return CKR_OBJECT_HANDLE_INVALID;
        if (a[i].type == CKA_VALUE)
            rv = attr_out(&a[i], o->value, o->value_len);
        else if (a[i].type == CKA_EC_POINT && o->cls == CKO_PUBLIC_KEY && o->kt == CKK_EC)
            rv = attr_out(&a[i], p256_g, sizeof(p256_g));
        else if (a[i].type == CKA_KEY_TYPE)
            rv = attr_out(&a[i], &o->kt, sizeof(o->kt));
        else if (a[i].type == CKA_CLASS)
            rv = attr_out(&a[i], &o->cls, sizeof(o->cls));
        else if (a[i].type == CKA_ID)
            rv = attr_out(&a[i], o->id, strlen(o->id));
        else if (a[i].type == CKA_LABEL)
            rv = attr_out(&a[i], o->label, strlen(o->label));
        else
            return (a[i].ulValueLen = CK_UNAVAILABLE_INFORMATION), CKR_ATTRIBUTE_TYPE_INVALID;
    }
    return rv;
}

/* A mutating call's gate: the session must be good; *apply says whether it takes effect. */
static CK_RV mutating_gate(CK_SESSION_HANDLE s, bool *apply)
{
    CK_RV rv = call_gate(apply);

    if (rv == CKR_OK && (!link_up || !session_open || s != session))
        return (*apply = false), link_up ? CKR_SESSION_HANDLE_INVALID : CKR_DEVICE_ERROR;
    if (rv != CKR_OK)
        return rv;
    mutating++;
    if (!cut_at || mutating != cut_at)
        return rv;
    *apply = cut_applies;
    cut_at = cut_again ? mutating + 1 : 0;
    cut_again = false;
    fake_p11_link_lost();
    if (cut_powers_off)
        power_off = true;
    return CKR_DEVICE_ERROR;
}

static void applied(bool apply)
{
    mutations += apply;
}

static CK_RV set_one(struct fake_p11_obj *o, const CK_ATTRIBUTE *a, bool apply)
{
    switch (a->type) {
    case CKA_ID:
    case CKA_LABEL:
        if (a->ulValueLen >= FAKE_P11_NAME_MAX)
            return CKR_ATTRIBUTE_VALUE_INVALID;
        if (apply)
            name_copy(a->type == CKA_ID ? o->id : o->label, a->pValue, a->ulValueLen);
        return CKR_OK;
    default:
        return CKR_ATTRIBUTE_READ_ONLY;
    }
}

static CK_RV f_set_attr(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_PTR a, CK_ULONG n)
{
    struct fake_p11_obj *o = obj_of(h); /* before the gate: a cut logs the session out */
    bool apply;
    CK_RV rv = mutating_gate(s, &apply);

    if (!o)
        return rv != CKR_OK ? rv : CKR_OBJECT_HANDLE_INVALID;
    for (CK_ULONG i = 0; i < n; i++) {
        CK_RV bad = set_one(o, &a[i], false); /* all or nothing: check first */
        if (bad != CKR_OK)
            return rv != CKR_OK ? rv : bad;
    }
    for (CK_ULONG i = 0; apply && i < n; i++)
        (void)set_one(o, &a[i], true);
    applied(apply);
    return rv;
}

static CK_RV f_destroy(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h)
{
    struct fake_p11_obj *o = obj_of(h); /* before the gate: a cut logs the session out */
    bool apply;
    CK_RV rv = mutating_gate(s, &apply);

    if (!o)
        return rv != CKR_OK ? rv : CKR_OBJECT_HANDLE_INVALID;
    if (apply)
        o->used = false;
    applied(apply);
    return rv;
}

/* The new object the template describes, into o (not yet in use). */
static CK_RV from_template(struct fake_p11_obj *o, const CK_ATTRIBUTE *t, CK_ULONG n)
{
    for (CK_ULONG i = 0; i < n; i++) {
        const CK_ATTRIBUTE *a = &t[i];
        if (a->type == CKA_CLASS && a->ulValueLen == sizeof(o->cls))
            memcpy(&o->cls, a->pValue, sizeof(o->cls));
        else if (a->type == CKA_KEY_TYPE && a->ulValueLen == sizeof(o->kt))
            memcpy(&o->kt, a->pValue, sizeof(o->kt));
        else if (a->type == CKA_PRIVATE && a->ulValueLen == 1)
            o->is_private = *(const CK_BBOOL *)a->pValue != 0;
        else if (a->type == CKA_TOKEN && a->ulValueLen == 1)
            o->session_only = *(const CK_BBOOL *)a->pValue == 0;
        else if (a->type == CKA_VALUE) {
            if (a->ulValueLen > FAKE_P11_VALUE_MAX)
                return CKR_DEVICE_MEMORY;
            memcpy(o->value, a->pValue, a->ulValueLen);
            o->value_len = a->ulValueLen;
        } else if (a->type == CKA_ID || a->type == CKA_LABEL) {
            CK_RV rv = set_one(o, a, true);
            if (rv != CKR_OK)
                return rv;
        }
    }
    return CKR_OK;
}

static CK_RV f_create(CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR t, CK_ULONG n, CK_OBJECT_HANDLE_PTR h)
{
    static struct fake_p11_obj made;
    bool apply;
    CK_RV rv = mutating_gate(s, &apply);
    CK_RV bad;

    memset(&made, 0, sizeof(made));
    made.is_private = true; /* the default for data objects a logged-in user makes */
    bad = from_template(&made, t, n);
    if (rv == CKR_OK && bad != CKR_OK)
        return bad;
    if (rv == CKR_OK && made.is_private && !logged_in)
        return CKR_USER_NOT_LOGGED_IN;
    if (apply) {
        struct fake_p11_obj *o = obj_new();
        if (!o)
            return CKR_DEVICE_MEMORY;
        made.used = true;
        *o = made;
        *h = (CK_OBJECT_HANDLE)(o - objs) + 1;
    }
    applied(apply);
    return rv;
}

static CK_RV f_genpair(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR pub_t,
                       CK_ULONG pub_n, CK_ATTRIBUTE_PTR priv_t, CK_ULONG priv_n,
                       CK_OBJECT_HANDLE_PTR pub, CK_OBJECT_HANDLE_PTR priv)
{
    bool apply;
    CK_RV rv = mutating_gate(s, &apply);
    CK_KEY_TYPE kt = m->mechanism == CKM_EC_KEY_PAIR_GEN ? CKK_EC : CKK_RSA;

    if (apply) {
        struct fake_p11_obj *pu = obj_new(), *pr = pu ? obj_new() : NULL;
        if (!pr) {
            if (pu)
                pu->used = false;
            return CKR_DEVICE_MEMORY;
        }
        pairs_made++;
        pu->cls = CKO_PUBLIC_KEY;
        pr->cls = CKO_PRIVATE_KEY;
        pr->is_private = true;
        pu->kt = pr->kt = kt;
        pu->pair = pr->pair = pairs_made;
        (void)from_template(pu, pub_t, pub_n);
        (void)from_template(pr, priv_t, priv_n);
        *pub = (CK_OBJECT_HANDLE)(pu - objs) + 1;
        *priv = (CK_OBJECT_HANDLE)(pr - objs) + 1;
    }
    applied(apply);
    return rv;
}

static CK_RV f_random(CK_SESSION_HANDLE s, CK_BYTE_PTR out, CK_ULONG len)
{
    static uint32_t x = 0x9e3779b9u;
    CK_RV rv = session_gate(s);

    for (CK_ULONG i = 0; rv == CKR_OK && i < len; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5; /* not for keys: a test's varied bytes */
        out[i] = (CK_BYTE)x;
    }
    return rv;
}

static CK_RV f_token_info(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
    bool apply;
    CK_RV rv = call_gate(&apply);

    (void)slot;
    if (rv == CKR_OK) {
        memset(info, ' ', sizeof(*info));
        memcpy(info->label, "fake", 4);
        info->flags = CKF_TOKEN_INITIALIZED | CKF_USER_PIN_INITIALIZED | CKF_LOGIN_REQUIRED;
    }
    return rv;
}

static CK_FUNCTION_LIST fake = {
    .version = {2, 40},
    .C_Initialize = f_initialize,
    .C_GetSlotList = f_slots,
    .C_GetTokenInfo = f_token_info,
    .C_OpenSession = f_open,
    .C_Login = f_login,
    .C_Logout = f_logout,
    .C_FindObjectsInit = f_find_init,
    .C_FindObjects = f_find,
    .C_FindObjectsFinal = f_find_final,
    .C_GetAttributeValue = f_get_attr,
    .C_SetAttributeValue = f_set_attr,
    .C_DestroyObject = f_destroy,
    .C_CreateObject = f_create,
    .C_GenerateKeyPair = f_genpair,
    .C_GenerateRandom = f_random,
};

/* ---- crypto/p11/p11_client.h ---- */

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
    out->calls = (uint32_t)calls;
}

CK_RV p11_client_sign(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k,
                      const CK_BYTE *data, CK_ULONG len, CK_BYTE_PTR sig, CK_ULONG_PTR sig_len)
{
    (void)s, (void)m, (void)k, (void)data, (void)len, (void)sig, (void)sig_len;
    return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV p11_client_wrap_destroy(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m,
                              const CK_OBJECT_HANDLE *wrapping, CK_ULONG n, CK_OBJECT_HANDLE key,
                              CK_BYTE_PTR const *out, CK_ULONG_PTR const *out_len, bool *destroyed)
{
    (void)s, (void)m, (void)wrapping, (void)n, (void)key, (void)out, (void)out_len;
    *destroyed = false;
    return CKR_FUNCTION_NOT_SUPPORTED;
}
