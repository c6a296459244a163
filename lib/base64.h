/* lib/base64 — RFC 4648 base64 (standard alphabet, padded). */
#ifndef BASE64_H
#define BASE64_H

#include <stddef.h>
#include <stdint.h>

#define BASE64_ENCODED_LEN(n) ((((n) + 2) / 3) * 4)

/* Encode len bytes into out[cap] with a terminating NUL; -ENOBUFS if it does not fit. */
int base64_encode(const uint8_t *in, size_t len, char *out, size_t cap);

#endif
