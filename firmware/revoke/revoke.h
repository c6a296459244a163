/*
 * firmware/revoke — what this cluster has taken back, and the CRLs of those above it
 * (docs/requirements.md R19, R20; docs/certificates.md "Revocation").
 *
 * Own revocations: serials of certificates and licenses this cluster issued (`revoke SERIAL
 * [REASON]`) and excluded user names (`revoke user NAME`, `unrevoke user NAME`). They live in the
 * token, shared by cluster members, every change replaced crash-safely (a power cut leaves the
 * old list or the new one, never neither): the serials are appended to data objects of at most
 * TOKEN_DATA_MAX bytes ("signet-revoked.0", ".1", ...; only the last is ever rewritten), the
 * names in "signet-excluded", the CRL's number, dates and the crl-hours setting in
 * "signet-crl-state". This module keeps a copy in RAM, read at login, and rewritten only once
 * the token holds the change.
 *
 * The cluster's CRL: an X.509 v2 CRL signed by the SLC key in the token (crypto/x509_crl), with
 * every revoked serial and the excluded names (ARC.8). It is signed again when something is
 * revoked and before nextUpdate (revoke_tick; nextUpdate = thisUpdate + crl-hours, re-signed at
 * half of that). Its number comes from "signet-crl-state", raised in the token before the new CRL
 * is signed, so cluster members never publish two different CRLs under one number: a member that
 * finds the state newer than its CRL builds the same list under that number instead.
 *
 * CRLs from above: a licensing server holds its root's CRL (fetched, revoke_accept_crl with
 * REVOKE_FROM_ROOT), and every appliance its enrollment authority's (`crl import`, or fetched by
 * `enroll online`/`renew online`; REVOKE_FROM_AUTHORITY). Each is verified against its issuer
 * (the root's SLC from our own chain; the trusted authority root), and one older than the one held
 * (a lower cRLNumber) is refused, the held one staying in force. The authority's is kept in the
 * token ("signet-authority-crl"); the root's in RAM (it may be large; fetched again after boot).
 *
 * Functions return 0 or a negative errno with a one-line *why. Refusals the service shows as
 * "403 revoked: ..." start with "revoked: ".
 */
#ifndef REVOKE_H
#define REVOKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/x509.h"
#include "crypto/x509_crl.h"
#include "firmware/enroll/enroll.h"
#include "firmware/token/token.h"

#define REVOKE_ENTRIES_MAX       X509_CRL_ENTRIES_MAX
#define REVOKE_USERS_MAX         X509_CRL_EXCLUDED_MAX
#define REVOKE_CRL_HOURS_DEFAULT 24
#define REVOKE_CRL_HOURS_MAX     (24 * 31)

enum revoke_source { REVOKE_FROM_ROOT, REVOKE_FROM_AUTHORITY };

/* A CRL from above, as held. */
struct revoke_held {
    bool present;
    struct x509_crl crl; /* entries point into storage of this module */
    int64_t fetched_at;  /* Unix seconds it was accepted (0: read from the token at login) */
};

struct revoke {
    struct token *token;
    struct enroll *enroll;
    bool loaded;
    bool damaged; /* a record did not decode: nothing counts as revoked-free, see revoke.c */
    /* Own list: entries in the order revoked (= as stored), and sorted for lookups. */
    size_t count;
    struct x509_crl_entry *entries; /* REVOKE_ENTRIES_MAX, static storage in revoke.c */
    struct x509_crl_entry *sorted;  /* the same, by serial */
    size_t user_count;
    char users[REVOKE_USERS_MAX][X509_CN_MAX + 1];
    unsigned crl_hours;
    /* The CRL state in the token, and the CRL signed from it (crl_len 0: none yet). */
    uint64_t crl_number;
    int64_t crl_this_update, crl_next_update; /* Unix seconds */
    size_t crl_covers;                        /* entries the signed CRL lists */
    bool crl_dirty;                           /* something changed since it was signed */
    const uint8_t *crl_der;
    size_t crl_len;
    struct revoke_held root, authority;
    uint32_t crl_signed;  /* statistics */
    int64_t crl_retry_at; /* the last attempt to sign failed: tried again then (0: it did not) */
    void (*on_replace)(const void *old_der);
};

void revoke_init(struct revoke *r, struct token *token, struct enroll *enroll);
/* Read own revocations, the CRL state and the authority's CRL from the token (needs login);
 * again on every state refresh, so cluster members see each other's changes. -EIO leaves RAM as
 * it was; a damaged record -EINVAL (then see revoke.c for what is refused). */
