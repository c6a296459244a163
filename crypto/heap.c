#include "crypto/heap.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "signet_config.h"

/* Each block carries its size in front, in a header that keeps the block maximally aligned. */
#define HEADER (sizeof(max_align_t))

static struct crypto_heap_stats stats;

void *crypto_calloc(size_t n, size_t size)
{
    if (size && n > (SIZE_MAX - HEADER) / size)
        return NULL;
    size_t bytes = n * size;
    if (bytes > CRYPTO_HEAP_MAX - stats.in_use) {
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

void crypto_heap_stats(struct crypto_heap_stats *out)
{
    *out = stats;
}
