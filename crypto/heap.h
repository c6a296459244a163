/*
 * crypto/heap — the allocator mbedTLS uses (MBEDTLS_PLATFORM_CALLOC_MACRO), counted and capped.
 *
 * mbedTLS allocates per TLS connection (record buffers, handshake state) and per parsed
 * certificate. Everything it takes goes through here, so `status` can show what is in use and
 * a flood of handshakes meets a fixed ceiling (CRYPTO_HEAP_MAX) instead of exhausting the board's
 * heap: past it, allocation fails and mbedTLS refuses that one operation cleanly.
 */
#ifndef CRYPTO_HEAP_H
#define CRYPTO_HEAP_H

#include <stddef.h>
#include <stdint.h>

struct crypto_heap_stats {
    size_t in_use; /* bytes handed out and not yet freed */
    size_t peak;
    size_t blocks;
    uint32_t refused; /* allocations refused at the ceiling */
};

void *crypto_calloc(size_t n, size_t size);
void crypto_free(void *p);
void crypto_heap_stats(struct crypto_heap_stats *out);

#endif
