#include "hostname.h"

#include <stdbool.h>

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
