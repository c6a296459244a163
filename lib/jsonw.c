#include "jsonw.h"

#include <string.h>

void jsonw_init(struct jsonw *w, char *buf, size_t cap)
{
    memset(w, 0, sizeof(*w));
    w->buf = buf;
    w->cap = cap;
    w->overflow = cap == 0;
}

static void put(struct jsonw *w, const char *s, size_t n)
{
    /* One byte stays free for the terminator. */
    if (w->overflow || n >= w->cap - w->len) {
        w->overflow = true;
        return;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

static void put_escaped(struct jsonw *w, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    put(w, "\"", 1);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            char e[2] = {'\\', (char)ch};
            put(w, e, 2);
        } else if (ch < 0x20 || ch == 0x7f) {
            char e[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};
            put(w, e, 6);
        } else {
            put(w, s, 1);
        }
    }
    put(w, "\"", 1);
}

/* The comma before a member and its key, if any. */
static void member(struct jsonw *w, const char *key)
{
    if (w->depth > 0 && w->need_comma[w->depth - 1])
        put(w, ",", 1);
    if (w->depth > 0)
        w->need_comma[w->depth - 1] = true;
    if (key) {
        put_escaped(w, key);
        put(w, ":", 1);
    }
}

void jsonw_object_begin(struct jsonw *w, const char *key)
{
    if (w->depth == JSONW_DEPTH) {
        w->overflow = true;
        return;
    }
    member(w, key);
    put(w, "{", 1);
    w->need_comma[w->depth++] = false;
}

void jsonw_object_end(struct jsonw *w)
{
    if (w->depth == 0) {
        w->overflow = true;
        return;
    }
    w->depth--;
    put(w, "}", 1);
}

void jsonw_string(struct jsonw *w, const char *key, const char *value)
{
    member(w, key);
    put_escaped(w, value);
}

void jsonw_uint(struct jsonw *w, const char *key, uint64_t value)
{
    char digits[20];
    size_t n = 0;

    member(w, key);
    do {
        digits[sizeof(digits) - 1 - n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    put(w, digits + sizeof(digits) - n, n);
}

void jsonw_bool(struct jsonw *w, const char *key, bool value)
{
    member(w, key);
    put(w, value ? "true" : "false", value ? 4 : 5);
}

int jsonw_finish(struct jsonw *w)
{
    if (w->overflow || w->depth != 0)
        return -1;
    return (int)w->len;
}
