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
/* The HTTPS server's key pair and its certificate object (same CKA_ID). */
#define TOKEN_TLS_ID    "signet-tls"
#define TOKEN_TLS_LABEL "Signet TLS key"
/* The audit key: P-256, sign-only, seals the audit ring's chain (firmware/audit). */
#define TOKEN_AUDIT_ID    "signet-audit"
#define TOKEN_AUDIT_LABEL "Signet audit key"

/* The content-key encryption key (CKEK): RSA-2048, unwrap-only private half (CKA_UNWRAP; no
 * sign, no decrypt: a key never both signs and decrypts), wrap-only public half. */
#define TOKEN_CKEK_ID    "signet-ckek"
#define TOKEN_CKEK_LABEL "Signet content-key encryption key"

/* Content keys are AES-256, made and used only inside the token; they travel wrapped with
 * RSA-OAEP (SHA-1 and MGF1-SHA1: the only OAEP parameters SoftHSM2 2.6 implements). */
#define TOKEN_CONTENT_KEY_LEN 32
#define TOKEN_WRAPPED_MAX     512

enum token_key_alg { TOKEN_RSA2048, TOKEN_P256 };

/* A key's name holds more than one private or public key, or only one half of a pair: such a key
 * is never used (which one would sign?); generating it with replace clears it. */
#define TOKEN_RV_PAIR_DAMAGED (CKR_VENDOR_DEFINED | 0x5349UL)

/* The longest signature a token key of ours makes (RSA-4096; P-256 DER is far shorter). */
#define TOKEN_SIG_MAX 512

/* A sign-only key pair the appliance keeps in the token, named by CKA_ID. The private key's
 * handle is looked up once and cached until the session changes (epoch). */
struct token_key {
    const char *id;
    const char *label;
    CK_OBJECT_HANDLE priv;
    CK_OBJECT_HANDLE pub; /* the public half, looked up when first needed (CKEK: for wrapping) */
    enum token_key_alg alg;
    uint32_t epoch; /* == token.epoch while priv is valid; 0 never is */
};

/* A user's RSA public key imported as a session object for wrapping (token_content_key_*):
 * found again by the SHA-256 of its SubjectPublicKeyInfo, valid while epoch == token.epoch and
 * the session it was made in is the current one. */
struct token_user_key {
    uint8_t spki_hash[32];
    CK_OBJECT_HANDLE handle;
    CK_SESSION_HANDLE session;
    uint32_t session_gen;
    uint32_t epoch; /* 0: empty */
    uint32_t used;  /* token.user_key_clock at the last use: the smallest goes first */
    size_t modulus_len;
};

struct token {
    CK_FUNCTION_LIST_PTR f;
    CK_SLOT_ID slot;
    CK_SESSION_HANDLE session;
    bool have_session;
    uint32_t session_gen; /* link generation the session was opened on */
    bool logged_in;       /* the operator logged in; the PIN below is held for re-login */
    uint8_t pin[TOKEN_PIN_MAX];
    size_t pin_len;
    uint32_t epoch; /* bumps when cached handles die: new session, login, logout, generate */
    struct token_key slc, tls, ckek, audit;
    uint32_t relogins;
    struct token_user_key user_keys[TOKEN_USER_KEYS];
    uint32_t user_key_clock;
#if SIGNET_TEST_HOOKS
    /* Called at each step of a crash-safe replacement (tests of crash safety): the app's test
     * code announces the step and pauses there, so a test can cut the power at every point. */
    void (*test_step)(void *ctx, const char *step);
    void *test_ctx;
#endif
};

void token_init(struct token *t);

/* C_Login with pin; on success the PIN is kept for re-login. CKR_PIN_INCORRECT, CKR_PIN_LOCKED… */
CK_RV token_login(struct token *t, const uint8_t *pin, size_t len);
CK_RV token_logout(struct token *t);
/*
 * C_SetPIN for the logged-in user: old_pin must be the token's current PIN. On success the PIN
 * held for re-login becomes new_pin. Tried once (see token.c). CKR_USER_NOT_LOGGED_IN without a
 * login, CKR_PIN_INCORRECT, CKR_PIN_LEN_RANGE, CKR_PIN_INVALID…
 */
CK_RV token_set_pin(struct token *t, const uint8_t *old_pin, size_t old_len, const uint8_t *new_pin,
                    size_t new_len);

CK_RV token_get_info(struct token *t, CK_TOKEN_INFO *info);
/* Fills mechs[*count] with the mechanisms the appliance cares about that the token offers. */
CK_RV token_mechanisms(struct token *t, CK_MECHANISM_TYPE *mechs, CK_ULONG *count);

/* Is there such a key pair, whole? *alg set when found. A replacement that was cut off is
 * finished or undone first; duplicates or a lone half give TOKEN_RV_PAIR_DAMAGED. Not logged in:
 * not found (private keys are out of sight). */
CK_RV token_find_key(struct token *t, struct token_key *k, bool *found, enum token_key_alg *alg);

