#include "token_selftest.h"

#include <string.h>

struct st {
    struct token *t;
    CK_FUNCTION_LIST_PTR f;
    CK_SESSION_HANDLE s;
    token_report_fn report;
    void *ctx;
    int failed;
};

static CK_BBOOL yes = CK_TRUE;
static CK_BBOOL no = CK_FALSE;

static bool step(struct st *st, const char *name, CK_RV rv)
{
    st->report(st->ctx, name, rv);
    if (rv != CKR_OK)
        st->failed++;
    return rv == CKR_OK;
}

/* A value check that failed is reported like a token error, with a generic code. */
static CK_RV expect(bool ok)
{
    return ok ? CKR_OK : CKR_GENERAL_ERROR;
}

static void general_calls(struct st *st)
{
    CK_INFO info;
    CK_TOKEN_INFO ti;
    CK_SLOT_ID slots[4];
    CK_MECHANISM_TYPE mechs[TOKEN_MECHS_MAX];
    CK_ULONG n = 0, m = 0;
    CK_SESSION_HANDLE extra;

    step(st, "C_GetInfo", st->f->C_GetInfo(&info));
    CK_RV rv = st->f->C_GetSlotList(CK_TRUE, NULL, &n);
    if (rv == CKR_OK)
        rv = expect(n >= 1 && n <= 4);
    if (rv == CKR_OK)
        rv = st->f->C_GetSlotList(CK_TRUE, slots, &n);
    step(st, "C_GetSlotList", rv);
    step(st, "C_GetTokenInfo", st->f->C_GetTokenInfo(st->t->slot, &ti));
    rv = st->f->C_GetMechanismList(st->t->slot, NULL, &m);
    if (rv == CKR_OK)
        rv = expect(m >= 1 && m <= TOKEN_MECHS_MAX);
    if (rv == CKR_OK)
        rv = st->f->C_GetMechanismList(st->t->slot, mechs, &m);
    step(st, "C_GetMechanismList", rv);
    rv = st->f->C_OpenSession(st->t->slot, CKF_SERIAL_SESSION, NULL, NULL, &extra);
    if (step(st, "C_OpenSession", rv))
        step(st, "C_CloseSession", st->f->C_CloseSession(extra));
}

static void random_and_objects(struct st *st)
{
    uint8_t rnd[32] = {0}, zero[32] = {0};
    CK_OBJECT_CLASS data_class = CKO_DATA;
    char label[] = "signet-selftest", label2[] = "signet-selftest-2", value[] = "selftest value";
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &data_class, sizeof(data_class)},
        {CKA_TOKEN, &no, 1},
        {CKA_LABEL, label, sizeof(label) - 1},
        {CKA_VALUE, value, sizeof(value) - 1},
    };
    CK_OBJECT_HANDLE obj, found[2];
    CK_ULONG n = 0;
    char buf[64];

    CK_RV rv = st->f->C_GenerateRandom(st->s, rnd, sizeof(rnd));
    step(st, "C_GenerateRandom", rv == CKR_OK ? expect(memcmp(rnd, zero, 32) != 0) : rv);
    if (!step(st, "C_CreateObject", st->f->C_CreateObject(st->s, t, 4, &obj)))
        return;
    CK_ATTRIBUTE get = {CKA_VALUE, NULL, 0};
    rv = st->f->C_GetAttributeValue(st->s, obj, &get, 1);
    if (rv == CKR_OK)
        rv = expect(get.ulValueLen == sizeof(value) - 1);
    if (rv == CKR_OK) {
        get.pValue = buf;
        rv = st->f->C_GetAttributeValue(st->s, obj, &get, 1);
    }
    if (rv == CKR_OK)
        rv = expect(get.ulValueLen == sizeof(value) - 1 && memcmp(buf, value, get.ulValueLen) == 0);
    step(st, "C_GetAttributeValue", rv);
    CK_ATTRIBUTE set = {CKA_LABEL, label2, sizeof(label2) - 1};
    step(st, "C_SetAttributeValue", st->f->C_SetAttributeValue(st->s, obj, &set, 1));
    rv = st->f->C_FindObjectsInit(st->s, &set, 1);
    if (rv == CKR_OK)
        rv = st->f->C_FindObjects(st->s, found, 2, &n);
    CK_RV fin = st->f->C_FindObjectsFinal(st->s);
    if (rv == CKR_OK)
        rv = fin;
    if (rv == CKR_OK)
        rv = expect(n == 1 && found[0] == obj);
    step(st, "C_FindObjects", rv);
    step(st, "C_DestroyObject", st->f->C_DestroyObject(st->s, obj));
}

