/* Byte-exact vectors for the p11-kit RPC encoding, built from the protocol description (draft-ueno-
 * pkcs11-rpc, p11-kit 0.24 rpc-message.c), and hostile answers the decoder must refuse. */
#include "crypto/p11/p11_wire.h"

#include <stdlib.h>

#include "unit.h"

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (hex[0] && hex[1] && n < cap) {
        if (hex[0] == ' ') {
            hex++;
            continue;
        }
        char b[3] = {hex[0], hex[1], 0};
        out[n++] = (uint8_t)strtoul(b, NULL, 16);
        hex += 2;
    }
    return n;
}

static int encodes_to(const struct p11w *w, const char *hex)
{
    uint8_t want[512];
    size_t n = unhex(hex, want, sizeof(want));
    if (w->failed || w->len != n || memcmp(w->buf, want, n) != 0) {
        printf("# got ");
        for (size_t i = 0; i < w->len; i++)
            printf("%02x", w->buf[i]);
        printf("\n");
        return 0;
    }
    return 1;
}

TEST(login_request)
{
    uint8_t buf[128];
    struct p11w w;

    p11w_init(&w, buf, sizeof(buf));
    p11w_begin(&w, P11_CALL_Login, "uuay");
    p11w_ulong(&w, 7);
    p11w_ulong(&w, CKU_USER);
    p11w_byte_array(&w, "1234", 4);
    CHECK(encodes_to(&w, "00000012 00000004 75756179"
                         "0000000000000007 0000000000000001"
                         "01 00000004 31323334"));
}

TEST(template_values_by_kind)
{
    uint8_t buf[128];
    struct p11w w;
    CK_BBOOL t = CK_TRUE;
    CK_ULONG bits = 2048;
    CK_ATTRIBUTE tmpl[] = {
        {CKA_TOKEN, &t, sizeof(t)},
        {CKA_MODULUS_BITS, &bits, sizeof(bits)},
        {CKA_LABEL, "ab", 2},
    };

    p11w_init(&w, buf, sizeof(buf));
    p11w_template(&w, tmpl, 3);
    /* Booleans are one byte; a ULONG always claims 8 bytes whatever sizeof(CK_ULONG) is here;
     * byte values repeat their length inside the value. */
    CHECK(encodes_to(&w, "00000003"
                         "00000001 01 00000001 01"
                         "00000121 01 00000008 0000000000000800"
                         "00000003 01 00000002 00000002 6162"));
}

TEST(attribute_buffer_request)
{
    uint8_t buf[64], val[16];
    CK_ULONG kt;
    struct p11w w;
    CK_ATTRIBUTE q[] = {{CKA_VALUE, NULL, 0}, {CKA_KEY_TYPE, &kt, sizeof(kt)}, {CKA_ID, val, 16}};

    p11w_init(&w, buf, sizeof(buf));
    p11w_attr_buffer(&w, q, 3);
    CHECK(encodes_to(&w, "00000003 00000011 00000000 00000100 00000008 00000102 00000010"));
}

TEST(mechanisms)
{
    uint8_t buf[128];
    struct p11w w;
    CK_MECHANISM plain = {CKM_SHA256_RSA_PKCS, NULL, 0};
    CK_RSA_PKCS_PSS_PARAMS pss = {CKM_SHA256, CKG_MGF1_SHA256, 32};
    CK_MECHANISM pm = {CKM_RSA_PKCS_PSS, &pss, sizeof(pss)};
    CK_RSA_PKCS_OAEP_PARAMS oaep = {CKM_SHA_1, CKG_MGF1_SHA1, CKZ_DATA_SPECIFIED, NULL, 0};
    CK_MECHANISM om = {CKM_RSA_PKCS_OAEP, &oaep, sizeof(oaep)};
    CK_MECHANISM gcm = {CKM_AES_GCM, buf, 8};

    p11w_init(&w, buf, sizeof(buf));
    CHECK(p11w_mechanism(&w, &plain));
    CHECK(encodes_to(&w, "00000040 ffffffff"));
    p11w_init(&w, buf, sizeof(buf));
    CHECK(p11w_mechanism(&w, &pm));
    CHECK(encodes_to(&w, "0000000d 0000000000000250 0000000000000002 0000000000000020"));
    p11w_init(&w, buf, sizeof(buf));
    CHECK(p11w_mechanism(&w, &om));
    CHECK(encodes_to(&w, "00000009 0000000000000220 0000000000000001 0000000000000001 ffffffff"));
    p11w_init(&w, buf, sizeof(buf));
    CHECK(!p11w_mechanism(&w, &gcm)); /* pointers inside: refused, not sent garbled */
}

