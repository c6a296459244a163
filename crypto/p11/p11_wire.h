/*
 * crypto/p11/p11_wire — encoding of p11-kit RPC messages (draft-ueno-pkcs11-rpc; p11-kit 0.24).
 *
 * Integers are big-endian. A CK_ULONG travels as 64 bits ('u'), a byte array as a 32-bit length
 * then the bytes (length 0xffffffff: NULL). A message body is the call id (u32), the signature
 * string as a byte array, then the arguments the signature names. Writers fail sticky on overflow
 * (check p11w.failed once at the end); readers walk a cursor towards an end pointer and fail
 * sticky on any read past it, so a hostile response can never be read out of bounds.
 */
#ifndef P11_WIRE_H
#define P11_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <p11-kit/pkcs11.h>

/* Call ids of p11-kit's call table (rpc-message.h), protocol version 0. */
enum p11_call {
    P11_CALL_ERROR = 0,
    P11_CALL_Initialize = 1,
    P11_CALL_Finalize = 2,
    P11_CALL_GetInfo = 3,
    P11_CALL_GetSlotList = 4,
    P11_CALL_GetSlotInfo = 5,
    P11_CALL_GetTokenInfo = 6,
    P11_CALL_GetMechanismList = 7,
    P11_CALL_GetMechanismInfo = 8,
    P11_CALL_OpenSession = 10,
    P11_CALL_CloseSession = 11,
    P11_CALL_GetSessionInfo = 13,
    P11_CALL_SetPIN = 15,
    P11_CALL_Login = 18,
    P11_CALL_Logout = 19,
    P11_CALL_CreateObject = 20,
    P11_CALL_DestroyObject = 22,
    P11_CALL_GetAttributeValue = 24,
    P11_CALL_SetAttributeValue = 25,
    P11_CALL_FindObjectsInit = 26,
    P11_CALL_FindObjects = 27,
    P11_CALL_FindObjectsFinal = 28,
    P11_CALL_EncryptInit = 29,
    P11_CALL_Encrypt = 30,
    P11_CALL_DecryptInit = 33,
    P11_CALL_Decrypt = 34,
    P11_CALL_SignInit = 42,
    P11_CALL_Sign = 43,
    P11_CALL_VerifyInit = 48,
    P11_CALL_Verify = 49,
    P11_CALL_GenerateKey = 58,
    P11_CALL_GenerateKeyPair = 59,
    P11_CALL_WrapKey = 60,
    P11_CALL_UnwrapKey = 61,
    P11_CALL_GenerateRandom = 64,
};

/* The string C_Initialize carries so the server knows the peer speaks this protocol. */
#define P11_HANDSHAKE "PRIVATE-GNOME-KEYRING-PKCS11-PROTOCOL-V-1"

struct p11w {
    uint8_t *buf;
    size_t cap;
    size_t len;
    bool failed;
};

struct p11r {
    const uint8_t *p;
    const uint8_t *end;
    bool failed;
};

/* ---- writing a request ---- */
void p11w_init(struct p11w *w, uint8_t *buf, size_t cap);
/* Call id and the request signature of that call. */
void p11w_begin(struct p11w *w, enum p11_call call, const char *signature);
void p11w_byte(struct p11w *w, uint8_t v);
void p11w_u32(struct p11w *w, uint32_t v);
void p11w_ulong(struct p11w *w, CK_ULONG v);                              /* 'u' */
void p11w_array(struct p11w *w, const void *data, size_t len);            /* raw byte array */
void p11w_byte_array(struct p11w *w, const void *data, size_t len);       /* 'ay' */
void p11w_byte_buffer(struct p11w *w, CK_ULONG capacity);                 /* 'fy' */
void p11w_ulong_buffer(struct p11w *w, CK_ULONG capacity);                /* 'fu' */
void p11w_zstring(struct p11w *w, const char *s);                         /* 'z' */
void p11w_template(struct p11w *w, const CK_ATTRIBUTE *t, CK_ULONG n);    /* 'aA' */
void p11w_attr_buffer(struct p11w *w, const CK_ATTRIBUTE *t, CK_ULONG n); /* 'fA' */
/* 'M'; false (and nothing written) for a mechanism whose parameters we cannot encode. */
bool p11w_mechanism(struct p11w *w, const CK_MECHANISM *m);

/* ---- reading a response ---- */
void p11r_init(struct p11r *r, const uint8_t *buf, size_t len);
/*
 * Check the call id and signature. Returns CKR_OK; the CK_RV of an error response; or
 * CKR_DEVICE_ERROR when the message is malformed or answers another call.
 */
CK_RV p11r_begin(struct p11r *r, enum p11_call call, const char *signature);
uint8_t p11r_byte(struct p11r *r);
uint32_t p11r_u32(struct p11r *r);
CK_ULONG p11r_ulong(struct p11r *r);
/* Raw byte array; *data NULL for the NULL encoding. */
void p11r_array(struct p11r *r, const uint8_t **data, uint32_t *len);
/*
 * 'ay' into out[cap]: *len receives the length. Returns CKR_OK, CKR_BUFFER_TOO_SMALL (out given
 * but too small, or the server sent only the length while out was given).
 */
CK_RV p11r_byte_array(struct p11r *r, CK_BYTE *out, CK_ULONG *len);
/* 'au' into out[cap] (NULL out: count only). */
CK_RV p11r_ulong_array(struct p11r *r, CK_ULONG *out, CK_ULONG *count);
/* 'v' */
void p11r_version(struct p11r *r, CK_VERSION *v);
/* 's': a fixed-width space-padded field, exactly len bytes. */
void p11r_space_string(struct p11r *r, CK_UTF8CHAR *out, size_t len);
/* 'aA' answering C_GetAttributeValue: fills t[] like PKCS#11 does; returns the per-call CK_RV
 * of filling (CKR_OK or CKR_BUFFER_TOO_SMALL); malformed input sets r->failed. */
CK_RV p11r_attr_values(struct p11r *r, CK_ATTRIBUTE *t, CK_ULONG n);
/* Everything consumed and nothing failed. */
bool p11r_done(const struct p11r *r);

/* How the server encodes an attribute's value. */
enum p11_value_kind { P11_VALUE_BYTES, P11_VALUE_BOOL, P11_VALUE_ULONG, P11_VALUE_UNSUPPORTED };
enum p11_value_kind p11_attr_kind(CK_ATTRIBUTE_TYPE type);

#endif
