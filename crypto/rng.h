/*
 * crypto/rng — the one random generator of the firmware, seeded only from the token.
 *
 * mbedTLS's entropy pool has a single source, the token's C_GenerateRandom (through the callback
 * the firmware registers), marked strong; PSA's CTR_DRBG is seeded from that pool at rng_init()
 * and reseeds from it on its own schedule. Every random number the firmware uses — TLS
 * randomness, ECDHE keys, certificate serial numbers — comes from rng_random(). If the token
 * cannot be reached, seeding fails and nothing random is produced: no weak fallback.
 */
#ifndef CRYPTO_RNG_H
#define CRYPTO_RNG_H

#include <stddef.h>
#include <stdint.h>

/* Fill out[len] with random bytes from the token; 0 or a negative errno. */
typedef int (*rng_source_fn)(void *ctx, uint8_t *out, size_t len);

void rng_set_source(rng_source_fn fn, void *ctx);

/* Seed (once; later calls return at once when seeded). 0, or -EIO when the source failed. */
int rng_init(void);

/* An mbedTLS f_rng: p_rng is ignored. 0 or an mbedTLS error. */
int rng_random(void *p_rng, unsigned char *out, size_t len);

#endif
