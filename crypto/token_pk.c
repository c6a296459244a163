#include "crypto/token_pk.h"

#include <errno.h>
#include <stdbool.h>

#include "mbedtls/ecdsa.h"
#include "mbedtls/error.h"
#include "mbedtls/ecp.h"
#include "signet_config.h"

struct token_signer {
    token_pk_sign_fn fn;
    void *ctx;
};

/* Key references are 1-based indexes into this table; 0 is never a key. */
static struct token_signer signers[TOKEN_PK_MAX];

static int signer_ref(token_pk_sign_fn fn, void *ctx)
{
    for (int i = 0; i < TOKEN_PK_MAX; i++) {
        if (signers[i].fn == fn && signers[i].ctx == ctx)
            return i + 1;
        if (!signers[i].fn) {
            signers[i] = (struct token_signer){fn, ctx};
            return i + 1;
        }
    }
    return -ENOSPC;
}

int token_pk_p256(mbedtls_pk_context *pk, const uint8_t *point, size_t len, token_pk_sign_fn fn,
                  void *ctx)
{
    int ref = signer_ref(fn, ctx);
    int ret;

    if (ref < 0)
        return ref;
    ret = mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    if (ret != 0)
        return -ENOMEM;
    mbedtls_ecp_keypair *kp = mbedtls_pk_ec(*pk);
    ret = mbedtls_ecp_group_load(&kp->MBEDTLS_PRIVATE(grp), MBEDTLS_ECP_DP_SECP256R1);
    if (ret == 0)
        ret = mbedtls_ecp_point_read_binary(&kp->MBEDTLS_PRIVATE(grp), &kp->MBEDTLS_PRIVATE(Q),
                                            point, len);
    if (ret == 0)
        ret = mbedtls_ecp_check_pubkey(&kp->MBEDTLS_PRIVATE(grp), &kp->MBEDTLS_PRIVATE(Q));
    /* Where a private scalar would be: the key reference, which only this module interprets. */
    if (ret == 0)
        ret = mbedtls_mpi_lset(&kp->MBEDTLS_PRIVATE(d), ref);
    return ret == 0 ? 0 : -EINVAL;
}

/* MBEDTLS_ECDSA_SIGN_ALT: every ECDSA signature mbedTLS makes is made here, by the token. */
int mbedtls_ecdsa_sign(mbedtls_ecp_group *grp, mbedtls_mpi *r, mbedtls_mpi *s, const mbedtls_mpi *d,
                       const unsigned char *buf, size_t blen,
                       int (*f_rng)(void *, unsigned char *, size_t), void *p_rng)
{
    uint8_t rs[TOKEN_PK_P256_RS], ref = 0;
    int ret = MBEDTLS_ERR_ECP_BAD_INPUT_DATA;

    (void)f_rng; /* the token draws its own nonce */
    (void)p_rng;
    if (grp->id != MBEDTLS_ECP_DP_SECP256R1)
        return MBEDTLS_ERR_ECP_FEATURE_UNAVAILABLE;
    if (mbedtls_mpi_bitlen(d) > 8 || mbedtls_mpi_write_binary(d, &ref, 1) != 0 || ref == 0 ||
        ref > TOKEN_PK_MAX || !signers[ref - 1].fn)
        return MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
    /* ECDSA uses the leftmost bits of a longer digest (SEC 1 §4.1.3 step 5). */
    if (blen > 32)
        blen = 32;
    if (signers[ref - 1].fn(signers[ref - 1].ctx, buf, blen, rs) != 0)
        return MBEDTLS_ERR_PLATFORM_HW_ACCEL_FAILED;
    /* The token's answer is untrusted: r and s must lie in [1, n-1]. */
    if (mbedtls_mpi_read_binary(r, rs, 32) != 0 || mbedtls_mpi_read_binary(s, rs + 32, 32) != 0)
        goto out;
    if (mbedtls_mpi_cmp_int(r, 1) < 0 || mbedtls_mpi_cmp_mpi(r, &grp->N) >= 0 ||
        mbedtls_mpi_cmp_int(s, 1) < 0 || mbedtls_mpi_cmp_mpi(s, &grp->N) >= 0)
        goto out;
    ret = 0;
out:
    return ret;
}
