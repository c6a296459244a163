#include "hex.h"

#include <errno.h>

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int hex_parse_fingerprint(const char *text, uint8_t *out, size_t len)
{
    size_t got = 0;

    while (*text && got < len) {
        int hi = hex_value(text[0]), lo = hi < 0 ? -1 : hex_value(text[1]);
        if (lo < 0)
            return -EINVAL;
        out[got++] = (uint8_t)(hi << 4 | lo);
        text += 2;
        if (*text == ':' && got < len)
            text++;
    }
    return got == len && !*text ? 0 : -EINVAL;
}

void hex_encode(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}