/*
 * Create the key pair inside the token (sensitive, never extractable, sign-only). The new pair is
 * made under the staged id ("<id>-new"); with replace, the existing pair (or damaged remains) is
 * retired only once the new one exists whole, then the new one renamed, so a cut anywhere leaves
 * one whole pair once looked up again. Without replace, an existing pair gives
 * CKR_FUNCTION_REJECTED.
 */
CK_RV token_generate_key(struct token *t, struct token_key *k, enum token_key_alg alg,
                         bool replace);

/* The CKEK pair (RSA-2048, see TOKEN_CKEK_ID), with replace semantics as token_generate_key. */
CK_RV token_generate_unwrap_key(struct token *t, struct token_key *k, bool replace);

/*
 * Publishing: a new AES-256 content key generated in the token (a session object, sensitive),
 * wrapped with RSA-OAEP to the CKEK's public key (to_ckek) and to the RSA public key user_spki
 * (DER SubjectPublicKeyInfo, RSA 2048..4096; to_user), then destroyed. *_len: capacity in,
 * length out. CKR_KEY_TYPE_INCONSISTENT for a user key that is not RSA in bounds.
 */
CK_RV token_content_key_new(struct token *t, struct token_key *ckek, const uint8_t *user_spki,
                            size_t user_len, uint8_t *to_ckek, size_t *to_ckek_len,
                            uint8_t *to_user, size_t *to_user_len);
/*
 * Licensing: unwrap `wrapped` with the CKEK inside the token and wrap the content key again to
 * user_spki, so the clear key never leaves the token. CKR_WRAPPED_KEY_INVALID when the CKEK
 * does not open it (not this cluster's, or tampered).
 */
CK_RV token_content_key_rewrap(struct token *t, struct token_key *ckek, const uint8_t *wrapped,
                               size_t wrapped_len, const uint8_t *user_spki, size_t user_len,
                               uint8_t *out, size_t *out_len);

/* Sign data: SHA-256 with RSA PKCS#1 v1.5, or ECDSA over SHA-256 (DER). No such key:
 * CKR_KEY_HANDLE_INVALID. */
CK_RV token_sign(struct token *t, struct token_key *k, const uint8_t *data, size_t len,
                 uint8_t *sig, size_t *sig_len);

/* The signature token_sign would make over data, given only the data's SHA-256 (data too large
 * to cross the HSM link, a CRL of thousands of entries): RSA PKCS#1 v1.5 over the DigestInfo
 * (CKM_RSA_PKCS), or ECDSA over the digest (CKM_ECDSA), DER as X.509 wants it. */
CK_RV token_sign_sha256(struct token *t, struct token_key *k, const uint8_t digest[32],
                        uint8_t *sig, size_t *sig_len);

/* ECDSA over a digest the caller made: r || s, each as long as the curve order (64 for P-256). */
CK_RV token_sign_digest(struct token *t, struct token_key *k, const uint8_t *digest, size_t len,
                        uint8_t *rs, size_t *rs_len);

/* The EC public key as an uncompressed point (0x04 || X || Y), from the public key object. */
CK_RV token_ec_point(struct token *t, struct token_key *k, uint8_t *out, size_t cap, size_t *len);

/* The X.509 certificate object with CKA_ID id: *len = 0 when there is none. */
CK_RV token_cert_read(struct token *t, const char *id, uint8_t *der, size_t cap, size_t *len);
/* Store a certificate (DER, with its subject name's DER) under id; an older one with that id
 * goes only once the new one exists, so a power cut leaves one or the other. */
CK_RV token_cert_write(struct token *t, const char *id, const char *label, const uint8_t *der,
                       size_t len, const uint8_t *subject, size_t subject_len);

/* A private data object (CKO_DATA, named by CKA_LABEL): the appliance's configuration, trust
 * anchor, SLC. Read: *len = 0 when there is none. Write: replaces crash-safely, as certificates.
 * Values up to TOKEN_DATA_MAX bytes. */
CK_RV token_data_read(struct token *t, const char *name, uint8_t *out, size_t cap, size_t *len);
CK_RV token_data_write(struct token *t, const char *name, const uint8_t *data, size_t len);

/* The public key of a key pair as DER SubjectPublicKeyInfo (RSA or P-256). */
CK_RV token_public_spki(struct token *t, struct token_key *k, uint8_t *out, size_t cap,
                        size_t *len);

/*
 * Test builds (SIGNET_TEST_HOOKS): each step of a crash-safe replacement calls t->test_step when
 * the app's test code set one. Compiled to nothing otherwise.
 */
#if SIGNET_TEST_HOOKS
static inline void token_test_step(struct token *t, const char *step)
{
    if (t->test_step)
        t->test_step(t->test_ctx, step);
}
/* Session objects (CKA_TOKEN=FALSE) the appliance's session holds: secret keys, public keys,
 * and how many of those public keys are cached users' keys (token_test.c). */
CK_RV token_test_session_objects(struct token *t, unsigned *secret_keys, unsigned *public_keys,
                                 unsigned *cached);
#else
#define token_test_step(t, step) ((void)(t), (void)(step))
#endif

/* Random bytes from the token's generator (C_GenerateRandom). */
CK_RV token_random(struct token *t, uint8_t *out, size_t len);

const char *token_rv_name(CK_RV rv);

#endif
