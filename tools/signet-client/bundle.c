/*
 * tools/signet-client/bundle — see bundle.h.
 */
#include "bundle.h"

#include <errno.h>
#include <string.h>

#define BEGIN "-----BEGIN CERTIFICATE-----"
#define END   "-----END CERTIFICATE-----"

/* One DER SEQUENCE with a definite length that fills len exactly. */
static bool der_sequence(const uint8_t *d, size_t len)
{
    size_t body, hdr;

    if (len < 2 || d[0] != 0x30)
        return false;
    if (d[1] < 0x80) {
        body = d[1];
        hdr = 2;
    } else if (d[1] == 0x81 && len >= 3) {
        body = d[2];
        hdr = 3;
    } else if (d[1] == 0x82 && len >= 4) {
        body = (size_t)d[2] << 8 | d[3];
        hdr = 4;
    } else {
        return false;
    }
    return hdr + body == len;
}

static const uint8_t *find(const uint8_t *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);

    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(hay + i, needle, n) == 0)
            return hay + i;
    return NULL;
}

int bundle_read(const uint8_t *text, size_t len, struct bundle *b, const char **why)
{
    const uint8_t *p = text, *end = text + len;

    b->count = 0;
    *why = "file too large for a certificate bundle";
    if (len > BUNDLE_TEXT_MAX)
        return -E2BIG;
    if (len > 0 && text[0] == 0x30) { /* one DER certificate */
        *why = "not a DER certificate";
        if (len > DOC_LICENSE_MAX || !der_sequence(text, len))
            return -EINVAL;
        memcpy(b->der[0], text, len);
        b->len[0] = len;
        b->count = 1;
        return 0;
    }
    for (;;) {
        const uint8_t *begin = find(p, (size_t)(end - p), BEGIN);
        if (!begin)
            break;
        const uint8_t *stop = find(begin, (size_t)(end - begin), END);
        *why = "a CERTIFICATE block without its END line";
        if (!stop)
            goto fail;
        stop += strlen(END);
        *why = "more certificates than a license and its chain";
        if (b->count == BUNDLE_MAX)
            goto fail;
        size_t n = 0;
        int ret = doc_unarmor((const char *)begin, (size_t)(stop - begin), "CERTIFICATE",
                              b->der[b->count], DOC_LICENSE_MAX, &n, why);
        if (ret != 0)
            goto fail;
        *why = "a CERTIFICATE block that is not one DER certificate";
        if (!der_sequence(b->der[b->count], n))
            goto fail;
        b->len[b->count++] = n;
        p = stop;
    }
    *why = "no PEM CERTIFICATE block (nor a DER certificate)";
    if (b->count == 0)
        return -EINVAL;
    return 0;
fail:
    b->count = 0;
    return -EINVAL;
}

int bundle_pem(const struct bundle *b, char *out, size_t cap, size_t *len)
{
    *len = 0;
    for (size_t i = 0; i < b->count; i++) {
        size_t n = 0;
        int ret = doc_armor("CERTIFICATE", b->der[i], b->len[i], out + *len, cap - *len, &n);
        if (ret != 0)
            return ret;
        *len += n;
    }
    return 0;
}

int bundle_set(struct bundle *b, const uint8_t *leaf, size_t leaf_len,
               const uint8_t (*chain)[DOC_CERT_MAX], const size_t *chain_len, size_t chain_count)
{
    b->count = 0;
    if (leaf_len == 0 || leaf_len > DOC_LICENSE_MAX || chain_count > DOC_CHAIN_MAX)
        return -EINVAL;
    memcpy(b->der[0], leaf, leaf_len);
    b->len[0] = leaf_len;
    for (size_t i = 0; i < chain_count; i++) {
        if (chain_len[i] == 0 || chain_len[i] > DOC_CERT_MAX)
            return -EINVAL;
        memcpy(b->der[1 + i], chain[i], chain_len[i]);
        b->len[1 + i] = chain_len[i];
    }
    b->count = 1 + chain_count;
    return 0;
}

size_t bundle_chain(const struct bundle *b, struct x509_cert chain[DOC_CHAIN_MAX])
{
    size_t n = 0;

    for (size_t i = 1; i < b->count && n < DOC_CHAIN_MAX; i++, n++)
        chain[n] = (struct x509_cert){b->der[i], b->len[i]};
    return n;
}
