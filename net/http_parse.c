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

/*
 * A lone LF ends nothing here: RFC 9112 §2.2 lets a recipient read it as a line end, but a server
 * that did would split a message where a CRLF-only proxy in front of it does not (the request
 * smuggling pattern), and every client we serve sends CRLF. So it is refused — at once, which is
 * why the head scan stops at it too: a client that sends only LFs gets its 400 instead of
 * waiting for a CRLF CRLF that never comes.
 */
static bool bare_lf(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
            return true;
    return false;
}

size_t http_head_end(const char *in, size_t len, size_t *from)
{
    for (size_t i = *from; i < len; i++) {
        if (in[i] != '\n')
            continue;
        if (i == 0 || in[i - 1] != '\r')
            return i + 1;
        if (i >= 3 && in[i - 3] == '\r' && in[i - 2] == '\n')
            return i + 1;
    }
    *from = len;
    return 0;
}

int http_parse_head(char *head, size_t len, struct http_head *h, const char **why)
{
    char *end = head + len, *p = head, *eol;
    size_t nheaders = 0;

    memset(h, 0, sizeof(*h));
    *why = "a line ends in a bare LF (lines end in CRLF)";
    if (bare_lf(head, len))
        return 400;
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
            /* RFC 9112 §3.2: two Host fields could name two targets; which one is meant is
             * not ours to guess. */
            if (h->has_host) {
                *why = "more than one Host header";
                return 400;
            }
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

/* want (lower case) starts the line at p, before end; letters compared without case. */
static bool starts_with(const char *p, const char *end, const char *want)
{
    size_t n = strlen(want);
    if ((size_t)(end - p) < n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != want[i])
            return false;
    }
    return true;
}

/* The value of a Content-Length line at v (up to its CRLF): digits, optional blanks around.
 * -2 over the bound, -1 anything else. */
static long content_length(const char *v, const char *eol, size_t max)
{
    long n = 0;
    const char *d;

    while (v < eol && (*v == ' ' || *v == '\t'))
        v++;
    for (d = v; v < eol && *v >= '0' && *v <= '9'; v++) {
        n = n * 10 + (*v - '0');
        if ((size_t)n > max)
            return -2;
    }
    while (v < eol && (*v == ' ' || *v == '\t'))
        v++;
    return v == d || v != eol ? -1 : n;
}

int http_parse_answer_head(const char *in, size_t len, bool eof, size_t max_body, int *status,
                           size_t *head_len, size_t *body_len, const char **why)
{
    const char *head_end = NULL;

    *why = "the server's answer is not HTTP/1.x";
    for (size_t i = 0; i + 3 < len; i++)
        if (memcmp(in + i, "\r\n\r\n", 4) == 0) {
            head_end = in + i + 4;
            break;
        }
    if (!head_end)
        return eof ? -1 : 0;
    if (len < 16 || memcmp(in, "HTTP/1.", 7) != 0 || in[8] != ' ' || in[9] < '1' || in[9] > '5' ||
        in[10] < '0' || in[10] > '9' || in[11] < '0' || in[11] > '9' ||
        (in[12] != ' ' && in[12] != '\r'))
        return -1;
    *status = (in[9] - '0') * 100 + (in[10] - '0') * 10 + (in[11] - '0');
    long clen = -1;
    /* Header lines lie between the status line's CRLF and the blank line; each ends in CRLF. */
    for (const char *p = strstr(in, "\r\n"); p && p + 2 < head_end;) {
        const char *line = p + 2, *eol = strstr(line, "\r\n");
        if (!eol || eol >= head_end)
            break;
        if (starts_with(line, eol, "transfer-encoding:")) {
            *why = "the server's answer is chunked (only Content-Length is read)";
            return -1;
        }
        if (starts_with(line, eol, "content-length:")) {
            long v = content_length(line + 15, eol, max_body);
            if (v == -2) {
                *why = "the server's answer is too large (Content-Length)";
                return -2;
            }
            if (v < 0 || (clen >= 0 && v != clen)) {
                *why = "the server's answer has a bad Content-Length";
                return -1;
            }
            clen = v;
        }
        p = eol;
    }
    if (clen < 0) {
        *why = "the server's answer has no Content-Length";
        return -1;
    }
    *head_len = (size_t)(head_end - in);
    *body_len = (size_t)clen;
    return 1;
}

int http_parse_answer(const char *in, size_t len, bool eof, int *status, const char **body,
                      size_t *body_len, const char **why)
{
    size_t head_len = 0, clen = 0;
    int r = http_parse_answer_head(in, len, eof, HTTP_CLIENT_RESPONSE_MAX, status, &head_len, &clen,
                                   why);

    if (r <= 0)
        return r < 0 ? -1 : 0;
    if (len - head_len < clen) {
        *why = "the server closed the connection before its whole answer";
        return eof ? -1 : 0;
    }
    *body = in + head_len;
    *body_len = clen;
    return 1;
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