TEST(writer_overflow_is_sticky)
{
    uint8_t buf[10];
    struct p11w w;

    p11w_init(&w, buf, sizeof(buf));
    p11w_ulong(&w, 1);
    p11w_ulong(&w, 2);
    CHECK(w.failed);
    CHECK(w.len <= sizeof(buf));
}

static void reader(struct p11r *r, uint8_t *mem, size_t cap, const char *hex)
{
    p11r_init(r, mem, unhex(hex, mem, cap));
}

TEST(error_answer_carries_the_ck_rv)
{
    uint8_t m[64];
    struct p11r r;

    reader(&r, m, sizeof(m), "00000000 00000001 75 00000000000000a0");
    CHECK_EQ(p11r_begin(&r, P11_CALL_Login, ""), CKR_PIN_INCORRECT);
    /* An "error" that says CKR_OK is not an answer. */
    reader(&r, m, sizeof(m), "00000000 00000001 75 0000000000000000");
    CHECK_EQ(p11r_begin(&r, P11_CALL_Login, ""), CKR_DEVICE_ERROR);
    /* The answer to another call. */
    reader(&r, m, sizeof(m), "00000013 00000000");
    CHECK_EQ(p11r_begin(&r, P11_CALL_Login, ""), CKR_DEVICE_ERROR);
    /* Right call, wrong signature. */
    reader(&r, m, sizeof(m), "0000002b 00000001 75");
    CHECK_EQ(p11r_begin(&r, P11_CALL_Sign, "ay"), CKR_DEVICE_ERROR);
}

TEST(byte_array_answers)
{
    uint8_t m[64], out[4];
    CK_ULONG len;
    struct p11r r;

    /* Data. */
    reader(&r, m, sizeof(m), "01 00000003 616263");
    len = sizeof(out);
    CHECK_EQ(p11r_byte_array(&r, out, &len), CKR_OK);
    CHECK_EQ(len, 3);
    CHECK(p11r_done(&r));
    /* Length only: a size query's answer, or "too small". */
    reader(&r, m, sizeof(m), "00 00000100");
    CHECK_EQ(p11r_byte_array(&r, NULL, &len), CKR_OK);
    CHECK_EQ(len, 256);
    reader(&r, m, sizeof(m), "00 00000100");
    len = sizeof(out);
    CHECK_EQ(p11r_byte_array(&r, out, &len), CKR_BUFFER_TOO_SMALL);
    /* More data than our buffer: refused, nothing written past it (ASan watches). */
    reader(&r, m, sizeof(m), "01 00000005 0102030405");
    len = sizeof(out);
    CHECK_EQ(p11r_byte_array(&r, out, &len), CKR_BUFFER_TOO_SMALL);
    CHECK_EQ(len, 5);
    /* A length beyond the message. */
    reader(&r, m, sizeof(m), "01 7ffffff0 0102");
    len = sizeof(out);
    CHECK_EQ(p11r_byte_array(&r, out, &len), CKR_DEVICE_ERROR);
    CHECK(r.failed);
}