struct keys {
    CK_OBJECT_HANDLE aes, rsa_pub, rsa_priv;
};

static bool make_keys(struct st *st, struct keys *k)
{
    CK_ULONG aes_len = 32, bits = 2048;
    uint8_t f4[] = {1, 0, 1};
    CK_MECHANISM aes_gen = {CKM_AES_KEY_GEN, NULL, 0};
    CK_MECHANISM rsa_gen = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE aes_t[] = {
        {CKA_TOKEN, &no, 1},        {CKA_VALUE_LEN, &aes_len, sizeof(aes_len)},
        {CKA_ENCRYPT, &yes, 1},     {CKA_DECRYPT, &yes, 1},
        {CKA_EXTRACTABLE, &yes, 1}, {CKA_SENSITIVE, &yes, 1},
    };
    CK_ATTRIBUTE pub_t[] = {
        {CKA_TOKEN, &no, 1},   {CKA_MODULUS_BITS, &bits, sizeof(bits)},
        {CKA_VERIFY, &yes, 1}, {CKA_ENCRYPT, &yes, 1},
        {CKA_WRAP, &yes, 1},   {CKA_PUBLIC_EXPONENT, f4, sizeof(f4)},
    };
    CK_ATTRIBUTE priv_t[] = {
        {CKA_TOKEN, &no, 1},       {CKA_PRIVATE, &yes, 1}, {CKA_SENSITIVE, &yes, 1},
        {CKA_SIGN, &yes, 1},       {CKA_DECRYPT, &yes, 1}, {CKA_UNWRAP, &yes, 1},
        {CKA_EXTRACTABLE, &no, 1},
    };
    bool ok = step(st, "C_GenerateKey", st->f->C_GenerateKey(st->s, &aes_gen, aes_t, 6, &k->aes));
    return step(st, "C_GenerateKeyPair",
                st->f->C_GenerateKeyPair(st->s, &rsa_gen, pub_t, 6, priv_t, 7, &k->rsa_pub,
                                         &k->rsa_priv)) &&
           ok;
}

static void sign_verify(struct st *st, const struct keys *k)
{
    uint8_t msg[] = "signet selftest message", sig[256], digest[32];
    CK_ULONG sig_len = 0;
    CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};

    CK_RV rv = st->f->C_SignInit(st->s, &m, k->rsa_priv);
    if (rv == CKR_OK)
        rv = st->f->C_Sign(st->s, msg, sizeof(msg), NULL, &sig_len); /* size query */
    if (rv == CKR_OK)
        rv = expect(sig_len == sizeof(sig));
    if (rv == CKR_OK)
        rv = st->f->C_Sign(st->s, msg, sizeof(msg), sig, &sig_len);
    if (!step(st, "C_Sign sha256-rsa-pkcs", rv))
        return;
    rv = st->f->C_VerifyInit(st->s, &m, k->rsa_pub);
    if (rv == CKR_OK)
        rv = st->f->C_Verify(st->s, msg, sizeof(msg), sig, sig_len);
    step(st, "C_Verify", rv);
    msg[0] ^= 1;
    rv = st->f->C_VerifyInit(st->s, &m, k->rsa_pub);
    if (rv == CKR_OK)
        rv = st->f->C_Verify(st->s, msg, sizeof(msg), sig, sig_len);
    step(st, "C_Verify rejects a changed message", expect(rv == CKR_SIGNATURE_INVALID));

    /* PSS carries a parameter block the protocol encodes field by field. */
    CK_RSA_PKCS_PSS_PARAMS pss = {CKM_SHA256, CKG_MGF1_SHA256, 32};
    CK_MECHANISM pm = {CKM_RSA_PKCS_PSS, &pss, sizeof(pss)};
    memset(digest, 0x5a, sizeof(digest));
    sig_len = sizeof(sig);
    rv = st->f->C_SignInit(st->s, &pm, k->rsa_priv);
    if (rv == CKR_OK)
        rv = st->f->C_Sign(st->s, digest, sizeof(digest), sig, &sig_len);
    if (rv == CKR_OK)
        rv = st->f->C_VerifyInit(st->s, &pm, k->rsa_pub);
    if (rv == CKR_OK)
        rv = st->f->C_Verify(st->s, digest, sizeof(digest), sig, sig_len);
    step(st, "C_Sign/C_Verify rsa-pss", rv);
}

