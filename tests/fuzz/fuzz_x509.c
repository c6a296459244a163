/*
 * tests/fuzz/fuzz_x509.c — arbitrary bytes as certificates: what x509_read and x509_chain_verify
 * make of them (our extensions: signetRights, signetProduct, signetRevocation, signetKind,
 * signetContent, signetVia; the subjectAltName URI, cRLDistributionPoints, basic constraints,
 * keyUsage, validity).
 *
 * First byte even: the rest is one certificate for x509_read. Odd: the second byte picks the
 * rights the leaf must hold, then come up to CHAIN_IN certificates, each a 16-bit big-endian
 * length and that many bytes — the leaf first, then its issuers — verified against a fixed
 * anchor (tests/fuzz/x509_anchor.der, a Signet root made by make_x509_seeds.py). Every
 * certificate sits in a buffer exactly as long as itself so ASan sees any read past it.
 * A crash, sanitizer report, a success whose results break the documented limits, or a refusal
 * without a one-line reason is a bug.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/x509.h"

#define CHAIN_IN 8 /* more than x509_chain_verify takes, so its bound is exercised */

static uint8_t anchor[4096];
static size_t anchor_len;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    FILE *f = fopen(FUZZ_X509_ANCHOR, "rb");

    (void)argc;
    (void)argv;
    if (!f) {
        perror(FUZZ_X509_ANCHOR);
        abort();
    }
    anchor_len = fread(anchor, 1, sizeof(anchor), f);
    fclose(f);
    return 0;
}

static bool one_line(const char *why)
{
    return why && why[0] && !strchr(why, '\n') && strlen(why) < 200;
}

static bool terminated(const char *s, size_t cap, size_t max)
{
    const char *nul = memchr(s, '\0', cap);
    return nul && (size_t)(nul - s) <= max;
}

static void check_read(const uint8_t *der, size_t len)
{
    uint8_t *buf = malloc(len ? len : 1);
    struct x509_info info;
    const char *why = NULL;

    if (!buf)
        return;
    memcpy(buf, der, len);
    if (x509_read(buf, len, &info, &why) != 0) {
        if (!one_line(why))
            abort();
        free(buf);
        return;
    }
    /* Everything read points into the certificate and keeps to its bounds. */
    const uint8_t *end = buf + len;
    if (!terminated(info.cn, sizeof(info.cn), X509_CN_MAX) ||
        !terminated(info.cluster_url, sizeof(info.cluster_url), X509_URL_MAX) ||
        !terminated(info.sku, sizeof(info.sku), X509_TEXT_MAX) ||
        !terminated(info.version, sizeof(info.version), X509_TEXT_MAX) ||
        !terminated(info.crl_url, sizeof(info.crl_url), X509_URL_MAX) ||
        (info.has_via && info.kind != X509_KIND_RAC) || info.serial_len > sizeof(info.serial) ||
        info.spki < buf || info.spki + info.spki_len > end || info.subject < buf ||
        info.subject + info.subject_len > end || info.kind > X509_KIND_CKEK ||
        (info.rights & ~X509_RIGHTS_ALL))
        abort();
    if (info.revoker_spki &&
        (info.revoker_spki < buf || info.revoker_spki + info.revoker_spki_len > end ||
         info.revoker_spki_len > X509_SPKI_MAX))
        abort();
    if (info.has_content) {
        const struct x509_content *c = &info.content;
        if (c->grant_count < 1 || c->grant_count > X509_GRANTS_MAX || c->wrapped < buf ||
            c->wrapped + c->wrapped_len > end || c->wrapped_len < 1 ||
            c->wrapped_len > X509_WRAPPED_MAX ||
            !terminated(c->owner, sizeof(c->owner), X509_CN_MAX))
            abort();
        for (size_t i = 0; i < c->grant_count; i++)
            if (!terminated(c->grants[i].user, sizeof(c->grants[i].user), X509_CN_MAX) ||
                !c->grants[i].rights || (c->grants[i].rights & ~X509_GRANTS_ALL))
                abort();
        if (info.kind == X509_KIND_USE && c->grant_count != 1)
            abort();
    }
    if ((info.kind == X509_KIND_PUBLISHING || info.kind == X509_KIND_USE) != info.has_content)
        abort();
    free(buf);
}

static void check_chain(const uint8_t *data, size_t size)
{
    static const x509_time now = {2030, 6, 1, 12, 0, 0};
    struct x509_cert certs[CHAIN_IN];
    uint8_t *bufs[CHAIN_IN];
    size_t n = 0;
    uint32_t required;
    const char *why = NULL;

    if (size < 1)
        return;
    required = data[0] & X509_RIGHTS_ALL;
    data++;
    size--;
    while (n < CHAIN_IN && size >= 2) {
        size_t len = (size_t)data[0] << 8 | data[1];
        data += 2;
        size -= 2;
        if (len > size)
            len = size;
        bufs[n] = malloc(len ? len : 1);
        if (!bufs[n])
            break;
        memcpy(bufs[n], data, len);
        certs[n].der = bufs[n];
        certs[n].len = len;
        n++;
        data += len;
        size -= len;
    }
    if (n) {
        struct x509_cert root = {anchor, anchor_len};
        int ret = x509_chain_verify(certs[0], certs + 1, n - 1, root, &now, required, &why);
        if ((ret != 0 && ret != -EPERM) || (ret != 0 && !one_line(why)))
            abort();
    }
    for (size_t i = 0; i < n; i++)
        free(bufs[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1)
        check_chain(data + 1, size - 1);
    else
        check_read(data + 1, size - 1);
    return 0;
}
