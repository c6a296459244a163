/*
 * tests/fuzz/fuzz_http_answer.c — arbitrary bytes as a server's answer to the HTTPS client
 * (net/http_client: online enrollment, renewal, forwarded certification requests).
 *
 * The client collects what the server sends into a NUL-terminated buffer and asks
 * http_parse_answer after every piece whether the answer is whole; here the input is that
 * buffer (at most HTTP_CLIENT_RESPONSE_MAX bytes, exactly as long as the input plus its NUL so
 * ASan sees any read past it), asked both while more may come and after the server closed.
 * A complete answer's body must lie inside the buffer with a status of 100..599; a refusal must
 * give a one-line reason; and an answer complete before the close is complete, and the same,
 * after it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int status = 0, status2 = 0;
    const char *body = NULL, *body2 = NULL, *why = NULL;
    size_t len = 0, len2 = 0;

    if (size > HTTP_CLIENT_RESPONSE_MAX)
        return 0;
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    int open = http_parse_answer(buf, size, false, &status, &body, &len, &why);
    if (open < -1 || open > 1 || (open < 0 && (!why || !why[0] || strchr(why, '\n'))))
        abort();
    why = NULL;
    int closed = http_parse_answer(buf, size, true, &status2, &body2, &len2, &why);
    if (closed != -1 && closed != 1)
        abort(); /* after the close there is no "not yet" */
    if (closed < 0 && (!why || !why[0] || strchr(why, '\n')))
        abort();
    if (open == 1 && (closed != 1 || status2 != status || body2 != body || len2 != len))
        abort();
    if (closed == 1 &&
        (status2 < 100 || status2 > 599 || body2 < buf || len2 > size || body2 + len2 > buf + size))
        abort();
    free(buf);
    return 0;
}
