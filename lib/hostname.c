#include "hostname.h"

#include <stdbool.h>
#include <string.h>

#include "lib/ipv4.h"

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-';
}

int hostname_check(const char *name, size_t len)
{
    size_t label = 0;
    bool letter = false;

    if (len == 0 || len > HOSTNAME_MAX)
        return -1;
    for (size_t i = 0; i <= len; i++) {
        char c = i < len ? name[i] : '.';
        if (c != '.') {
            if (!is_name_char(c))
                return -1;
            letter |= !is_digit(c);
            label++;
            continue;
        }
        /* the end of a label: 1..63 characters, no hyphen at either end */
        if (label == 0 || label > 63 || name[i - 1] == '-' || name[i - label] == '-')
            return -1;
        label = 0;
    }
    return letter ? 0 : -1;
}

int hostname_parse_server(const char *spec, char host[HOSTNAME_MAX + 1], uint16_t *port,
                          uint16_t default_port)
{
    const char *colon = strchr(spec, ':');
    size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
    uint32_t addr;

    *port = default_port;
    if (len == 0 || len > HOSTNAME_MAX)
        return -1;
    memcpy(host, spec, len);
    host[len] = '\0';
    if (ipv4_parse(host, &addr) != 0 && hostname_check(host, len) != 0)
        return -1;
    if (colon) {
        unsigned long v = 0;
        const char *d = colon + 1;
        if (*d < '1' || *d > '9')
            return -1;
        for (; *d >= '0' && *d <= '9' && v <= 65535; d++)
            v = v * 10 + (unsigned long)(*d - '0');
        if (*d || v > 65535)
            return -1;
        *port = (uint16_t)v;
    }
    return 0;
}
