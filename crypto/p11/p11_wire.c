#include "p11_wire.h"

#include <string.h>

/* Every ULONG attribute value travels as 8 bytes and the server decodes it into its own 8-byte
 * CK_ULONG; it refuses a template whose length field is smaller than that, so we always claim 8
 * even where our CK_ULONG is 4 bytes (ARM). */
#define WIRE_ULONG_LEN  8u
#define WIRE_NULL_ARRAY 0xffffffffu
#define WIRE_ARRAY_MAX  0x7ffffffeu

/* ---- writer ---- */

void p11w_init(struct p11w *w, uint8_t *buf, size_t cap)
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->failed = false;
}

static void put(struct p11w *w, const void *data, size_t n)
{
    if (w->failed || n > w->cap - w->len) {
        w->failed = true;
        return;
    }
    memcpy(w->buf + w->len, data, n);
    w->len += n;
}

void p11w_byte(struct p11w *w, uint8_t v)
{
    put(w, &v, 1);
}

void p11w_u32(struct p11w *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put(w, b, 4);
}

static void p11w_u64(struct p11w *w, uint64_t v)
{
    p11w_u32(w, (uint32_t)(v >> 32));
    p11w_u32(w, (uint32_t)v);
}

void p11w_ulong(struct p11w *w, CK_ULONG v)
{
    p11w_u64(w, v);
}

void p11w_array(struct p11w *w, const void *data, size_t len)
{
    if (!data) {
        p11w_u32(w, WIRE_NULL_ARRAY);
        return;
    }
    if (len > WIRE_ARRAY_MAX) {
        w->failed = true;
        return;
    }
    p11w_u32(w, (uint32_t)len);
    put(w, data, len);
}

void p11w_begin(struct p11w *w, enum p11_call call, const char *signature)
{
    p11w_u32(w, (uint32_t)call);
    p11w_array(w, signature, strlen(signature));
}

void p11w_byte_array(struct p11w *w, const void *data, size_t len)
{
    if (!data) {
        p11w_byte(w, 0);
        p11w_u32(w, (uint32_t)len);
        return;
    }
    p11w_byte(w, 1);
    p11w_array(w, data, len);
}

void p11w_byte_buffer(struct p11w *w, CK_ULONG capacity)
{
    if (capacity > WIRE_ARRAY_MAX) {
        w->failed = true;
        return;
    }
    p11w_u32(w, (uint32_t)capacity);
}

void p11w_ulong_buffer(struct p11w *w, CK_ULONG capacity)
{
    p11w_byte_buffer(w, capacity);
}

void p11w_zstring(struct p11w *w, const char *s)
{
    p11w_array(w, s, strlen(s));
}

enum p11_value_kind p11_attr_kind(CK_ATTRIBUTE_TYPE type)
{
    switch (type) {
    case CKA_TOKEN:
    case CKA_PRIVATE:
    case CKA_TRUSTED:
    case CKA_SENSITIVE:
    case CKA_ENCRYPT:
    case CKA_DECRYPT:
    case CKA_WRAP:
    case CKA_UNWRAP:
    case CKA_SIGN:
    case CKA_SIGN_RECOVER:
    case CKA_VERIFY:
    case CKA_VERIFY_RECOVER:
    case CKA_DERIVE:
    case CKA_EXTRACTABLE:
    case CKA_LOCAL:
    case CKA_NEVER_EXTRACTABLE:
    case CKA_ALWAYS_SENSITIVE:
    case CKA_MODIFIABLE:
    case CKA_COPYABLE:
    case CKA_ALWAYS_AUTHENTICATE:
    case CKA_WRAP_WITH_TRUSTED:
        return P11_VALUE_BOOL;
    case CKA_CLASS:
    case CKA_CERTIFICATE_TYPE:
    case CKA_CERTIFICATE_CATEGORY:
    case CKA_KEY_TYPE:
    case CKA_MODULUS_BITS:
    case CKA_VALUE_BITS:
    case CKA_VALUE_LEN:
    case CKA_KEY_GEN_MECHANISM:
    case CKA_MECHANISM_TYPE:
        return P11_VALUE_ULONG;
    case CKA_WRAP_TEMPLATE:
    case CKA_UNWRAP_TEMPLATE:
    case CKA_ALLOWED_MECHANISMS:
    case CKA_START_DATE:
    case CKA_END_DATE:
        return P11_VALUE_UNSUPPORTED; /* nested or structured values: not needed here */
    default:
        return P11_VALUE_BYTES;
    }
}

