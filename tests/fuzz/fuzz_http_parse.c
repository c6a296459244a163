/*
 * tests/fuzz/fuzz_http_parse.c — arbitrary bytes as an HTTP request head.
 *
 * The server hands the parser whatever a client sent up to the first CRLF CRLF (or bare LF), at
 * most HTTP_HEAD_MAX bytes; here any bytes at all go in, in a buffer exactly as long as the input
 * so ASan sees every read past it. On success the results must point into the buffer and respect
 * the limits; on refusal the reason must be one line. The head-end scan (http_head_end) runs on
 * the same bytes, whole and in two pieces.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct http_head h;
    const char *why = NULL;

    if (size == 0 || size > HTTP_HEAD_MAX)
        return 0;
    char *buf = malloc(size);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    /* Where the server's scan says the head ends: after an LF, inside what arrived; scanning
     * the same bytes in two pieces must agree. */
    size_t from = 0, half = size / 2;
    size_t end = http_head_end(buf, size, &from);
    size_t from2 = 0, end2 = http_head_end(buf, half, &from2);
    if (!end2)
        end2 = http_head_end(buf, size, &from2);
    if (end > size || (end && buf[end - 1] != '\n') || end2 != end || (!end && from != size))
        abort();
    int st = http_parse_head(buf, size, &h, &why);
    if (st == 0) {
        if (h.method < buf || h.method >= buf + size || h.path < buf || h.path >= buf + size ||
            !memchr(h.path, '\0', (size_t)(buf + size - h.path)) || h.path[0] != '/' ||
            strlen(h.path) > HTTP_PATH_MAX || h.length > HTTP_BODY_MAX)
            abort();
    } else if (!why || strchr(why, '\n') ||
               (st != 400 && st != 413 && st != 414 && st != 431 && st != 501)) {
        abort();
    }
    free(buf);
    return 0;
}
