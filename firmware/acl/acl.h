/*
 * firmware/acl — who may sub-enroll to this root (docs/requirements.md R9).
 *
 * Principals are TLS client-certificate SHA-256 fingerprints, each with a name an operator chose.
 * The list is empty by default, so sub-enrollment is denied to everyone until an operator grants
 * it on the console. It lives in the token as the private data object "signet-acl", replaced
 * crash-safely like the configuration, so cluster members that share the token share it; this
 * module keeps a copy in RAM, read at login and rewritten with every change (only once the token
 * holds the new list). Functions return 0 or a negative errno with a one-line *why.
 *
 * Each principal also carries a serial prefix (docs/identity.md "Revocation", docs/certificates.md
 * "Serials"): 8 octets from the token's RNG, chosen when it is granted (again when it is granted
 * anew after a revoke; a rename keeps it). Every sub-enrollment certificate issued to it has a
 * serial that starts with the prefix, so the prefix is known before any certificate exists and
 * nothing is written when one is issued. firmware/issue refuses the principal, and the RACs it
 * certified (signetVia = the prefix), once any serial starting with it is revoked.
 * A record written before prefixes has none: its prefix is then derived, the same on every
 * cluster member, from what the record holds (see acl.c), and stored with the next change.
 */
#ifndef ACL_H
#define ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/x509.h"
#include "firmware/token/token.h"

#define ACL_FP_LEN      32
#define ACL_NAME_MAX    64
#define ACL_ENTRIES_MAX 32
#define ACL_SERIAL_LEN  X509_SERIAL_LEN        /* the serials this hierarchy issues */
#define ACL_PREFIX_LEN  X509_SERIAL_PREFIX_LEN /* the part of them that names the principal */

struct acl_entry {
    uint8_t fp[ACL_FP_LEN];
    char name[ACL_NAME_MAX + 1];
    /* First octet 0x40..0x7f, so that prefix || 8 random octets is a serial as x509_serial_fix
     * makes them. */
    uint8_t prefix[ACL_PREFIX_LEN];
    /* A record of a firmware before prefixes: the last serial it issued to this principal. Kept
     * (and written back) so that such a firmware on the same token still checks it. */
    bool has_serial;
    uint8_t serial[ACL_SERIAL_LEN];
};

struct acl {
    struct token *token;
    bool loaded;
    size_t count;
    struct acl_entry entries[ACL_ENTRIES_MAX];
};

void acl_init(struct acl *a, struct token *token);
/* Read the list from the token (needs login). A damaged record is refused (-EINVAL) and the
 * list counts as empty: denying is the safe side. */
int acl_load(struct acl *a, const char **why);

/* Grant (or rename) a principal; -ENOSPC when the list is full, -EIO the token failed (its RNG,
 * or the write). A new principal gets a fresh prefix; a renamed one keeps its own. */
int acl_grant(struct acl *a, const uint8_t fp[ACL_FP_LEN], const char *name, const char **why);
/* Revoke; -ENOENT when it was not granted. */
int acl_revoke(struct acl *a, const uint8_t fp[ACL_FP_LEN], const char **why);
/* The entry for fp, or NULL: not granted (also when the list is not loaded). */
const struct acl_entry *acl_find(const struct acl *a, const uint8_t fp[ACL_FP_LEN]);

/* "AB:CD:…" (64 hex digits, colons optional, either case) into fp; -EINVAL otherwise. */
int acl_parse_fingerprint(const char *text, uint8_t fp[ACL_FP_LEN]);

#endif
