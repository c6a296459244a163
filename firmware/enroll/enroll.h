/*
 * firmware/enroll — the appliance's place in the trust hierarchy: its configuration, the
 * authority root it trusts, its server licensor certificate (SLC), and the documents that get it
 * one (docs/requirements.md R2–R7, R10, R11).
 *
 * State lives in the token, as private data objects that cluster members share
 * (docs/architecture.md): "signet-config" (name, cluster URL, revocation, role, markers),
 * "signet-trust" (the authority root, DER) and "signet-slc" (the SLC and its chain). Each is
 * replaced crash-safely (token_data_write), so an import cut off at any instant leaves the old
 * SLC or the new one in force, never a mix or none. This module keeps a copy in RAM, read at
 * login (enroll_load) and rewritten with every change.
 *
 * An import is accepted only if the response's SLC is for this token's SLC key, chains to the
 * trusted authority root with the rights a root server needs, and is valid now; otherwise
 * nothing changes and *why says what was wrong. Functions return 0 or a negative errno.
 */
#ifndef ENROLL_H
#define ENROLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/doc.h"
#include "crypto/x509.h"
#include "firmware/token/token.h"

#define ENROLL_RENEW_WARN_DAYS 30 /* status and the audit log warn below this */

enum enroll_state {
    ENROLL_UNKNOWN,          /* not loaded (nobody logged in) */
    ENROLL_UNPROVISIONED,    /* no SLC key yet */
    ENROLL_KEY_GENERATED,    /* a key, no request out */
    ENROLL_REQUEST_EXPORTED, /* a request went out; no SLC yet */
    ENROLL_ENROLLED,         /* a valid SLC for the key is installed */
    ENROLL_RENEWAL_PENDING,  /* enrolled, and a renewal request is out */
    ENROLL_EXPIRED,          /* the installed SLC is no longer valid (or not yet) */
};

enum enroll_role { ENROLL_ROLE_ROOT = 0, ENROLL_ROLE_LICENSING = 1 };

struct enroll_config {
    char name[DOC_NAME_MAX + 1];
    char cluster_url[DOC_URL_MAX + 1];
    enum doc_revocation revocation;
    uint8_t revoker[DOC_KEY_MAX];
    size_t revoker_len;
    enum enroll_role role;
    char root_url[DOC_URL_MAX + 1]; /* licensing: the root cluster it sub-enrolls to and forwards
                                       certification requests to */
    bool requested;                 /* an enrollment request was exported */
    /* A renewal request is out for the SLC with this serial; pending while that SLC is in force. */
    uint8_t renewal_for[20];
    size_t renewal_for_len;
};

struct enroll {
    struct token *token;
    bool loaded;
    struct enroll_config cfg;
    uint8_t anchor[DOC_CERT_MAX];
    size_t anchor_len;       /* 0: no authority root imported */
    struct doc_response slc; /* slc_len 0: none installed */
    struct x509_info info;   /* of slc.slc, when installed */
    uint8_t spki[DOC_KEY_MAX];
    size_t spki_len; /* the token's SLC public key; 0 when there is no key */
    enum token_key_alg alg;
    uint32_t spki_epoch;       /* token.slc.epoch spki was read at: unchanged key, no second read */
    const char *sku, *version; /* what requests say the appliance is */
    /* A response enroll_check passed, waiting for enroll_install, and the serial of the SLC that
     * was in force when it was checked (0 bytes: none). */
    bool checked;
    uint8_t checked_against[20];
    size_t checked_against_len;
};

void enroll_init(struct enroll *e, struct token *token, const char *sku, const char *version);

/* Read configuration, trust anchor and SLC from the token (needs login). */
int enroll_load(struct enroll *e, const char **why);
/* Forget the RAM copy (logout). */
void enroll_unload(struct enroll *e);

