#include "ipv4.h"

#include <stddef.h>

/* One decimal part 0..max at *s; advances *s. */
static int parse_number(const char **s, uint32_t max, uint32_t *out)
{
    const char *p = *s;
    uint32_t v = 0;
    size_t n = 0;

    while (*p >= '0' && *p <= '9') {
        if (n == 3 || (n == 1 && v == 0))
            return -1; /* too long, or a leading zero */
        v = v * 10 + (uint32_t)(*p++ - '0');
        n++;
    }
    if (n == 0 || v > max)
        return -1;
    *s = p;
    *out = v;
    return 0;
}

static int parse_quad(const char **s, uint32_t *addr)
{
    uint32_t a = 0, part;

    for (int i = 0; i < 4; i++) {
        if (i > 0 && *(*s)++ != '.')
            return -1;
        if (parse_number(s, 255, &part) != 0)
            return -1;
        a = a << 8 | part;
    }
    *addr = a;
    return 0;
}

int ipv4_parse(const char *s, uint32_t *addr)
{
    uint32_t a;

    if (parse_quad(&s, &a) != 0 || *s != '\0')
        return -1;
    *addr = a;
    return 0;
}

int ipv4_parse_cidr(const char *s, uint32_t *addr, uint32_t *mask)
{
    uint32_t a, n;

    if (parse_quad(&s, &a) != 0 || *s++ != '/' || parse_number(&s, 32, &n) != 0 || *s != '\0' ||
        n == 0)
        return -1;
    *addr = a;
    *mask = n == 32 ? 0xffffffffu : ~(0xffffffffu >> n);
    return 0;
}

int ipv4_prefix_len(uint32_t mask)
{
    int n = 0;

    while (n < 32 && (mask & (0x80000000u >> n)))
        n++;
    /* Contiguous: nothing set after the first zero bit. */
    if (n < 32 && (mask << n) != 0)
        return -1;
    return n;
}

void ipv4_format(uint32_t addr, char out[IPV4_TEXT_MAX + 1])
{
    char *p = out;

    for (int i = 3; i >= 0; i--) {
        uint32_t part = addr >> (8 * i) & 255;
        if (part >= 100)
            *p++ = (char)('0' + part / 100);
        if (part >= 10)
            *p++ = (char)('0' + part / 10 % 10);
        *p++ = (char)('0' + part % 10);
        if (i)
            *p++ = '.';
    }
    *p = '\0';
}
