/*
 * tests/fuzz/fuzz_crl.c — arbitrary bytes as CRLs: what x509_crl_read, x509_crl_pem_read and the
 * reader's body parser make of them, against the fixed issuer its seeds are signed by
 * (tests/fuzz/crl_issuer.der, made with the seeds by tests/fuzz/make_crl_seeds.py).
 *
 * A fuzzer cannot forge a signature, and x509_crl_read verifies it before it reads the dates,
 * entries and extensions; so this file includes crypto/x509_crl.c to call that body parser
 * (get_tbs_body) on the input directly, then sorts and searches what it read as x509_crl_read
 * does. The first byte picks: 0 mod 3 the whole reader on the rest as DER, 1 the rest as PEM
 * text, 2 the body parser; the second byte how many entries the caller has room for (255: all).
 * The input sits in a buffer exactly as long as itself so ASan sees any read past it. A crash,
 * a sanitizer report, a result that breaks the documented limits or a refusal without a
 * one-line reason is a bug.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/x509_crl.c"

static uint8_t issuer_der[4096];
static size_t issuer_len;
static uint8_t issuer_key_id[20];
static struct x509_crl_entry entries[X509_CRL_ENTRIES_MAX];
static struct x509_crl crl;
static uint8_t pem_der[X509_CRL_DER_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    FILE *f = fopen(FUZZ_CRL_ISSUER, "rb");
    mbedtls_x509_crt crt;

    (void)argc;
    (void)argv;
    if (!f) {
        perror(FUZZ_CRL_ISSUER);
        abort();
    }
    issuer_len = fread(issuer_der, 1, sizeof(issuer_der), f);
    fclose(f);
    mbedtls_x509_crt_init(&crt);
    if (mbedtls_x509_crt_parse_der(&crt, issuer_der, issuer_len) != 0 ||
        der_key_identifier(crt.pk_raw.p, crt.pk_raw.len, issuer_key_id) != 0)
        abort();
    mbedtls_x509_crt_free(&crt);
    return 0;
}

static bool one_line(const char *why)
{
    return why && why[0] && !strchr(why, '\n') && strlen(why) < 200;
}

static bool time_ok(const x509_time *t)
{
    return t->year >= 1950 && t->year <= 9999 && t->mon >= 1 && t->mon <= 12 && t->day >= 1 &&
           t->day <= 31 && t->hour >= 0 && t->hour <= 23 && t->min >= 0 && t->min <= 59 &&
           t->sec >= 0 && t->sec <= 59;
}

/* What a CRL that was read says keeps to the header's promises. */
static void check_result(const struct x509_crl *c)
{
    if (c->count > c->entries_cap || c->count > X509_CRL_ENTRIES_MAX ||
        c->excluded_count > X509_CRL_EXCLUDED_MAX || !time_ok(&c->this_update) ||
        !time_ok(&c->next_update))
        abort();
    for (size_t i = 0; i < c->count; i++) {
        const struct x509_crl_entry *e = &c->entries[i];
        if (e->serial[0] == 0 || (e->serial[0] & 0x80) || e->reason > 10 || e->reason == 7 ||
            !time_ok(&e->revoked_at))
            abort();
        if (i && memcmp(c->entries[i - 1].serial, e->serial, X509_SERIAL_LEN) >= 0)
            abort(); /* sorted, no serial twice */
        if (x509_crl_find(c, e->serial) != e)
            abort();
    }
    for (size_t i = 0; i < c->excluded_count; i++) {
        const char *nul = memchr(c->excluded[i], '\0', sizeof(c->excluded[i]));
        if (!nul || nul == c->excluded[i] || !x509_user_name_ok(c->excluded[i]) ||
            !x509_crl_excludes(c, c->excluded[i]))
            abort();
    }
}

static void reset(size_t cap)
{
    memset(&crl, 0, sizeof(crl));
    crl.entries = entries;
    crl.entries_cap = cap;
}

static void check_read(const uint8_t *der, size_t len)
{
    const char *why = NULL;
    int ret = x509_crl_read(der, len, (struct x509_cert){issuer_der, issuer_len}, &crl, &why);

    if (ret == 0)
        check_result(&crl);
    else if ((ret != -EINVAL && ret != -E2BIG) || !one_line(why) || crl.count != 0)
        abort();
}

static void check_body(uint8_t *p, size_t len)
{
    const char *why = NULL;
    int ret = get_tbs_body(p, p + len, issuer_key_id, &crl, &why);

    if (ret != 0) {
        if ((ret != -EINVAL && ret != -E2BIG) || !one_line(why))
            abort();
        return;
    }
    x509_crl_sort(crl.entries, crl.count);
    for (size_t i = 1; i < crl.count; i++)
        if (serial_cmp(&crl.entries[i - 1], &crl.entries[i]) == 0)
            return; /* the reader refuses this */
    check_result(&crl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned mode = data[0] % 3;
    size_t cap = data[1] == 255 ? X509_CRL_ENTRIES_MAX : data[1];
    size_t len = size - 2;
    uint8_t *buf = malloc(len ? len : 1);

    if (!buf)
        return 0;
    memcpy(buf, data + 2, len);
    reset(cap);
    if (mode == 0) {
        check_read(buf, len);
    } else if (mode == 1) {
        size_t der_len = 0;
        int ret = x509_crl_pem_read((const char *)buf, len, pem_der, sizeof(pem_der), &der_len);
        if (ret == 0) {
            if (der_len == 0 || der_len > sizeof(pem_der))
                abort();
            check_read(pem_der, der_len);
        } else if (ret != -EINVAL && ret != -ENOSPC) {
            abort();
        }
    } else {
        check_body(buf, len);
    }
    free(buf);
    return 0;
}
