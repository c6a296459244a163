#include "crypto/heap.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "signet_config.h"

/* Each block carries its size in front, in a header that keeps the block maximally aligned. */
#define HEADER (sizeof(max_align_t))

static struct crypto_heap_stats stats;
/* CRYPTO_HEAP_MAX, or lower while one bounded operation runs (crypto_heap_limit). */
static size_t ceiling = CRYPTO_HEAP_MAX;

void *crypto_calloc(size_t n, size_t size)
{
    if (size && n > (SIZE_MAX - HEADER) / size)
        return NULL;
    size_t bytes = n * size;
    if (stats.in_use > ceiling || bytes > ceiling - stats.in_use) {
        stats.refused++;
        return NULL;
    }
    unsigned char *p = calloc(1, HEADER + bytes);
    if (!p) {
        stats.refused++;
        return NULL;
    }
    memcpy(p, &bytes, sizeof(bytes));
    stats.in_use += bytes;
    stats.blocks++;
    if (stats.in_use > stats.peak)
        stats.peak = stats.in_use;
    return p + HEADER;
}

void crypto_free(void *ptr)
{
    size_t bytes;

    if (!ptr)
        return;
    unsigned char *p = (unsigned char *)ptr - HEADER;
    memcpy(&bytes, p, sizeof(bytes));
    stats.in_use -= bytes;
    stats.blocks--;
    free(p);
}

/*
 * Grow or shrink a block in place or by moving it, counting only the difference, so a block being
 * resized is never charged twice against the ceiling. size 0 is refused (NULL, ptr untouched)
 * rather than freeing: C11 leaves realloc(p, 0) to the implementation, and a caller that reads
 * NULL as failure would go on using a freed block.
 */
void *crypto_realloc(void *ptr, size_t size)
{
    size_t old;

    if (!ptr)
        return crypto_calloc(1, size);
    if (size == 0 || size > SIZE_MAX - HEADER)
        return NULL;
    unsigned char *p = (unsigned char *)ptr - HEADER;
    memcpy(&old, p, sizeof(old));
    if (size > old && (stats.in_use > ceiling || size - old > ceiling - stats.in_use)) {
        stats.refused++;
        return NULL;
    }
    unsigned char *q = realloc(p, HEADER + size);
    if (!q) {
        stats.refused++;
        return NULL;
    }
    memcpy(q, &size, sizeof(size));
    stats.in_use = stats.in_use - old + size;
    if (stats.in_use > stats.peak)
        stats.peak = stats.in_use;
    return q + HEADER;
}

bool crypto_heap_limit(size_t extra)
{
    if (extra < CRYPTO_HEAP_MAX - stats.in_use) {
        ceiling = stats.in_use + extra;
        return true;
    }
    ceiling = CRYPTO_HEAP_MAX;
    return false;
}

void crypto_heap_unlimit(void)
{
    ceiling = CRYPTO_HEAP_MAX;
}

void crypto_heap_stats(struct crypto_heap_stats *out)
{
    *out = stats;
}