static uint32_t wire_len(const CK_ATTRIBUTE *a)
{
    switch (p11_attr_kind(a->type)) {
    case P11_VALUE_BOOL:
        return 1;
    case P11_VALUE_ULONG:
        return WIRE_ULONG_LEN;
    default:
        return (uint32_t)a->ulValueLen;
    }
}

void p11w_template(struct p11w *w, const CK_ATTRIBUTE *t, CK_ULONG n)
{
    p11w_u32(w, (uint32_t)n);
    for (CK_ULONG i = 0; i < n && !w->failed; i++) {
        const CK_ATTRIBUTE *a = &t[i];
        enum p11_value_kind kind = p11_attr_kind(a->type);
        p11w_u32(w, (uint32_t)a->type);
        if (a->ulValueLen == (CK_ULONG)-1) {
            p11w_byte(w, 0);
            continue;
        }
        p11w_byte(w, 1);
        if (kind == P11_VALUE_UNSUPPORTED || a->ulValueLen > WIRE_ARRAY_MAX ||
            (kind == P11_VALUE_BOOL && a->ulValueLen != sizeof(CK_BBOOL)) ||
            (kind == P11_VALUE_ULONG && a->ulValueLen != sizeof(CK_ULONG))) {
            w->failed = true;
            return;
        }
        p11w_u32(w, wire_len(a));
        if (kind == P11_VALUE_BOOL)
            p11w_byte(w, a->pValue ? *(const CK_BBOOL *)a->pValue : 0);
        else if (kind == P11_VALUE_ULONG)
            p11w_u64(w, a->pValue ? *(const CK_ULONG *)a->pValue : 0);
        else
            p11w_array(w, a->pValue, a->ulValueLen);
    }
}

void p11w_attr_buffer(struct p11w *w, const CK_ATTRIBUTE *t, CK_ULONG n)
{
    p11w_u32(w, (uint32_t)n);
    for (CK_ULONG i = 0; i < n; i++) {
        if (p11_attr_kind(t[i].type) == P11_VALUE_UNSUPPORTED || t[i].ulValueLen > WIRE_ARRAY_MAX) {
            w->failed = true;
            return;
        }
        p11w_u32(w, (uint32_t)t[i].type);
        p11w_u32(w, t[i].pValue ? wire_len(&t[i]) : 0);
    }
}

bool p11w_mechanism(struct p11w *w, const CK_MECHANISM *m)
{
    /* p11-kit 0.24 serialises PSS and OAEP parameters field by field; any other parameter block
     * goes as plain bytes, which only works when it holds no pointers (an IV, say). */
    if (m->mechanism == CKM_RSA_PKCS_PSS && m->pParameter) {
        const CK_RSA_PKCS_PSS_PARAMS *p = m->pParameter;
        if (m->ulParameterLen != sizeof(*p))
            return false;
        p11w_u32(w, (uint32_t)m->mechanism);
        p11w_u64(w, p->hashAlg);
        p11w_u64(w, p->mgf);
        p11w_u64(w, p->sLen);
        return true;
    }
    if (m->mechanism == CKM_RSA_PKCS_OAEP && m->pParameter) {
        const CK_RSA_PKCS_OAEP_PARAMS *p = m->pParameter;
        if (m->ulParameterLen != sizeof(*p))
            return false;
        p11w_u32(w, (uint32_t)m->mechanism);
        p11w_u64(w, p->hashAlg);
        p11w_u64(w, p->mgf);
        p11w_u64(w, p->source);
        p11w_array(w, p->pSourceData, p->ulSourceDataLen);
        return true;
    }
    if (m->mechanism == CKM_AES_GCM || m->mechanism == CKM_AES_CCM)
        return false; /* parameter structs with pointers */
    p11w_u32(w, (uint32_t)m->mechanism);
    p11w_array(w, m->ulParameterLen ? m->pParameter : NULL, m->ulParameterLen);
    return true;
}

