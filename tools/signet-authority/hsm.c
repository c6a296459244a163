#include "hsm.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define SLOTS_MAX 64 /* more slots than any token we would pick among */

static const CK_BBOOL yes = CK_TRUE;
static const CK_BBOOL no = CK_FALSE;

/* Template entries; PKCS#11 wants non-const pointers to values it only reads. */
static CK_ATTRIBUTE flag(CK_ATTRIBUTE_TYPE type, bool on)
{
    return (CK_ATTRIBUTE){type, (void *)(uintptr_t)(on ? &yes : &no), sizeof(CK_BBOOL)};
}

static CK_ATTRIBUTE text(CK_ATTRIBUTE_TYPE type, const char *s)
{
    return (CK_ATTRIBUTE){type, (void *)(uintptr_t)s, strlen(s)};
}

static const char *ckr_name(CK_RV rv)
{
    static const struct {
        CK_RV rv;
        const char *name;
    } names[] = {
        {CKR_PIN_INCORRECT, "PIN incorrect (CKR_PIN_INCORRECT)"},
        {CKR_PIN_LOCKED, "PIN locked (CKR_PIN_LOCKED)"},
        {CKR_PIN_LEN_RANGE, "PIN length out of range (CKR_PIN_LEN_RANGE)"},
        {CKR_USER_PIN_NOT_INITIALIZED, "user PIN not initialised (CKR_USER_PIN_NOT_INITIALIZED)"},
        {CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT"},
        {CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR"},
        {CKR_DEVICE_REMOVED, "CKR_DEVICE_REMOVED"},
        {CKR_DEVICE_MEMORY, "CKR_DEVICE_MEMORY"},
        {CKR_HOST_MEMORY, "CKR_HOST_MEMORY"},
        {CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR"},
        {CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED"},
        {CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD"},
        {CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID"},
        {CKR_KEY_TYPE_INCONSISTENT, "CKR_KEY_TYPE_INCONSISTENT"},
        {CKR_KEY_FUNCTION_NOT_PERMITTED, "CKR_KEY_FUNCTION_NOT_PERMITTED"},
        {CKR_OBJECT_HANDLE_INVALID, "CKR_OBJECT_HANDLE_INVALID"},
        {CKR_ATTRIBUTE_TYPE_INVALID, "CKR_ATTRIBUTE_TYPE_INVALID"},
        {CKR_ATTRIBUTE_SENSITIVE, "CKR_ATTRIBUTE_SENSITIVE"},
        {CKR_TEMPLATE_INCONSISTENT, "CKR_TEMPLATE_INCONSISTENT"},
        {CKR_TOKEN_WRITE_PROTECTED, "CKR_TOKEN_WRITE_PROTECTED"},
        {CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN"},
        {CKR_BUFFER_TOO_SMALL, "CKR_BUFFER_TOO_SMALL"},
        {CKR_SESSION_HANDLE_INVALID, "CKR_SESSION_HANDLE_INVALID"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].rv == rv)
            return names[i].name;
    return NULL;
}

/* Note which call failed and how; the errno the caller returns. */
static int fail(struct hsm *h, const char *call, CK_RV rv)
{
    const char *name = ckr_name(rv);
    if (name)
        snprintf(h->why, sizeof(h->why), "%s: %s", call, name);
    else
        snprintf(h->why, sizeof(h->why), "%s: CKR 0x%lx", call, (unsigned long)rv);
    return rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED || rv == CKR_PIN_LEN_RANGE ? -EACCES
                                                                                      : -EIO;
}

static int refuse(struct hsm *h, int err, const char *why)
{
    snprintf(h->why, sizeof(h->why), "%s", why);
    return err;
}

/* CK_TOKEN_INFO.label is blank-padded, not NUL-terminated. */
static bool label_is(const CK_UTF8CHAR label[HSM_LABEL_MAX], const char *want)
{
    size_t n = HSM_LABEL_MAX;
    while (n && label[n - 1] == ' ')
        n--;
    return strlen(want) == n && memcmp(label, want, n) == 0;
}

static int pick_slot(struct hsm *h, const char *label, CK_SLOT_ID *slot)
{
    CK_SLOT_ID slots[SLOTS_MAX];
    CK_ULONG n = SLOTS_MAX;
    size_t matches = 0;
    CK_RV rv = h->f->C_GetSlotList(CK_TRUE, slots, &n);

    if (rv != CKR_OK)
        return fail(h, "C_GetSlotList", rv);
    if (n > SLOTS_MAX)
        return refuse(h, -EIO, "C_GetSlotList: the module answered more slots than asked for");
    for (CK_ULONG i = 0; i < n; i++) {
        CK_TOKEN_INFO ti;
        if (h->f->C_GetTokenInfo(slots[i], &ti) != CKR_OK || !(ti.flags & CKF_TOKEN_INITIALIZED))
            continue;
        if (label && !label_is(ti.label, label))
            continue;
        *slot = slots[i];
        matches++;
    }
    if (matches == 1)
        return 0;
    if (matches == 0)
        return refuse(h, -ENOENT,
                      label ? "no initialised token with that label" : "no initialised token");
    return refuse(h, -ENOENT,
                  label ? "several tokens carry that label"
                        : "several tokens are present: choose one with --token LABEL");
}

int hsm_open(struct hsm *h, const char *module, const char *label)
{
    CK_C_GetFunctionList get;
    CK_SLOT_ID slot = 0;
    CK_RV rv;

    memset(h, 0, sizeof(*h));
    if (label && strlen(label) > HSM_LABEL_MAX)
        return refuse(h, -EINVAL, "a token label has at most 32 characters");
    h->lib = dlopen(module, RTLD_NOW | RTLD_LOCAL);
    if (!h->lib) {
        const char *e = dlerror();
        snprintf(h->why, sizeof(h->why), "cannot load the PKCS#11 module: %s", e ? e : module);
        return -ENOENT;
    }
    /* POSIX: a function pointer travels through dlsym's void * by this conversion. */
    *(void **)&get = dlsym(h->lib, "C_GetFunctionList");
    if (!get)
        return refuse(h, -EIO, "the module has no C_GetFunctionList");
    rv = get(&h->f);
    if (rv != CKR_OK || !h->f)
        return fail(h, "C_GetFunctionList", rv != CKR_OK ? rv : CKR_GENERAL_ERROR);
    if (h->f->version.major < 2)
        return refuse(h, -EIO, "the module speaks PKCS#11 older than 2.x");
    rv = h->f->C_Initialize(NULL);
    if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED)
        return fail(h, "C_Initialize", rv);
    h->initialized = rv == CKR_OK;
    int ret = pick_slot(h, label, &slot);
    if (ret != 0)
        return ret;
    rv = h->f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &h->session);
    if (rv != CKR_OK)
        return fail(h, "C_OpenSession", rv);
    h->has_session = true;
    return 0;
}

void hsm_close(struct hsm *h)
{
    if (h->has_session)
        h->f->C_CloseSession(h->session);
    if (h->initialized)
        h->f->C_Finalize(NULL);
    if (h->lib)
        dlclose(h->lib);
    h->has_session = h->initialized = false;
    h->lib = NULL;
    h->f = NULL;
}

int hsm_login(struct hsm *h, const uint8_t *pin, size_t len)
{
    CK_RV rv = h->f->C_Login(h->session, CKU_USER, (CK_UTF8CHAR *)(uintptr_t)pin, len);
    if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
        return fail(h, "C_Login", rv);
    return 0;
}

/* Objects matching the template q[2]. */
static int find(struct hsm *h, CK_ATTRIBUTE q[2], CK_OBJECT_HANDLE *out, size_t max, size_t *n)
{
    CK_ULONG got = 0;
    CK_RV rv = h->f->C_FindObjectsInit(h->session, q, 2);

    if (rv != CKR_OK)
        return fail(h, "C_FindObjectsInit", rv);
    rv = h->f->C_FindObjects(h->session, out, max, &got);
    CK_RV fin = h->f->C_FindObjectsFinal(h->session);
    if (rv != CKR_OK)
        return fail(h, "C_FindObjects", rv);
    if (fin != CKR_OK)
        return fail(h, "C_FindObjectsFinal", fin);
    if (got > max)
        return refuse(h, -EIO, "C_FindObjects: the module answered more objects than asked for");
    *n = got;
    return 0;
}

int hsm_find(struct hsm *h, CK_OBJECT_CLASS cls, const char *id, CK_OBJECT_HANDLE *out, size_t max,
             size_t *n)
{
    CK_ATTRIBUTE q[] = {{CKA_CLASS, &cls, sizeof(cls)}, text(CKA_ID, id)};
    return find(h, q, out, max, n);
}

int hsm_find_data(struct hsm *h, const char *label, CK_OBJECT_HANDLE *out, size_t max, size_t *n)
{
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_ATTRIBUTE q[] = {{CKA_CLASS, &cls, sizeof(cls)}, text(CKA_LABEL, label)};
    return find(h, q, out, max, n);
}

int hsm_store_data(struct hsm *h, const char *label, const uint8_t *value, size_t len,
                   CK_OBJECT_HANDLE *out)
{
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        flag(CKA_TOKEN, true),
        flag(CKA_PRIVATE, true),
        text(CKA_LABEL, label),
        text(CKA_APPLICATION, "signet-authority"),
        {CKA_VALUE, (void *)(uintptr_t)value, len},
    };
    CK_RV rv = h->f->C_CreateObject(h->session, t, sizeof(t) / sizeof(t[0]), out);
    return rv == CKR_OK ? 0 : fail(h, "C_CreateObject", rv);
}

int hsm_attr(struct hsm *h, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type, uint8_t *out, size_t cap,
             size_t *len)
{
    CK_ATTRIBUTE a = {type, NULL, 0};
    CK_RV rv = h->f->C_GetAttributeValue(h->session, obj, &a, 1);

    if (rv != CKR_OK)
        return fail(h, "C_GetAttributeValue", rv);
    if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen > cap)
        return refuse(h, -ENOSPC, "C_GetAttributeValue: the value is larger than expected");
    a.pValue = out;
    rv = h->f->C_GetAttributeValue(h->session, obj, &a, 1);
    if (rv != CKR_OK)
        return fail(h, "C_GetAttributeValue", rv);
    if (a.ulValueLen > cap) /* it cannot have grown; if the module says so, believe nothing */
        return refuse(h, -EIO, "C_GetAttributeValue: inconsistent length");
    *len = a.ulValueLen;
    return 0;
}

int hsm_random(struct hsm *h, uint8_t *out, size_t len)
{
    CK_RV rv = h->f->C_GenerateRandom(h->session, out, len);
    return rv == CKR_OK ? 0 : fail(h, "C_GenerateRandom", rv);
}

int hsm_sign_rsa_sha256(struct hsm *h, CK_OBJECT_HANDLE key, const uint8_t *data, size_t len,
                        uint8_t *sig, size_t cap, size_t *sig_len)
{
    CK_MECHANISM mech = {CKM_SHA256_RSA_PKCS, NULL, 0};
    CK_ULONG out = cap;
    CK_RV rv = h->f->C_SignInit(h->session, &mech, key);

    if (rv != CKR_OK)
        return fail(h, "C_SignInit", rv);
    rv = h->f->C_Sign(h->session, (CK_BYTE *)(uintptr_t)data, len, sig, &out);
    if (rv != CKR_OK)
        return fail(h, "C_Sign", rv);
    if (out == 0 || out > cap)
        return refuse(h, -EIO, "C_Sign: the module answered an impossible signature length");
    *sig_len = out;
    return 0;
}

int hsm_generate_rsa(struct hsm *h, const char *id, const char *label, CK_ULONG bits,
                     CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
    static const uint8_t f4[] = {0x01, 0x00, 0x01};
    CK_MECHANISM mech = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE pub_t[] = {
        flag(CKA_TOKEN, true),
        flag(CKA_PRIVATE, false),
        flag(CKA_VERIFY, true),
        flag(CKA_ENCRYPT, false),
        flag(CKA_WRAP, false),
        text(CKA_ID, id),
        text(CKA_LABEL, label),
        {CKA_MODULUS_BITS, &bits, sizeof(bits)},
        {CKA_PUBLIC_EXPONENT, (void *)(uintptr_t)f4, sizeof(f4)},
    };
    CK_ATTRIBUTE priv_t[] = {
        flag(CKA_TOKEN, true),     flag(CKA_PRIVATE, true),
        flag(CKA_SENSITIVE, true), flag(CKA_EXTRACTABLE, false),
        flag(CKA_SIGN, true),      flag(CKA_SIGN_RECOVER, false),
        flag(CKA_DECRYPT, false),  flag(CKA_UNWRAP, false),
        flag(CKA_DERIVE, false),   text(CKA_ID, id),
        text(CKA_LABEL, label),
    };
    CK_RV rv = h->f->C_GenerateKeyPair(h->session, &mech, pub_t, sizeof(pub_t) / sizeof(pub_t[0]),
                                       priv_t, sizeof(priv_t) / sizeof(priv_t[0]), pub, priv);
    return rv == CKR_OK ? 0 : fail(h, "C_GenerateKeyPair", rv);
}

int hsm_store_cert(struct hsm *h, const char *id, const char *label, const uint8_t *subject,
                   size_t subject_len, const uint8_t *der, size_t len, CK_OBJECT_HANDLE *out)
{
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_CERTIFICATE_TYPE type = CKC_X_509;
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_CERTIFICATE_TYPE, &type, sizeof(type)},
        flag(CKA_TOKEN, true),
        flag(CKA_PRIVATE, false),
        text(CKA_ID, id),
        text(CKA_LABEL, label),
        {CKA_SUBJECT, (void *)(uintptr_t)subject, subject_len},
        {CKA_VALUE, (void *)(uintptr_t)der, len},
    };
    CK_RV rv = h->f->C_CreateObject(h->session, t, sizeof(t) / sizeof(t[0]), out);
    return rv == CKR_OK ? 0 : fail(h, "C_CreateObject", rv);
}

int hsm_destroy(struct hsm *h, CK_OBJECT_HANDLE obj)
{
    CK_RV rv = h->f->C_DestroyObject(h->session, obj);
    return rv == CKR_OK ? 0 : fail(h, "C_DestroyObject", rv);
}
