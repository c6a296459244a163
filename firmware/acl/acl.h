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
 * Each principal also carries the serial of the sub-enrollment certificate this root last issued
 * to it (docs/identity.md "Revocation"): firmware/issue records it before the certificate is
 * answered, and checks it against the revocation list when the principal sub-enrolls, renews or
 * forwards a certification again, and writes it into the RACs it certifies through it (signetVia).
 */
#ifndef ACL_H
#define ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/token/token.h"

#define ACL_FP_LEN      32
#define ACL_NAME_MAX    64
#define ACL_ENTRIES_MAX 32
#define ACL_SERIAL_LEN  16 /* X509_SERIAL_LEN: the serials this hierarchy issues */

struct acl_entry {
    uint8_t fp[ACL_FP_LEN];
    char name[ACL_NAME_MAX + 1];
    bool has_serial; /* a sub-enrollment certificate was issued to it (since it was granted) */
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

/* Grant (or rename) a principal; -ENOSPC when the list is full. A new principal has no serial
 * recorded; a renamed one keeps its own. */
int acl_grant(struct acl *a, const uint8_t fp[ACL_FP_LEN], const char *name, const char **why);
/* Revoke; -ENOENT when it was not granted. */
int acl_revoke(struct acl *a, const uint8_t fp[ACL_FP_LEN], const char **why);
/* Record the serial of the sub-enrollment certificate just issued to fp (replacing the one
 * before): -ENOENT not granted (any more), -EIO the token failed (RAM unchanged). */
int acl_record_serial(struct acl *a, const uint8_t fp[ACL_FP_LEN],
                      const uint8_t serial[ACL_SERIAL_LEN], const char **why);
/* The entry for fp, or NULL: not granted (also when the list is not loaded). */
const struct acl_entry *acl_find(const struct acl *a, const uint8_t fp[ACL_FP_LEN]);

/* "AB:CD:…" (64 hex digits, colons optional, either case) into fp; -EINVAL otherwise. */
int acl_parse_fingerprint(const char *text, uint8_t fp[ACL_FP_LEN]);

#endif