/* ---- reader ---- */

void p11r_init(struct p11r *r, const uint8_t *buf, size_t len)
{
    r->p = buf;
    r->end = buf + len;
    r->failed = false;
}

static const uint8_t *take(struct p11r *r, size_t n)
{
    const uint8_t *at = r->p;
    if (r->failed || n > (size_t)(r->end - r->p)) {
        r->failed = true;
        return NULL;
    }
    r->p += n;
    return at;
}

uint8_t p11r_byte(struct p11r *r)
{
    const uint8_t *b = take(r, 1);
    return b ? b[0] : 0;
}

uint32_t p11r_u32(struct p11r *r)
{
    const uint8_t *b = take(r, 4);
    return b ? (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3] : 0;
}

static uint64_t p11r_u64(struct p11r *r)
{
    uint64_t hi = p11r_u32(r);
    return hi << 32 | p11r_u32(r);
}

CK_ULONG p11r_ulong(struct p11r *r)
{
    uint64_t v = p11r_u64(r);
    /* The server's (CK_ULONG)-1 (CK_UNAVAILABLE_INFORMATION) is ours too, whatever our width.
     * Any other value our CK_ULONG cannot hold is a lie from the peer, not something to truncate.
     */
    if (v == UINT64_MAX)
        return (CK_ULONG)-1;
    if (v > (CK_ULONG)-1) {
        r->failed = true;
        return 0;
    }
    return (CK_ULONG)v;
}

void p11r_array(struct p11r *r, const uint8_t **data, uint32_t *len)
{
    uint32_t n = p11r_u32(r);

    *data = NULL;
    *len = 0;
    if (r->failed || n == WIRE_NULL_ARRAY)
        return;
    *data = take(r, n);
    *len = *data ? n : 0;
}

CK_RV p11r_begin(struct p11r *r, enum p11_call call, const char *signature)
{
    const uint8_t *sig;
    uint32_t sig_len;
    uint32_t id = p11r_u32(r);

    p11r_array(r, &sig, &sig_len);
    if (r->failed || !sig)
        return CKR_DEVICE_ERROR;
    if (id == P11_CALL_ERROR) {
        CK_ULONG rv;
        if (sig_len != 1 || sig[0] != 'u')
            return CKR_DEVICE_ERROR;
        rv = p11r_ulong(r);
        if (!p11r_done(r) || rv == CKR_OK)
            return CKR_DEVICE_ERROR;
        return rv;
    }
    if (id != (uint32_t)call || sig_len != strlen(signature) || memcmp(sig, signature, sig_len))
        return CKR_DEVICE_ERROR;
    return CKR_OK;
}

CK_RV p11r_byte_array(struct p11r *r, CK_BYTE *out, CK_ULONG *len)
{
    uint8_t valid = p11r_byte(r);
    const uint8_t *data;
    uint32_t n;

    if (!valid) {
        *len = p11r_u32(r);
        return out ? CKR_BUFFER_TOO_SMALL : CKR_OK;
    }
    p11r_array(r, &data, &n);
    if (r->failed || !data) {
        r->failed = true;
        return CKR_DEVICE_ERROR;
    }
    if (out) {
        if (n > *len) {
            *len = n;
            return CKR_BUFFER_TOO_SMALL;
        }
        memcpy(out, data, n);
    }
    *len = n;
    return CKR_OK;
}

