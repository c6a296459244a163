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
#include <stdint.h>

#define HOSTNAME_MAX 253 /* RFC 1035's limit for a name in text form */

/* 0, or -1 for anything else. */
int hostname_check(const char *name, size_t len);

/* "HOST[:PORT]" as the console takes a server (HOST an IPv4 address or a host name, PORT
 * 1..65535, default_port when none is given): 0, or -1. */
int hostname_parse_server(const char *spec, char host[HOSTNAME_MAX + 1], uint16_t *port,
                          uint16_t default_port);

#endif
