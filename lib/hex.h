/*
 * lib/hex — a fingerprint typed or pasted by a person: "AB:CD:…" or "abcd…".
 */
#ifndef HEX_H
#define HEX_H

#include <stddef.h>
#include <stdint.h>

/* Exactly len bytes as hex digits (either case), optionally a colon between bytes, nothing
 * after: 0, or -EINVAL. */
int hex_parse_fingerprint(const char *text, uint8_t *out, size_t len);

/* len bytes as 2 * len lowercase hex digits and a NUL into out. */
void hex_encode(const uint8_t *in, size_t len, char *out);

#endif
