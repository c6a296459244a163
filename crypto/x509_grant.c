/*
 * crypto/x509_grant.c — content rights as text ("view,print"), the form the license documents
 * carry them in (crypto/doc) and operators type them. No mbedTLS here, so crypto/doc can link
 * it alone.
 */
#include "crypto/x509.h"

#include <errno.h>
#include <string.h>

/* Bit i of X509_GRANT_* is named x509_grant_names[i]. */
static const char *const x509_grant_names[] = {"view",   "edit",    "print",
                                               "export", "forward", "owner"};
#define X509_GRANT_NAMES (sizeof(x509_grant_names) / sizeof(x509_grant_names[0]))
_Static_assert(X509_GRANTS_ALL == (1u << X509_GRANT_NAMES) - 1, "one name per grant bit");

/* The right whose name is exactly s[0..n), or 0. */
static uint32_t x509_grant_named(const char *s, size_t n)
{
    for (size_t i = 0; i < X509_GRANT_NAMES; i++)
        if (strlen(x509_grant_names[i]) == n && memcmp(s, x509_grant_names[i], n) == 0)
            return 1u << i;
    return 0;
}

int x509_grant_parse(const char *text, uint32_t *rights)
{
    uint32_t got = 0;

    if (!text || !rights)
        return -EINVAL;
    /* One name per round: stops at the first unknown, repeated or empty one, so the scan is
     * bounded by the longest valid list however long the text is. */
    for (const char *p = text;;) {
        size_t n = 0;
        while (n < 8 && p[n] != '\0' && p[n] != ',')
            n++;
        uint32_t bit = x509_grant_named(p, n);
        if (!bit || (got & bit))
            return -EINVAL;
        got |= bit;
        if (p[n] == '\0')
            break;
        p += n + 1; /* past the comma: a name must follow */
    }
    *rights = got;
    return 0;
}

int x509_grant_format(uint32_t rights, char *out, size_t cap)
{
    size_t len = 0;

    if (!out || cap == 0)
        return -ENOSPC;
    out[0] = '\0';
    if (rights == 0 || (rights & ~X509_GRANTS_ALL))
        return -EINVAL;
    for (size_t i = 0; i < X509_GRANT_NAMES; i++) {
        if (!(rights & (1u << i)))
            continue;
        size_t n = strlen(x509_grant_names[i]), sep = len ? 1 : 0;
        if (sep + n >= cap - len) {
            out[0] = '\0';
            return -ENOSPC;
        }
        if (sep)
            out[len++] = ',';
        memcpy(out + len, x509_grant_names[i], n);
        len += n;
        out[len] = '\0';
    }
    return 0;
}
