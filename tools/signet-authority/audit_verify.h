/*
 * tools/signet-authority/audit_verify — `signet-authority audit-verify FILE --anchor ROOT`: an
 * appliance's audit export checked offline, without a token (docs/audit.md).
 */
#ifndef AUDIT_VERIFY_H
#define AUDIT_VERIFY_H

#include <stdio.h>

/* 0 with one "audit-verify: ok: ..." line on out; -EBADMSG with the first broken entry said
 * on stderr; -EIO when a file cannot be read. */
int audit_verify_export(const char *path, const char *anchor_path, FILE *out);

#endif
