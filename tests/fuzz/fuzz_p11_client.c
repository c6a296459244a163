/*
 * tests/fuzz/fuzz_p11_client.c — arbitrary bytes as the HSM link's answers to the real client.
 *
 * A fake transport plays the server: each answer is taken from the input as a flag byte, a 16-bit
 * length and that many bytes. Flag bit 0 set: those bytes go out as they are, header included
 * (framing attacks). Clear: they are the body, wrapped in a header carrying the request's own code
 * so the decoders behind the framing get exercised too. A fixed sequence of C_* calls runs against
 * it. Any crash, sanitizer report or read past an input is a bug.
 */
#include <stdint.h>
#include <string.h>

#include "crypto/p11/p11_client.h"

static const uint8_t *in;
static size_t in_len, in_pos;
static uint8_t answer[70000];
static size_t answer_len, answer_pos;
static uint32_t last_code;
static uint64_t now_ms;
static int writes;

static void next_answer(void)
{
    answer_len = answer_pos = 0;
    if (in_len - in_pos < 3)
        return;
    uint8_t flag = in[in_pos];
    size_t n = (size_t)in[in_pos + 1] << 8 | in[in_pos + 2];
    in_pos += 3;
    if (n > in_len - in_pos)
        n = in_len - in_pos;
    if (!(flag & 1)) {
        uint8_t *h = answer;
        uint32_t v[3] = {last_code, 0, (uint32_t)n};
        for (int i = 0; i < 3; i++) {
            h[4 * i] = (uint8_t)(v[i] >> 24);
            h[4 * i + 1] = (uint8_t)(v[i] >> 16);
            h[4 * i + 2] = (uint8_t)(v[i] >> 8);
            h[4 * i + 3] = (uint8_t)v[i];
        }
        answer_len = 12;
    }
    memcpy(answer + answer_len, in + in_pos, n);
    answer_len += n;
    in_pos += n;
}

static uint64_t fake_now_ms(void *ctx)
{
    (void)ctx;
    return now_ms += 7; /* every look at the clock moves it: waits end quickly */
}

static bool fake_wait(void *ctx, uint64_t deadline_ms)
{
    (void)ctx;
    if (now_ms >= deadline_ms)
        return false;
    now_ms += deadline_ms - now_ms < 50 ? deadline_ms - now_ms : 50;
    return true;
}

static int fake_open(void *ctx)
{
    (void)ctx;
    return 0;
}

static void fake_close(void *ctx)
{
    (void)ctx;
    answer_len = answer_pos = 0;
}

static int fake_write_all(void *ctx, const uint8_t *b, size_t len)
{
    (void)ctx;
    writes++;
    if (len == 1) { /* the version byte: a live server answers with its own */
        answer[0] = in_pos < in_len ? in[in_pos++] : 0;
        answer_len = 1;
        answer_pos = 0;
        return 0;
    }
    if (len >= 12 && b[8] | b[9] | b[10] | b[11]) {
        last_code = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
        next_answer();
    }
    return 0;
}

static int fake_read(void *ctx, uint8_t *buf, size_t cap)
{
    (void)ctx;
    size_t n = answer_len - answer_pos < cap ? answer_len - answer_pos : cap;
    memcpy(buf, answer + answer_pos, n);
    answer_pos += n;
    return (int)n;
}

static const struct p11_transport fake_transport = {
    .open = fake_open,
    .close = fake_close,
    .write_all = fake_write_all,
    .read = fake_read,
    .now_ms = fake_now_ms,
    .wait = fake_wait,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    CK_FUNCTION_LIST_PTR f;
    CK_INFO info;
    CK_TOKEN_INFO ti;
    CK_SLOT_ID slots[4];
    CK_MECHANISM_TYPE mechs[8];
    CK_OBJECT_HANDLE objs[4], pub, priv;
    CK_SESSION_HANDLE s = 1;
    CK_ULONG n, kt;
    CK_BBOOL b;
    uint8_t buf[300], id[16];
    CK_ATTRIBUTE attrs[] = {{CKA_KEY_TYPE, &kt, sizeof(kt)},
                            {CKA_SENSITIVE, &b, 1},
                            {CKA_ID, id, sizeof(id)},
                            {CKA_VALUE, NULL, 0}};
    CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
    CK_RSA_PKCS_OAEP_PARAMS oaep = {CKM_SHA_1, CKG_MGF1_SHA1, CKZ_DATA_SPECIFIED, NULL, 0};
    CK_MECHANISM om = {CKM_RSA_PKCS_OAEP, &oaep, sizeof(oaep)};

    in = data;
    in_len = size;
    in_pos = 0;
    answer_len = answer_pos = 0;
    p11_client_set_transport(&fake_transport);
    p11_client_get_function_list(&f);
    f->C_Initialize(NULL);
    f->C_GetInfo(&info);
    n = 4;
    f->C_GetSlotList(CK_TRUE, slots, &n);
    f->C_GetTokenInfo(0, &ti);
    n = 8;
    f->C_GetMechanismList(0, mechs, &n);
    f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s);
    f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR) "1234", 4);
    f->C_FindObjectsInit(s, attrs, 2);
    n = 0;
    f->C_FindObjects(s, objs, 4, &n);
    f->C_FindObjectsFinal(s);
    f->C_GetAttributeValue(s, 1, attrs, 4);
    f->C_SignInit(s, &m, 1);
    n = sizeof(buf);
    f->C_Sign(s, (CK_BYTE_PTR) "data", 4, buf, &n);
    n = 0;
    f->C_Sign(s, (CK_BYTE_PTR) "data", 4, NULL, &n);
    n = sizeof(buf);
    p11_client_sign(s, &m, 1, (const CK_BYTE *)"data", 4, buf, &n);
    f->C_GenerateKeyPair(s, &m, attrs, 2, attrs, 2, &pub, &priv);
    n = sizeof(buf);
    f->C_WrapKey(s, &om, 1, 2, buf, &n);
    f->C_GenerateRandom(s, buf, 32);
    f->C_Finalize(NULL);
    return 0;
}