int revoke_load(struct revoke *r, const char **why);
void revoke_unload(struct revoke *r);

/* `revoke SERIAL [REASON]`: serial as 32 hex digits (revoke_parse_serial). -EEXIST already
 * revoked (nothing changes), -ENOSPC the list is full, -EIO the token failed. */
int revoke_parse_serial(const char *text, uint8_t serial[X509_SERIAL_LEN]);
int revoke_serial(struct revoke *r, const uint8_t serial[X509_SERIAL_LEN],
                  enum x509_crl_reason reason, const x509_time *now, const char **why);
/* `revoke user NAME` / `unrevoke user NAME` (a user name as RACs carry it, user@domain).
 * -EEXIST / -ENOENT, -ENOSPC, -EIO. */
int revoke_user(struct revoke *r, const char *name, const char **why);
int revoke_unuser(struct revoke *r, const char *name, const char **why);
/* `config crl-hours N`, 1..REVOKE_CRL_HOURS_MAX; the next CRL uses it. */
int revoke_set_crl_hours(struct revoke *r, unsigned hours, const char **why);

/*
 * The one decision of whether something presented to us is still good: a RAC, publishing
 * license, use license, CKEK or licensing server certificate read with x509_read. Refused
 * (-EPERM, *why "revoked: ...") when its serial is on our list or on the held root CRL; for a
 * RAC also when its name is excluded (ours or the root CRL's ARC.8), or when the licensing server
 * it names as signetVia is revoked (revoke_check_prefix). what names it in *why ("rights account
 * certificate", "publishing license"). No lookup is a linear scan.
 */
int revoke_check_cert(const struct revoke *r, const struct x509_info *cert, const char *what,
                      const char **why);
/* A user name excluded here or by the root's CRL: -EPERM "revoked: NAME is excluded". */
int revoke_check_user(const struct revoke *r, const char *name, const char **why);
/* A serial of ours (a licensing server's certificate, as the ACL recorded it) on our list:
 * -EPERM "revoked: <what> <serial> (<reason>, <date>)". */
int revoke_check_serial(const struct revoke *r, const uint8_t serial[X509_SERIAL_LEN],
                        const char *what, const char **why);

/* A licensing server (an ACL principal's serial prefix, firmware/acl) is revoked when any serial
 * on our list or the held root CRL starts with its prefix: -EPERM "revoked: <what> <that
 * serial> (<reason>, <date>)". O(log n), like revoke_check_serial. */
int revoke_check_prefix(const struct revoke *r, const uint8_t prefix[X509_SERIAL_PREFIX_LEN],
                        const char *what, const char **why);

/* This appliance's own SLC is on a CRL from above (the authority's, or for a licensing server
 * its root's), or a licensing server's root CRL has passed its nextUpdate (or never came): the
 * appliance does not serve, and *why says why ("the SLC is revoked by the authority
 * (keyCompromise, 2026-12-02T10:00:00Z)", "no CRL from the root yet", "the root's CRL expired at
 * ... and the root cannot be reached"). false when it may serve. */
bool revoke_blocks_serving(const struct revoke *r, const x509_time *now, const char **why);

/* A CRL from above (DER): verified against its issuer, not older than the one held; kept.
 * *newer says whether it replaced the held one. */
int revoke_accept_crl(struct revoke *r, enum revoke_source src, const uint8_t *der, size_t len,
                      const x509_time *now, bool *newer, const char **why);
/* A licensing server: when the root's CRL is to be fetched next (Unix seconds): now when none is
 * held, else crl-hours/2 after the last fetch. */
int64_t revoke_root_fetch_due(const struct revoke *r);

/* Sign the cluster's CRL when it is due (something changed, none signed yet, or half its
 * lifetime gone) and an SLC is in force. Called by the house task; signs in the token. */
void revoke_tick(struct revoke *r, const x509_time *now);
/* The current CRL (DER), or -EAGAIN "no CRL yet" (not enrolled, or not yet signed). The bytes
 * stay valid until a newer CRL replaces them; just before, revoke calls the function given to
 * revoke_on_replace with them (the service passes http_forget_body, net/http.h, so no
 * connection goes on sending bytes that change). */
int revoke_crl(const struct revoke *r, const uint8_t **der, size_t *len, const char **why);
void revoke_on_replace(struct revoke *r, void (*fn)(const void *old_der));

#endif