static void encrypt_wrap(struct st *st, const struct keys *k)
{
    uint8_t secret[] = "a content key, say", ct[256], pt[256], wrapped[256];
    CK_ULONG ct_len = sizeof(ct), pt_len = sizeof(pt), wrapped_len = 0;
    CK_RSA_PKCS_OAEP_PARAMS oaep = {CKM_SHA_1, CKG_MGF1_SHA1, CKZ_DATA_SPECIFIED, NULL, 0};
    CK_MECHANISM om = {CKM_RSA_PKCS_OAEP, &oaep, sizeof(oaep)};

    CK_RV rv = st->f->C_EncryptInit(st->s, &om, k->rsa_pub);
    if (rv == CKR_OK)
        rv = st->f->C_Encrypt(st->s, secret, sizeof(secret), ct, &ct_len);
    step(st, "C_Encrypt rsa-oaep", rv);
    rv = st->f->C_DecryptInit(st->s, &om, k->rsa_priv);
    if (rv == CKR_OK)
        rv = st->f->C_Decrypt(st->s, ct, ct_len, pt, &pt_len);
    if (rv == CKR_OK)
        rv = expect(pt_len == sizeof(secret) && memcmp(pt, secret, pt_len) == 0);
    step(st, "C_Decrypt rsa-oaep", rv);

    rv = st->f->C_WrapKey(st->s, &om, k->rsa_pub, k->aes, NULL, &wrapped_len);
    if (rv == CKR_OK)
        rv = expect(wrapped_len == sizeof(wrapped));
    if (rv == CKR_OK)
        rv = st->f->C_WrapKey(st->s, &om, k->rsa_pub, k->aes, wrapped, &wrapped_len);
    if (!step(st, "C_WrapKey rsa-oaep", rv))
        return;
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_AES;
    CK_ATTRIBUTE ut[] = {
        {CKA_CLASS, &cls, sizeof(cls)}, {CKA_KEY_TYPE, &kt, sizeof(kt)}, {CKA_TOKEN, &no, 1},
        {CKA_ENCRYPT, &yes, 1},         {CKA_SENSITIVE, &yes, 1},
    };
    CK_OBJECT_HANDLE unwrapped;
    rv = st->f->C_UnwrapKey(st->s, &om, k->rsa_priv, wrapped, wrapped_len, ut, 5, &unwrapped);
    if (!step(st, "C_UnwrapKey rsa-oaep", rv))
        return;
    /* Same key inside: the same block encrypts the same way under both handles. */
    uint8_t block[16] = "0123456789abcdef", c1[16], c2[16];
    CK_ULONG l1 = 16, l2 = 16;
    CK_MECHANISM ecb = {CKM_AES_ECB, NULL, 0};
    rv = st->f->C_EncryptInit(st->s, &ecb, k->aes);
    if (rv == CKR_OK)
        rv = st->f->C_Encrypt(st->s, block, 16, c1, &l1);
    if (rv == CKR_OK)
        rv = st->f->C_EncryptInit(st->s, &ecb, unwrapped);
    if (rv == CKR_OK)
        rv = st->f->C_Encrypt(st->s, block, 16, c2, &l2);
    if (rv == CKR_OK)
        rv = expect(l1 == 16 && l2 == 16 && memcmp(c1, c2, 16) == 0);
    step(st, "unwrapped key equals the original", rv);
    (void)st->f->C_DestroyObject(st->s, unwrapped);
}

int token_selftest(struct token *t, token_report_fn report, void *ctx)
{
    struct st st = {.t = t, .f = t->f, .report = report, .ctx = ctx};
    struct keys k;
    bool found;

    /* token_find_key makes sure a live, logged-in session exists (reconnecting if need be). */
    CK_RV rv = token_find_key(t, &t->slc, &found, NULL);
    if (!step(&st, "session", rv))
        return st.failed;
    if (!t->logged_in) {
        step(&st, "login", CKR_USER_NOT_LOGGED_IN);
        return st.failed;
    }
    st.s = t->session;
    general_calls(&st);
    random_and_objects(&st);
    if (make_keys(&st, &k)) {
        sign_verify(&st, &k);
        encrypt_wrap(&st, &k);
        (void)st.f->C_DestroyObject(st.s, k.aes);
        (void)st.f->C_DestroyObject(st.s, k.rsa_pub);
        (void)st.f->C_DestroyObject(st.s, k.rsa_priv);
    }
    return st.failed;
}
