/*
 * tests/unit/pem_vectors.h — the certificates of a PEM vector file (tests/unit/vectors/identity)
 * as DER, in file order: one reader for the unit tests and the fuzz targets that use them.
 */
#ifndef PEM_VECTORS_H
#define PEM_VECTORS_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "crypto/x509.h"
#include "mbedtls/base64.h"

#define PEM_VECTOR_CERTS   5 /* one more than a presented chain may hold */
#define PEM_VECTOR_DER_MAX 4096

struct pem_vector {
    size_t n;
    uint8_t der[PEM_VECTOR_CERTS][PEM_VECTOR_DER_MAX];
    struct x509_cert certs[PEM_VECTOR_CERTS];
};

/* Every CERTIFICATE block of the file at path (at most PEM_VECTOR_CERTS). 0, or -1 (with a line
 * on stderr) when it cannot be read, holds none, or a block does not decode. */
static inline int pem_vector_load(const char *path, struct pem_vector *out)
{
    static const char begin[] = "-----BEGIN CERTIFICATE-----", end[] = "-----END CERTIFICATE-----";
    static char text[32768], b64[8192];
    FILE *f = fopen(path, "r");
    bool bad = false;
    size_t len;

    memset(out, 0, sizeof(*out));
    if (!f) {
        perror(path);
        return -1;
    }
    len = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[len] = '\0';
    for (const char *p = text; (p = strstr(p, begin)) != NULL && out->n < PEM_VECTOR_CERTS;) {
        const char *e = strstr(p += sizeof(begin) - 1, end);
        size_t k = 0, dlen = 0;
        if ((bad = !e))
            break;
        for (; p < e && k < sizeof(b64); p++)
            if (*p != '\n' && *p != '\r')
                b64[k++] = *p;
        if ((bad = mbedtls_base64_decode(out->der[out->n], PEM_VECTOR_DER_MAX, &dlen,
                                         (const unsigned char *)b64, k) != 0))
            break;
        out->certs[out->n] = (struct x509_cert){out->der[out->n], dlen};
        out->n++;
    }
    if (!bad && out->n)
        return 0;
    fprintf(stderr, "%s: no readable certificate\n", path);
    return -1;
}

#endif
