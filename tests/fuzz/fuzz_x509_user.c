/*
 * tests/fuzz/fuzz_x509_user.c — arbitrary bytes as a user's identity certificate: what
 * x509_user_verify makes of them as the leaf (with the Contoso issuing CA as the chain, against
 * the Contoso root: tests/unit/vectors/identity), what x509_user_describe and x509_user_ca_check
 * say, and the name functions on the bytes as text.
 *
 * A fuzzer cannot forge a signature, so the subjectAltName reader and the leaf's purpose checks
 * would stay behind the chain check: this file includes crypto/x509_user.c to call them on every
 * certificate that parses. The input sits in a buffer exactly as long as itself so ASan sees any
 * read past it. A crash, a sanitizer report, a result that breaks the documented limits or a
 * refusal without a one-line reason is a bug.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/x509_user.c"
#include "tests/unit/pem_vectors.h"

static uint8_t root_der[4096], issuing_der[4096];
static size_t root_len, issuing_len;

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
    issuing_len = load_pem("contoso-issuing-ca", 0, issuing_der, sizeof(issuing_der));
    return 0;
}

static bool one_line(const char *why)
{
    return why && why[0] && !strchr(why, '\n') && strlen(why) < 200;
}

static bool terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

static void check_verify(const uint8_t *der, size_t len)
{
    struct x509_cert leaf = {der, len}, anchor = {root_der, root_len};
    struct x509_cert chain[1] = {{issuing_der, issuing_len}};
    const x509_time now = {2026, 6, 1, 12, 0, 0};
    struct x509_user u;
    const char *why = NULL;

    int r = x509_user_verify(leaf, chain, 1, anchor, &now, &u, &why);
    if (r == 0) {
        if (!x509_user_name_ok(u.name) || !terminated(u.subject, sizeof(u.subject)))
            abort();
    } else if ((r != -EINVAL && r != -EPERM) || !one_line(why)) {
        abort();
    }
}

static void check_describe(const uint8_t *der, size_t len)
{
    char subject[X509_SUBJECT_TEXT_MAX + 1], until_subject[40];
    uint8_t fp[X509_FP_LEN];
    x509_time until;
    const x509_time now = {2026, 6, 1, 12, 0, 0};
    const char *why = NULL;

    int r = x509_user_describe(der, len, subject, sizeof(subject), fp);
    if ((r != 0 && r != -EINVAL) || !terminated(subject, sizeof(subject)))
        abort();
    for (const char *s = subject; *s; s++)
        if (*s < 0x20 || *s > 0x7e)
            abort();
    r = x509_user_ca_check(der, len, &now, until_subject, sizeof(until_subject), &until, &why);
    if (!terminated(until_subject, sizeof(until_subject)) || (r != 0 && !one_line(why)))
        abort();
}

/* The name reader and purpose checks, behind the signature in x509_user_verify. */
static void check_names(const uint8_t *der, size_t len)
{
    mbedtls_x509_crt crt;
    char name[X509_CN_MAX + 1];
    const char *why = NULL;

    mbedtls_x509_crt_init(&crt);
    if (parse_one(&crt, der, len) == 0) {
        if (leaf_purpose(&crt, &why) != 0 && !one_line(why))
            abort();
        int r = user_name(&crt, name, &why);
        if (r == 0 && !x509_user_name_ok(name))
            abort();
        if (r != 0 && !one_line(why))
            abort();
    }
    mbedtls_x509_crt_free(&crt);
}

static void check_text(const uint8_t *data, size_t len)
{
    char a[X509_CN_MAX + 8], b[sizeof(a)];
    size_t n = len < sizeof(a) - 1 ? len : sizeof(a) - 1;

    memcpy(a, data, n);
    a[n] = '\0';
    bool ok = x509_user_name_ok(a);
    memcpy(b, a, sizeof(b));
    x509_user_name_canon(b);
    if (ok != (x509_user_domain(a) != NULL) || ok != x509_user_name_equal(a, b))
        abort();
    if (!ok && strcmp(a, b) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);

    if (!buf)
        return 0;
    memcpy(buf, data, size);
    check_verify(buf, size);
    check_describe(buf, size);
    check_names(buf, size);
    check_text(buf, size);
    free(buf);
    return 0;
}
