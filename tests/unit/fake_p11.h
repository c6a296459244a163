/*
 * tests/unit/fake_p11 — an in-memory PKCS#11 token behind crypto/p11/p11_client.h's API, for unit
 * tests of the modules above firmware/token. It holds data objects, certificates and key-pair
 * halves (named by CKA_LABEL / CKA_ID), checks the user PIN, hides private objects from a session
 * not logged in, and can be made to fail:
 *   - fake_p11_fail_at(n, applies): the n-th call from now answers CKR_DEVICE_ERROR and the link
 *     drops (as p11_client does on any transport failure); a mutating call takes effect first
 *     when applies (the answer was lost, not the request);
 *   - fake_p11_link_lost(): the connection goes; the generation bumps and every session handle
 *     answers CKR_SESSION_HANDLE_INVALID, logins with it;
 *   - fake_p11_power_cut_at(n): as fail_at, then nothing answers until fake_p11_power_on() —
 *     the test then re-initialises the firmware's RAM state (token_init) while the objects stay.
 * Generated P-256 public keys answer CKA_EC_POINT (the curve's base point); signing extensions
 * answer CKR_FUNCTION_NOT_SUPPORTED: no key material lives here.
 */
#ifndef FAKE_P11_H
#define FAKE_P11_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <p11-kit/pkcs11.h>

#define FAKE_P11_OBJS      64
#define FAKE_P11_NAME_MAX  64
#define FAKE_P11_VALUE_MAX 8192

struct fake_p11_obj {
    bool used;
    bool is_private;   /* CKA_PRIVATE: found only by a logged-in session */
    bool session_only; /* CKA_TOKEN false: gone with the session */
    CK_OBJECT_CLASS cls;
    CK_KEY_TYPE kt;
    char id[FAKE_P11_NAME_MAX];
    char label[FAKE_P11_NAME_MAX];
    uint8_t value[FAKE_P11_VALUE_MAX];
    size_t value_len;
    int pair; /* which C_GenerateKeyPair made it: both halves of one pair share it */
};

/* An empty token, link up, user PIN "123456", no failure armed, counters at zero. */
void fake_p11_reset(void);

void fake_p11_fail_at(int nth, bool applies);
void fake_p11_power_cut_at(int nth, bool applies);
void fake_p11_power_on(void);
void fake_p11_link_lost(void);
/* Counted in mutating calls only (create, set, destroy, generate) from now: the nth is cut, the
 * link dropping (and with power the power going); with again the next one after it too (the
 * retry's). */
void fake_p11_cut_mutation_at(int nth, bool applies, bool power, bool again);
/* Mutating calls tried (a cut one included) since the reset, and key pairs generated. */
int fake_p11_mutating_calls(void);
int fake_p11_pairs_made(void);

/* fn (NULL: none) runs as every call begins, until the reset: a call is where the token task's
 * fiber parks on the appliance and other tasks look at what it is changing (they must see a
 * whole state, old or new). */
void fake_p11_on_call(void (*fn)(void));

/* Calls made, and mutating calls that took effect, since the reset. */
int fake_p11_calls(void);
int fake_p11_mutations(void);

/* The token's objects, for a test to look at or plant. */
struct fake_p11_obj *fake_p11_objects(void);
/* A token object of class cls named name (CKA_LABEL for CKO_DATA, else CKA_ID) holding value. */
struct fake_p11_obj *fake_p11_put(CK_OBJECT_CLASS cls, const char *name, const void *value,
                                  size_t len);
/* How many token objects of class cls carry this name. */
int fake_p11_count(CK_OBJECT_CLASS cls, const char *name);
/* The one object of class cls named name, or NULL (none, or more than one). */
const struct fake_p11_obj *fake_p11_find(CK_OBJECT_CLASS cls, const char *name);

#endif
