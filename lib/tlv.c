#include "tlv.h"

#include <errno.h>
#include <string.h>

int tlv_put(uint8_t *buf, size_t cap, size_t *len, uint8_t tag, const void *value, size_t n)
{
    if (n > TLV_VALUE_MAX)
        return -EINVAL;
    if (*len > cap || cap - *len < 3 + n)
        return -ENOSPC;
    uint8_t *p = buf + *len;
    p[0] = tag;
    p[1] = (uint8_t)(n >> 8);
    p[2] = (uint8_t)n;
    if (n)
        memcpy(p + 3, value, n);
    *len += 3 + n;
    return 0;
}

void tlv_reader_init(struct tlv_reader *r, const uint8_t *buf, size_t len)
{
    r->p = buf;
    r->end = buf + len;
    r->bad = false;
}

bool tlv_next(struct tlv_reader *r, uint8_t *tag, const uint8_t **value, size_t *n)
{
    if (r->bad || r->p == r->end)
        return false;
    if (r->end - r->p < 3) {
        r->bad = true;
        return false;
    }
    size_t len = (size_t)r->p[1] << 8 | r->p[2];
    if ((size_t)(r->end - r->p) - 3 < len) {
        r->bad = true;
        return false;
    }
    *tag = r->p[0];
    *value = r->p + 3;
    *n = len;
    r->p += 3 + len;
    return true;
}
