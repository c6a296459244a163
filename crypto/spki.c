#include "crypto/spki.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "mbedtls/asn1.h"
#include "mbedtls/ecp.h"
#include "mbedtls/pk.h"
#include "mbedtls/rsa.h"

/* mbedTLS writes from the end of the buffer; move the result to the front. */
static int write_spki(mbedtls_pk_context *pk, uint8_t *out, size_t cap, size_t *len)
{
    int n = mbedtls_pk_write_pubkey_der(pk, out, cap);
    if (n == MBEDTLS_ERR_ASN1_BUF_TOO_SMALL)
        return -ENOSPC;
    if (n <= 0)
        return -EINVAL;
    memmove(out, out + cap - (size_t)n, (size_t)n);
    *len = (size_t)n;
    return 0;
}

int spki_from_rsa(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len, uint8_t *out,
                  size_t cap, size_t *len)
{
    mbedtls_pk_context pk;
    int ret = -EINVAL;

    mbedtls_pk_init(&pk);
    if (mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA)) != 0)
        goto out;
    mbedtls_rsa_context *rsa = mbedtls_pk_rsa(pk);
    if (mbedtls_rsa_import_raw(rsa, n, n_len, NULL, 0, NULL, 0, NULL, 0, e, e_len) != 0 ||
        mbedtls_rsa_complete(rsa) != 0 || mbedtls_rsa_check_pubkey(rsa) != 0)
        goto out;
    ret = write_spki(&pk, out, cap, len);
out:
    mbedtls_pk_free(&pk);
    return ret;
}

int spki_from_p256(const uint8_t *point, size_t point_len, uint8_t *out, size_t cap, size_t *len)
{
    mbedtls_pk_context pk;
    int ret = -EINVAL;

    mbedtls_pk_init(&pk);
    if (mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0)
        goto out;
    mbedtls_ecp_keypair *kp = mbedtls_pk_ec(pk);
    if (mbedtls_ecp_group_load(&kp->MBEDTLS_PRIVATE(grp), MBEDTLS_ECP_DP_SECP256R1) != 0 ||
        mbedtls_ecp_point_read_binary(&kp->MBEDTLS_PRIVATE(grp), &kp->MBEDTLS_PRIVATE(Q), point,
                                      point_len) != 0 ||
        mbedtls_ecp_check_pubkey(&kp->MBEDTLS_PRIVATE(grp), &kp->MBEDTLS_PRIVATE(Q)) != 0)
        goto out;
    ret = write_spki(&pk, out, cap, len);
out:
    mbedtls_pk_free(&pk);
    return ret;
}

/* The outer SEQUENCE must span the input exactly: mbedTLS would ignore bytes after it. */
static bool one_sequence(const uint8_t *der, size_t len)
{
    unsigned char *p = (unsigned char *)(uintptr_t)der;
    size_t inner = 0;

    if (mbedtls_asn1_get_tag(&p, der + len, &inner,
                             MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0)
        return false;
    return p + inner == der + len;
}

/* The key in der parsed into pk, when der is exactly one SubjectPublicKeyInfo. */
static bool parse_one(const uint8_t *der, size_t len, mbedtls_pk_context *pk)
{
    return der && len && one_sequence(der, len) && mbedtls_pk_parse_public_key(pk, der, len) == 0;
}

int spki_rsa_parse(const uint8_t *der, size_t len, uint8_t *n, size_t n_cap, size_t *n_len,
                   uint8_t *e, size_t e_cap, size_t *e_len)
{
    mbedtls_pk_context pk;
    mbedtls_mpi N, E;
    int ret = -EINVAL;

    mbedtls_pk_init(&pk);
    mbedtls_mpi_init(&N);
    mbedtls_mpi_init(&E);
    if (!parse_one(der, len, &pk))
        goto out;
    ret = -ENOTSUP;
    size_t bits = mbedtls_pk_get_bitlen(&pk);
    if (mbedtls_pk_get_type(&pk) != MBEDTLS_PK_RSA || bits < SPKI_RSA_MIN_BITS ||
        bits > SPKI_RSA_MAX_BITS)
        goto out;
    const mbedtls_rsa_context *rsa = mbedtls_pk_rsa(pk);
    if (mbedtls_rsa_check_pubkey(rsa) != 0 ||
        mbedtls_rsa_export(rsa, &N, NULL, NULL, NULL, &E) != 0)
        goto out;
    ret = -ENOSPC;
    *n_len = mbedtls_mpi_size(&N);
    *e_len = mbedtls_mpi_size(&E);
    if (*n_len > n_cap || *e_len > e_cap)
        goto out;
    ret = -EINVAL;
    if (mbedtls_mpi_write_binary(&N, n, *n_len) != 0 || mbedtls_mpi_write_binary(&E, e, *e_len))
        goto out;
    ret = 0;
out:
    mbedtls_mpi_free(&N);
    mbedtls_mpi_free(&E);
    mbedtls_pk_free(&pk);
    return ret;
}

int spki_rsa_bits(const uint8_t *der, size_t len, unsigned *bits)
{
    mbedtls_pk_context pk;
    int ret = -EINVAL;

    mbedtls_pk_init(&pk);
    if (parse_one(der, len, &pk) && mbedtls_pk_get_type(&pk) == MBEDTLS_PK_RSA) {
        *bits = (unsigned)mbedtls_pk_get_bitlen(&pk);
        ret = 0;
    }
    mbedtls_pk_free(&pk);
    return ret;
}

bool spki_is_p256(const uint8_t *der, size_t len)
{
    mbedtls_pk_context pk;
    bool yes;

    mbedtls_pk_init(&pk);
    yes = parse_one(der, len, &pk) && mbedtls_pk_get_type(&pk) == MBEDTLS_PK_ECKEY &&
          mbedtls_pk_ec(pk)->MBEDTLS_PRIVATE(grp).id == MBEDTLS_ECP_DP_SECP256R1;
    mbedtls_pk_free(&pk);
    return yes;
}
