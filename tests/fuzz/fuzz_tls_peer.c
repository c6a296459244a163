/*
 * tests/fuzz/fuzz_tls_peer.c — arbitrary bytes as the certificate a TLS client presents.
 *
 * Whoever connects to the HTTPS port may present any DER as its client certificate. mbedTLS
 * parses it during the handshake (mbedtls_x509_crt_parse_der, as its Certificate message reader
 * does for each entry); net/tls.c then keeps its SHA-256 fingerprint (note_peer) — the identity
 * the ACL and /v1/whoami know a client by — and the firmware prints it as AB:CD:… text, which
 * the ACL's parser (lib/hex) must read back as the same 32 bytes. note_peer and the
 * printer are static or tied to the token in their files, so the same steps are written out
 * here from the public functions they use. Where a trust anchor exists the certificate is also
 * verified against it, as mbedTLS does for an optional client certificate: here against a fixed
 * Signet root (tests/fuzz/x509_anchor.der), with the input as the leaf. The input sits in a
 * buffer exactly as long as itself so ASan sees any read past it.
 *
 * mbedTLS's TLS reader keeps going when a certificate's signature algorithm is unknown
 * (ssl_parse_certificate_chain ignores that one parse error): what stays in the chain is an
 * emptied entry, no DER, no names. note_peer must then take no fingerprint, and nothing may verify
 * that entry: mbedtls_x509_crt_verify compares its empty names with memcmp(NULL, NULL, 0),
 * undefined behaviour that UBSan reports, with or without a trust anchor (corpus file
 * unknown-sig-alg.der). So only a certificate that parsed is verified here.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hex.h"
#include "mbedtls/oid.h"
#include "mbedtls/sha256.h"
#include "mbedtls/x509_crt.h"

static mbedtls_x509_crt anchor;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static uint8_t der[4096];
    FILE *f = fopen(FUZZ_X509_ANCHOR, "rb");
    size_t n;

    (void)argc;
    (void)argv;
    if (!f) {
        perror(FUZZ_X509_ANCHOR);
        abort();
    }
    n = fread(der, 1, sizeof(der), f);
    fclose(f);
    mbedtls_x509_crt_init(&anchor);
    if (mbedtls_x509_crt_parse_der(&anchor, der, n) != 0)
        abort();
    return 0;
}

/* The fingerprint as the console and /v1/whoami print it. */
static void format_fp(const uint8_t fp[32], char out[96])
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < 32; i++) {
        out[3 * i] = hex[fp[i] >> 4];
        out[3 * i + 1] = hex[fp[i] & 15];
        out[3 * i + 2] = i == 31 ? '\0' : ':';
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mbedtls_x509_crt peer;
    uint8_t fp[32], back[32];
    char text[96];
    uint32_t flags = 0;
    uint8_t *buf = malloc(size ? size : 1);

    if (!buf)
        return 0;
    memcpy(buf, data, size);
    mbedtls_x509_crt_init(&peer);
    int ret = mbedtls_x509_crt_parse_der(&peer, buf, size);
    if (ret == MBEDTLS_ERR_X509_UNKNOWN_SIG_ALG + MBEDTLS_ERR_OID_NOT_FOUND && peer.raw.p)
        abort(); /* the entry the TLS reader keeps must hold nothing to fingerprint */
    if (ret == 0) {
        if (!peer.raw.p || peer.raw.len == 0 || peer.raw.len > size)
            abort();
        if (mbedtls_sha256(peer.raw.p, peer.raw.len, fp, 0) != 0)
            abort();
        format_fp(fp, text);
        if (hex_parse_fingerprint(text, back, sizeof(back)) != 0 || memcmp(fp, back, 32) != 0)
            abort();
        (void)mbedtls_x509_crt_verify(&peer, &anchor, NULL, NULL, &flags, NULL, NULL);
    }
    mbedtls_x509_crt_free(&peer);
    free(buf);
    return 0;
}
