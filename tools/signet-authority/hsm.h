/*
 * tools/signet-authority/hsm — the authority's small PKCS#11 layer: a module loaded with
 * dlopen, one read/write session on one token, and the handful of calls the authority makes.
 *
 * The module's answers are untrusted: every length it returns is checked against the caller's
 * buffer before use. Functions return 0 or a negative errno (-ENOENT no such token or object,
 * -EACCES login refused, -ENOSPC an answer larger than the buffer, -EIO any other failure); on
 * failure hsm.why holds a one-line reason naming the PKCS#11 call and its CKR_ code. Single
 * session, single thread; no reconnection (a host program talks to a directly linked module).
 */
#ifndef AUTHORITY_HSM_H
#define AUTHORITY_HSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <p11-kit/pkcs11.h>

#define HSM_WHY_MAX   160
#define HSM_LABEL_MAX 32 /* CK_TOKEN_INFO.label: 32 blank-padded characters */

struct hsm {
    void *lib;
    CK_FUNCTION_LIST *f;
    bool initialized;
    CK_SESSION_HANDLE session;
    bool has_session;
    char why[HSM_WHY_MAX];
};

/* Load module, initialise it and open a session on the token labelled label (NULL: the only
 * initialised token there is). hsm_close() undoes whatever was done, also after a failure. */
int hsm_open(struct hsm *h, const char *module, const char *label);
void hsm_close(struct hsm *h);

/* Log the session in as the token's user. -EACCES for a refused PIN. */
int hsm_login(struct hsm *h, const uint8_t *pin, size_t len);

/* Objects of class cls with CKA_ID id, at most max handles into out; *n how many. */
int hsm_find(struct hsm *h, CK_OBJECT_CLASS cls, const char *id, CK_OBJECT_HANDLE *out, size_t max,
             size_t *n);

/* One attribute into out[cap]; *len its length. */
int hsm_attr(struct hsm *h, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type, uint8_t *out, size_t cap,
             size_t *len);

int hsm_random(struct hsm *h, uint8_t *out, size_t len);

/* CKM_SHA256_RSA_PKCS over data with the private key key. */
int hsm_sign_rsa_sha256(struct hsm *h, CK_OBJECT_HANDLE key, const uint8_t *data, size_t len,
                        uint8_t *sig, size_t cap, size_t *sig_len);

/* A token RSA key pair (exponent 65537) with this CKA_ID and label: the private half
 * private, sensitive, never extractable and able to sign only. */
int hsm_generate_rsa(struct hsm *h, const char *id, const char *label, CK_ULONG bits,
                     CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv);

/* A public X.509 certificate object on the token beside the key with the same CKA_ID. */
int hsm_store_cert(struct hsm *h, const char *id, const char *label, const uint8_t *subject,
                   size_t subject_len, const uint8_t *der, size_t len, CK_OBJECT_HANDLE *out);

/* Token data objects (CKO_DATA, private: read only when logged in) found by their CKA_LABEL,
 * and a new one with that label and value. */
int hsm_find_data(struct hsm *h, const char *label, CK_OBJECT_HANDLE *out, size_t max, size_t *n);
int hsm_store_data(struct hsm *h, const char *label, const uint8_t *value, size_t len,
                   CK_OBJECT_HANDLE *out);

int hsm_destroy(struct hsm *h, CK_OBJECT_HANDLE obj);

#endif
