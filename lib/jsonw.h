/*
 * lib/jsonw — a small JSON writer into a caller's fixed buffer.
 *
 * Objects nest up to JSONW_DEPTH; strings are escaped (RFC 8259 §7). Overflow is sticky: once
 * the buffer is too small every later call does nothing and jsonw_finish() returns -1, so a
 * caller checks once at the end and never sends half a document.
 */
#ifndef JSONW_H
#define JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSONW_DEPTH 8

struct jsonw {
    char *buf;
    size_t cap, len;
    bool overflow;
    int depth;
    bool need_comma[JSONW_DEPTH];
};

void jsonw_init(struct jsonw *w, char *buf, size_t cap);
/* key NULL at the top level (or inside arrays, which we do not write). */
void jsonw_object_begin(struct jsonw *w, const char *key);
void jsonw_object_end(struct jsonw *w);
void jsonw_string(struct jsonw *w, const char *key, const char *value);
void jsonw_uint(struct jsonw *w, const char *key, uint64_t value);
void jsonw_bool(struct jsonw *w, const char *key, bool value);
/* Length of the NUL-terminated document, or -1 if it did not fit or objects are unbalanced. */
int jsonw_finish(struct jsonw *w);

#endif
