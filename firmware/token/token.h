/*
 * firmware/token — the appliance's view of its PKCS#11 token.
 *
 * Keeps one read-write session open and, once the operator has logged in, the user PIN in RAM so
 * that after the link drops (the server closes sessions and logins with the connection) it can
 * open a new session and log in again without the operator. Every operation that fails because
 * of the link is retried once on a fresh session. Returns CK_RV values; link trouble surfaces as
 * CKR_DEVICE_ERROR.
 */
#ifndef TOKEN_H
#define TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <p11-kit/pkcs11.h>

#include "signet_config.h"

/* The SLC key pair: one per token, found by this CKA_ID (CKA_LABEL says the same to people). */
#define TOKEN_SLC_ID    "signet-slc"
#define TOKEN_SLC_LABEL "Signet SLC key"

enum token_key_alg { TOKEN_RSA2048, TOKEN_P256 };

struct token {
    CK_FUNCTION_LIST_PTR f;
    CK_SLOT_ID slot;
    CK_SESSION_HANDLE session;
    bool have_session;
    uint32_t session_gen; /* link generation the session was opened on */
    bool logged_in;       /* the operator logged in; the PIN below is held for re-login */
    uint8_t pin[TOKEN_PIN_MAX];
    size_t pin_len;
    CK_OBJECT_HANDLE slc_priv; /* cached, valid for session_gen */
    bool have_slc;
    enum token_key_alg slc_alg;
    uint32_t relogins;
};

void token_init(struct token *t);

/* C_Login with pin; on success the PIN is kept for re-login. CKR_PIN_INCORRECT, CKR_PIN_LOCKED… */
CK_RV token_login(struct token *t, const uint8_t *pin, size_t len);
CK_RV token_logout(struct token *t);

CK_RV token_get_info(struct token *t, CK_TOKEN_INFO *info);
/* Fills mechs[*count] with the mechanisms the appliance cares about that the token offers. */
CK_RV token_mechanisms(struct token *t, CK_MECHANISM_TYPE *mechs, CK_ULONG *count);

/* Is there an SLC private key? *alg set when found. */
CK_RV token_find_slc(struct token *t, bool *found, enum token_key_alg *alg);

/*
 * Create the SLC key pair inside the token (sensitive, never extractable, sign-only). With
 * replace, an existing pair is destroyed only after the new one exists.
 */
CK_RV token_generate_slc(struct token *t, enum token_key_alg alg, bool replace);

/* Sign data with the SLC key: SHA-256 with RSA PKCS#1 v1.5, or ECDSA over SHA-256 (DER). */
CK_RV token_sign_slc(struct token *t, const uint8_t *data, size_t len, uint8_t *sig,
                     size_t *sig_len);

const char *token_rv_name(CK_RV rv);

#endif