CK_RV p11r_ulong_array(struct p11r *r, CK_ULONG *out, CK_ULONG *count)
{
    uint8_t valid = p11r_byte(r);
    uint32_t n = p11r_u32(r);
    CK_ULONG cap = out ? *count : 0;

    *count = n;
    if (!valid)
        return out ? CKR_BUFFER_TOO_SMALL : CKR_OK;
    /* Each element is 8 bytes: a count the message cannot hold is refused before looping. */
    if (r->failed || n > (size_t)(r->end - r->p) / 8) {
        r->failed = true;
        return CKR_DEVICE_ERROR;
    }
    for (uint32_t i = 0; i < n; i++) {
        CK_ULONG v = p11r_ulong(r);
        if (out && i < cap)
            out[i] = v;
    }
    return (out && n > cap) ? CKR_BUFFER_TOO_SMALL : CKR_OK;
}

void p11r_version(struct p11r *r, CK_VERSION *v)
{
    v->major = p11r_byte(r);
    v->minor = p11r_byte(r);
}

void p11r_space_string(struct p11r *r, CK_UTF8CHAR *out, size_t len)
{
    const uint8_t *data;
    uint32_t n;

    p11r_array(r, &data, &n);
    if (r->failed || !data || n != len) {
        r->failed = true;
        memset(out, ' ', len);
        return;
    }
    memcpy(out, data, len);
}

CK_RV p11r_attr_values(struct p11r *r, CK_ATTRIBUTE *t, CK_ULONG n)
{
    CK_RV rv = CKR_OK;

    if (p11r_u32(r) != n) {
        r->failed = true;
        return CKR_DEVICE_ERROR;
    }
    for (CK_ULONG i = 0; i < n && !r->failed; i++) {
        CK_ATTRIBUTE *a = &t[i];
        if (p11r_u32(r) != (uint32_t)a->type) {
            r->failed = true;
            break;
        }
        if (!p11r_byte(r)) {
            a->ulValueLen = (CK_ULONG)-1; /* sensitive, invalid or too small: per the server */
            continue;
        }
        uint32_t declared = p11r_u32(r);
        switch (p11_attr_kind(a->type)) {
        case P11_VALUE_BOOL: {
            uint8_t v = p11r_byte(r);
            if (a->pValue && a->ulValueLen >= sizeof(CK_BBOOL))
                *(CK_BBOOL *)a->pValue = v;
            else if (a->pValue)
                rv = CKR_BUFFER_TOO_SMALL;
            a->ulValueLen = sizeof(CK_BBOOL);
            break;
        }
        case P11_VALUE_ULONG: {
            CK_ULONG v = p11r_ulong(r);
            if (a->pValue && a->ulValueLen >= sizeof(CK_ULONG))
                *(CK_ULONG *)a->pValue = v;
            else if (a->pValue)
                rv = CKR_BUFFER_TOO_SMALL;
            a->ulValueLen = sizeof(CK_ULONG);
            break;
        }
        case P11_VALUE_BYTES: {
            const uint8_t *data;
            uint32_t len;
            p11r_array(r, &data, &len);
            if (!data) {
                a->ulValueLen = declared; /* a size query's answer */
            } else if (a->pValue && len <= a->ulValueLen) {
                memcpy(a->pValue, data, len);
                a->ulValueLen = len;
            } else {
                a->ulValueLen = a->pValue ? (CK_ULONG)-1 : len;
                if (a->pValue)
                    rv = CKR_BUFFER_TOO_SMALL;
            }
            break;
        }
        default:
            r->failed = true;
            break;
        }
    }
    return r->failed ? CKR_DEVICE_ERROR : rv;
}

bool p11r_done(const struct p11r *r)
{
    return !r->failed && r->p == r->end;
}