enum enroll_state enroll_state(const struct enroll *e, const x509_time *now);
const char *enroll_state_name(enum enroll_state s);
/* Serving needs an SLC in force: enrolled or renewal pending. */
bool enroll_serving(const struct enroll *e, const x509_time *now);

/* Configuration changes, each stored in the token before it counts. */
int enroll_set_name(struct enroll *e, const char *name, const char **why);
/* Whether name would do as the server's name, changing nothing. */
int enroll_check_name(const char *name, const char **why);
int enroll_set_cluster_url(struct enroll *e, const char *url, const char **why);
int enroll_set_revocation(struct enroll *e, enum doc_revocation r, const uint8_t *spki, size_t len,
                          const char **why);

/* The role: refused while an SLC is installed (its rights are the role's). A licensing server
 * sets no revocation policy (docs/requirements.md R14): switching to it resets revocation to
 * standard. */
int enroll_set_role(struct enroll *e, enum enroll_role role, const char **why);
/* A licensing server's root: https://HOST[:PORT], no path (the service adds it). */
int enroll_set_root_url(struct enroll *e, const char *url, const char **why);
/* Whether url would do as the root's URL, changing nothing. */
int enroll_check_root_url(const char *url, const char **why);

/* The installed SLC as an issuer for crypto/x509: its subject, its public key, and a signing
 * callback that signs with the SLC key in the token. Only while an SLC is installed. */
void enroll_issuer(struct enroll *e, struct x509_issuer *out);

/* The authority root to trust: a self-signed CA certificate (DER). Refused while an SLC is
 * installed, whose chain it would break. */
int enroll_trust(struct enroll *e, const uint8_t *der, size_t len, const x509_time *now,
                 const char **why);

/*
 * An enrollment or renewal request as XML into out[cap]: the configuration, the SLC key's public
 * key and a PKCS#10 proof of possession signed in the token. Changes nothing: once the request
 * has really gone out (printed for the operator), enroll_request_record says so in the token.
 */
int enroll_request(struct enroll *e, enum doc_request_kind kind, char *out, size_t cap, size_t *len,
                   const char **why);
/* Record that a request of this kind is out ("request exported", "renewal pending"). */
int enroll_request_record(struct enroll *e, enum doc_request_kind kind, const char **why);

/*
 * A response in two steps, so the console can ask the operator in between. enroll_check parses
 * and verifies a response (XML) — for this token's key, chained to the trusted root with the
 * role's rights, valid now — and keeps it; *info is its SLC. It changes nothing in the token.
 * enroll_install then stores the checked SLC and chain (*renewed: it replaced one); refused
 * (-EAGAIN) if the SLC in force changed since the check (a cluster member renewed).
 */
int enroll_check(struct enroll *e, const char *xml, size_t len, const x509_time *now,
                 struct x509_info *info, const char **why);
int enroll_install(struct enroll *e, bool *renewed, const char **why);
/* The checked SLC was issued before the one in force (earlier notBefore): installing it would
 * roll the server back. */
bool enroll_older_than_in_force(const struct enroll *e, const struct x509_info *info);
/* enroll_check then enroll_install. */
int enroll_accept(struct enroll *e, const char *xml, size_t len, const x509_time *now,
                  bool *renewed, const char **why);

/* Unix seconds as X.509 (calendar UTC) time, and an X.509 time as "2026-11-25T12:00:00Z". */
x509_time enroll_time_at(int64_t secs);
void enroll_time_text(const x509_time *t, char out[21]);

/* The SLC key was replaced: a request made with the old one is void (state "key generated"). */
int enroll_key_replaced(struct enroll *e, const char **why);

/* Is the stored SLC for the token's current key? After `key generate` replaced the key it is not
 * (the state says "key generated"): its dates are no longer the appliance's. */
bool enroll_slc_current(const struct enroll *e);

/* Whole days from now to the SLC's notAfter (negative once expired); 0 without a current SLC. */
long enroll_days_left(const struct enroll *e, const x509_time *now);

#endif
