/*
 * lib/ipv4 — strict parsing and formatting of IPv4 addresses typed by operators.
 *
 * Only the dotted-quad form: four decimal parts 0..255, no leading zeros (so "010" is never read
 * as octal or decimal by surprise), no spaces, nothing after. Addresses are in host byte order.
 */
#ifndef IPV4_H
#define IPV4_H

#include <stdint.h>

#define IPV4_TEXT_MAX 15 /* "255.255.255.255" */

/* 0, or -1 for anything that is not exactly a dotted quad. */
int ipv4_parse(const char *s, uint32_t *addr);

/* "a.b.c.d/n" with n in 1..32: the address and the netmask. 0 or -1. */
int ipv4_parse_cidr(const char *s, uint32_t *addr, uint32_t *mask);

/* Prefix length of a contiguous netmask, or -1 if it is not one. */
int ipv4_prefix_len(uint32_t mask);

void ipv4_format(uint32_t addr, char out[IPV4_TEXT_MAX + 1]);

#endif