TEST(ulong_arrays_and_hostile_counts)
{
    uint8_t m[64];
    CK_ULONG out[2], n;
    struct p11r r;

    reader(&r, m, sizeof(m), "01 00000002 0000000000000001 0000000000000005");
    n = 2;
    CHECK_EQ(p11r_ulong_array(&r, out, &n), CKR_OK);
    CHECK(n == 2 && out[0] == 1 && out[1] == 5);
    /* A count the message cannot hold: refused before any loop. */
    reader(&r, m, sizeof(m), "01 ffffffff 00000000");
    n = 2;
    CHECK_EQ(p11r_ulong_array(&r, out, &n), CKR_DEVICE_ERROR);
    /* More entries than room: reported, only the room filled. */
    reader(&r, m, sizeof(m), "01 00000003 0000000000000001 0000000000000002 0000000000000003");
    n = 2;
    CHECK_EQ(p11r_ulong_array(&r, out, &n), CKR_BUFFER_TOO_SMALL);
    CHECK_EQ(n, 3);
}

TEST(unavailable_information_keeps_its_meaning)
{
    uint8_t m[16];
    struct p11r r;

    reader(&r, m, sizeof(m), "ffffffffffffffff");
    CHECK(p11r_ulong(&r) == CK_UNAVAILABLE_INFORMATION);
    CHECK(!r.failed);
}

TEST(attribute_values_answer)
{
    uint8_t m[128], id[8];
    CK_ULONG kt = 0;
    CK_BBOOL sens = 0;
    struct p11r r;
    CK_ATTRIBUTE t[] = {
        {CKA_KEY_TYPE, &kt, sizeof(kt)},
        {CKA_SENSITIVE, &sens, 1},
        {CKA_ID, id, sizeof(id)},
        {CKA_VALUE, NULL, 0},
        {CKA_PRIVATE_EXPONENT, id, sizeof(id)},
    };

    reader(&r, m, sizeof(m),
           "00000005"
           "00000100 01 00000008 0000000000000003"
           "00000103 01 00000001 01"
           "00000102 01 00000003 00000003 616263"
           "00000011 01 00000040 ffffffff"
           "00000123 00");
    CHECK_EQ(p11r_attr_values(&r, t, 5), CKR_OK);
    CHECK(kt == CKK_EC && sens == CK_TRUE);
    CHECK(t[2].ulValueLen == 3 && memcmp(id, "abc", 3) == 0);
    CHECK_EQ(t[3].ulValueLen, 64);          /* size query answered */
    CHECK(t[4].ulValueLen == (CK_ULONG)-1); /* sensitive: unavailable */
    /* Attributes in another order than asked: refused. */
    reader(&r, m, sizeof(m), "00000001 00000103 01 00000001 01");
    CHECK_EQ(p11r_attr_values(&r, t, 1), CKR_DEVICE_ERROR);
}

TEST(truncation_at_every_length_is_refused)
{
    uint8_t m[128];
    size_t n = unhex("0000002b 00000002 6179 01 00000004 deadbeef", m, sizeof(m));
    for (size_t cut = 0; cut < n; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        struct p11r r;
        CK_BYTE out[8];
        CK_ULONG len = sizeof(out);
        memcpy(copy, m, cut);
        p11r_init(&r, copy, cut);
        CK_RV rv = p11r_begin(&r, P11_CALL_Sign, "ay");
        if (rv == CKR_OK)
            rv = p11r_byte_array(&r, out, &len);
        int bad = rv == CKR_OK && p11r_done(&r);
        free(copy);
        CHECK(!bad);
    }
}

int main(void)
{
    RUN(login_request);
    RUN(template_values_by_kind);
    RUN(attribute_buffer_request);
    RUN(mechanisms);
    RUN(writer_overflow_is_sticky);
    RUN(error_answer_carries_the_ck_rv);
    RUN(byte_array_answers);
    RUN(ulong_arrays_and_hostile_counts);
    RUN(unavailable_information_keeps_its_meaning);
    RUN(attribute_values_answer);
    RUN(truncation_at_every_length_is_refused);
    return unit_summary();
}
