#include "crypto/rng.h"

#include <errno.h>
#include <stdbool.h>

#include "mbedtls/entropy.h"
#include "mbedtls/psa_util.h"
#include "psa/crypto.h"

static rng_source_fn source;
static void *source_ctx;
static bool seeded;

void rng_set_source(rng_source_fn fn, void *ctx)
{
    source = fn;
    source_ctx = ctx;
}

/* MBEDTLS_ENTROPY_HARDWARE_ALT: the entropy pool's only source. */
int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen);
int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen)
{
    (void)data;
    *olen = 0;
    if (!source || source(source_ctx, output, len) != 0)
        return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
    *olen = len;
    return 0;
}

int rng_init(void)
{
    if (seeded)
        return 0;
    if (psa_crypto_init() != PSA_SUCCESS)
        return -EIO;
    seeded = true;
    return 0;
}

int rng_random(void *p_rng, unsigned char *out, size_t len)
{
    (void)p_rng;
    if (!seeded)
        return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
    return mbedtls_psa_get_random(MBEDTLS_PSA_RANDOM_STATE, out, len);
}
