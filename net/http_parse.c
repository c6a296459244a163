#include "http_parse.h"

#include <string.h>

static bool is_tchar(char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static bool name_is(const char *name, size_t len, const char *want)
{
    if (strlen(want) != len)
        return false;
    for (size_t i = 0; i < len; i++) {
        char a = name[i], b = want[i];
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (a != b)
            return false;
    }
    return true;
}

int http_parse_head(char *head, size_t len, struct http_head *h, const char **why)
{
    char *end = head + len, *p = head, *eol;
    size_t nheaders = 0;

    memset(h, 0, sizeof(*h));
    *why = "bad request line";
    eol = memchr(p, '\r', (size_t)(end - p));
    if (!eol || eol + 1 >= end || eol[1] != '\n')
        return 400;
    *eol = '\0';
    h->method = p;
    while (*p >= 'A' && *p <= 'Z')
        p++;
    if (p == h->method || p - h->method > 7 || *p != ' ')
        return 400;
    *p++ = '\0';
    h->path = p;
    while (*p > ' ' && *p < 0x7f)
        p++;
    if (*h->path != '/' || *p != ' ')
        return 400;
    if ((size_t)(p - h->path) > HTTP_PATH_MAX) {
        *why = "request target too long";
        return 414;
    }
    *p++ = '\0';
    /* The whole rest of the line, so a NUL cannot end the comparison early. */
    if (eol - p == 8 && memcmp(p, "HTTP/1.1", 8) == 0)
        h->http10 = false;
    else if (eol - p == 8 && memcmp(p, "HTTP/1.0", 8) == 0)
        h->http10 = true;
    else {
        *why = "unsupported HTTP version";
        return 400;
    }
    for (p = eol + 2; p < end; p = eol + 2) {
        eol = memchr(p, '\r', (size_t)(end - p));
        if (!eol || eol + 1 >= end || eol[1] != '\n') {
            *why = "malformed header line";
            return 400;
        }
        if (eol == p)
            break; /* the empty line ending the head */
        if (++nheaders > HTTP_HEADERS_MAX) {
            *why = "too many header fields";
            return 431;
        }
        char *colon = p;
        while (colon < eol && is_tchar(*colon))
            colon++;
        if (colon == p || colon == eol || *colon != ':') {
            *why = "malformed header field"; /* also obsolete line folding */
            return 400;
        }
        size_t nlen = (size_t)(colon - p);
        char *v = colon + 1;
        while (v < eol && (*v == ' ' || *v == '\t'))
            v++;
        char *vend = eol;
        while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t'))
            vend--;
        for (char *q = v; q < vend; q++) {
            if ((unsigned char)*q < 0x20 && *q != '\t') {
                *why = "control character in a header field";
                return 400;
            }
        }
        size_t vlen = (size_t)(vend - v);
        if (name_is(p, nlen, "content-length")) {
            size_t n = 0;
            if (vlen == 0) {
                *why = "bad Content-Length";
                return 400;
            }
            for (size_t i = 0; i < vlen; i++) {
                if (v[i] < '0' || v[i] > '9') {
                    *why = "bad Content-Length";
                    return 400;
                }
                /* Saturate just above the limit: any number of digits, no wrap on 32 bits. */
                if (n <= HTTP_BODY_MAX)
                    n = n * 10 + (size_t)(v[i] - '0');
            }
            if (n > HTTP_BODY_MAX)
                n = HTTP_BODY_MAX + 1;
            if (h->has_length && n != h->length) {
                *why = "conflicting Content-Length";
                return 400;
            }
            h->has_length = true;
            h->length = n;
        } else if (name_is(p, nlen, "transfer-encoding")) {
            *why = "chunked bodies are not supported; send Content-Length";
            return 501;
        } else if (name_is(p, nlen, "host")) {
            h->has_host = true;
        } else if (name_is(p, nlen, "connection")) {
            if (vlen == 5 && name_is(v, 5, "close"))
                h->close = true;
            else if (vlen == 10 && name_is(v, 10, "keep-alive"))
                h->keep_alive = true;
        } else if (name_is(p, nlen, "expect")) {
            h->expect_continue = vlen == 12 && name_is(v, 12, "100-continue");
        }
    }
    if (!h->http10 && !h->has_host) {
        *why = "missing Host header";
        return 400;
    }
    if (h->length > HTTP_BODY_MAX) {
        *why = "body too large";
        return 413;
    }
    return 0;
}

const char *http_reason_phrase(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 431:
        return "Request Header Fields Too Large";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    default:
        return status < 500 ? "Error" : "Internal Server Error";
    }
}
