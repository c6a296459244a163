/*
 * tools/signet-authority/ledger — what the authority has issued and taken back, kept in its token
 * (docs/authority.md "Revocation").
 *
 * One record: every SLC serial the authority issued, when, and whether and why it was revoked,
 * with the number of the last CRL made. It lives in token data objects labelled LEDGER_LABEL,
 * each value carrying a generation number and a SHA-256 of itself. A change writes the next
 * generation as a new object first and only then destroys the older ones, so an interruption
 * at any point leaves the old record or the new one in the token (the highest generation that
 * decodes is the record), never neither. A serial is recorded before its certificate leaves the
 * authority, and a CRL's number before the CRL is signed, so no two CRLs share a number.
 */
#ifndef AUTHORITY_LEDGER_H
#define AUTHORITY_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/x509.h"
#include "hsm.h"

#define LEDGER_LABEL "signet-authority-issued"
#define LEDGER_MAX   16384 /* SLCs: one a year per cluster; a CRL holds X509_CRL_ENTRIES_MAX */
/* Older generations a crash may have left, found and removed on the next change. */
#define LEDGER_OBJECTS_MAX 8

struct ledger_entry {
    uint8_t serial[X509_SERIAL_LEN];
    int64_t issued_at;  /* Unix seconds */
    int64_t revoked_at; /* 0: in force */
    uint8_t reason;     /* enum x509_crl_reason, when revoked */
};

struct ledger {
    uint64_t generation; /* 0: nothing stored yet */
    uint64_t crl_number; /* the last CRL's; the next one is higher */
    size_t count;
    struct ledger_entry e[LEDGER_MAX];
    /* the objects the record was read from, destroyed once a newer one is stored */
    CK_OBJECT_HANDLE objects[LEDGER_OBJECTS_MAX];
    size_t object_count;
};

/* The record from the token (an empty one when there is none). -EIO token failure, -EINVAL
 * objects there but none decodes (the record is damaged: nothing is issued or signed then), with
 * a one-line reason in why[cap]. */
int ledger_load(struct hsm *h, struct ledger *l, char *why, size_t cap);
/* Store l as the next generation (crash-safe, see above). 0 or -EIO with why. */
int ledger_store(struct hsm *h, struct ledger *l, char *why, size_t cap);
/* The entry for serial, or NULL. */
struct ledger_entry *ledger_find(struct ledger *l, const uint8_t serial[X509_SERIAL_LEN]);

#endif
