/*
 * lib/hostname — the one check of a host name typed by an operator or found in a URL.
 *
 * RFC 1123's form: labels of 1..63 letters, digits and inner hyphens, separated by single dots,
 * HOSTNAME_MAX characters in all, no trailing dot. A name of digits and dots only is refused:
 * it is an address (lib/ipv4) or a mistyped one, never something to ask DNS about.
 */
#ifndef HOSTNAME_H
#define HOSTNAME_H

#include <stddef.h>

#define HOSTNAME_MAX 253 /* RFC 1035's limit for a name in text form */

/* 0, or -1 for anything else. */
int hostname_check(const char *name, size_t len);

#endif
