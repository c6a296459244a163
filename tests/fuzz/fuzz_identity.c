/*
 * tests/fuzz/fuzz_identity.c — arbitrary bytes as the token's "signet-identity" record (the
 * token is outside the appliance: what it returns is input too). identity_load must take it or
 * refuse it as damaged; the sources it takes must keep the documented limits; identity_who on
 * them, for a fixed user chain (tests/unit/vectors/identity), must answer with one line; and what
 * it took must survive being written back (an import of the Contoso root rewrites the record)
 * and read again unchanged.
 *
 * A crash, a sanitizer report, a source outside the limits, a refusal without a one-line reason
 * or a record that does not read back as it was written is a bug.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/identity/identity.h"
#include "tests/unit/pem_vectors.h"

static uint8_t record[TOKEN_DATA_MAX];
static size_t record_len;
static uint8_t root_der[DOC_CERT_MAX], bob_der[2][DOC_CERT_MAX];
static size_t root_len, bob_len[2];

CK_RV token_data_read(struct token *t, const char *name, uint8_t *out, size_t cap, size_t *len)
{
    (void)t;
    *len = 0;
    if (strcmp(name, "signet-identity") != 0)
        return CKR_OK;
    if (record_len > cap)
        return CKR_BUFFER_TOO_SMALL;
    memcpy(out, record, record_len);
    *len = record_len;
    return CKR_OK;
}

/* firmware/acl draws a serial prefix at a grant; this target grants nobody. */
CK_RV token_random(struct token *t, uint8_t *out, size_t len)
{
    (void)t;
    memset(out, 0x5a, len);
    return CKR_OK;
}

CK_RV token_data_write(struct token *t, const char *name, const uint8_t *data, size_t len)
{
    (void)t;
    if (strcmp(name, "signet-identity") != 0)
        return CKR_OK;
    if (len > sizeof(record))
        return CKR_DEVICE_ERROR;
    memcpy(record, data, len);
    record_len = len;
    return CKR_OK;
}

/* The nth certificate of a vector file, as DER (tests/unit/pem_vectors.h); aborts without. */
static size_t load_pem(const char *name, size_t nth, uint8_t *der, size_t cap)
{
    static struct pem_vector v;
    char path[512];

    snprintf(path, sizeof(path), "%s/%s.pem", FUZZ_USER_VECTORS, name);
    if (pem_vector_load(path, &v) != 0 || nth >= v.n || v.certs[nth].len > cap)
        abort();
    memcpy(der, v.certs[nth].der, v.certs[nth].len);
    return v.certs[nth].len;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    root_len = load_pem("contoso-root-ca", 0, root_der, sizeof(root_der));
    bob_len[0] = load_pem("user-bob-upn-chain", 0, bob_der[0], sizeof(bob_der[0]));
    bob_len[1] = load_pem("user-bob-upn-chain", 1, bob_der[1], sizeof(bob_der[1]));
    return 0;
}

static void check_line(const char *why)
{
    if (!why || !*why || strchr(why, '\n'))
        abort();
}

static void check_sources(const struct identity *ids)
{
    if (ids->count > IDENTITY_SOURCES_MAX || (ids->damaged && ids->count))
        abort();
    for (size_t i = 0; i < ids->count; i++) {
        const struct identity_source *s = &ids->sources[i];
        if (!s->cert_len || s->cert_len > sizeof(s->cert) || !s->domain_count ||
            s->domain_count > IDENTITY_DOMAINS_MAX || !memchr(s->subject, '\0', sizeof(s->subject)))
            abort();
        for (size_t d = 0; d < s->domain_count; d++) {
            const char *end = memchr(s->domains[d], '\0', sizeof(s->domains[d]));
            size_t n = end ? (size_t)(end - s->domains[d]) : 0;
            if (n == 0 || n > IDENTITY_DOMAIN_MAX)
                abort();
            for (size_t k = 0; k < n; k++)
                if (s->domains[d][k] >= 'A' && s->domains[d][k] <= 'Z')
                    abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct identity ids, again;
    static struct acl acl;
    static struct token tok;
    static const x509_time now = {.year = 2026, .mon = 6, .day = 1};
    static const uint8_t fp[X509_FP_LEN] = {1};
    const char *why = NULL;
    struct identity_user u;

    if (size > sizeof(record))
        return 0;
    memcpy(record, data, size);
    record_len = size;
    identity_init(&ids, &tok);
    acl_init(&acl, &tok);
    int ret = identity_load(&ids, &why);
    if (ret != 0 && ret != -EINVAL)
        abort();
    if (ret)
        check_line(why);
    check_sources(&ids);

    struct x509_cert chain[2] = {{bob_der[0], bob_len[0]}, {bob_der[1], bob_len[1]}};
    ret = identity_who(&ids, &acl, chain, 2, fp, NULL, 0, &now, &u, &why);
    if (ret == 0 ? strcmp(u.cert.name, "bob@contoso.example") != 0 : ret != -EPERM)
        abort();
    if (ret)
        check_line(why);

    /* Written back with one more source and read again: the same sources, in the same order. */
    ret = identity_import(&ids, root_der, root_len, "contoso.example", &now, &why);
    if (ret != 0 && ret != -ENOSPC)
        abort();
    if (ret)
        check_line(why);
    identity_init(&again, &tok);
    if (identity_load(&again, &why) != 0 || again.count != ids.count)
        abort();
    for (size_t i = 0; i < ids.count; i++)
        if (memcmp(&again.sources[i], &ids.sources[i], sizeof(ids.sources[i])) != 0)
            abort();
    return 0;
}
