/*
 * crypto/heap — the allocator mbedTLS (MBEDTLS_PLATFORM_CALLOC_MACRO) and expat (crypto/doc's
 * memory suite) use, counted and capped.
 *
 * mbedTLS allocates per TLS connection (record buffers, handshake state) and per parsed
 * certificate. Everything it takes goes through here, so `status` can show what is in use and
 * a flood of handshakes meets a fixed ceiling (CRYPTO_HEAP_MAX) instead of exhausting the board's
 * heap: past it, allocation fails and mbedTLS refuses that one operation cleanly.
 */
#ifndef CRYPTO_HEAP_H
#define CRYPTO_HEAP_H

#include <stdbool.h>
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
/* realloc(3) under the same count and ceiling; ptr NULL allocates (zeroed); size 0 fails (NULL,
 * ptr still valid); bytes added by growing are not zeroed. */
void *crypto_realloc(void *ptr, size_t size);
void crypto_heap_stats(struct crypto_heap_stats *out);

/*
 * For one bounded operation on untrusted input (an XML parse): until crypto_heap_unlimit(),
 * allocations may add at most extra bytes to what is in use now, so a hostile input meets its
 * own ceiling instead of taking the room TLS connections share. Not nested. Returns true when
 * that budget is the binding limit, false when CRYPTO_HEAP_MAX is closer anyway.
 */
bool crypto_heap_limit(size_t extra);
void crypto_heap_unlimit(void);

#endif
