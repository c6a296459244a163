/*
 * net/http_parse — the HTTP/1.1 request head parser (RFC 9112 §2-3, §5, §6), on its own so it
 * can be unit-tested and fuzzed without a network.
 *
 * Input is one complete request head: request line, header fields and the empty line, i.e.
 * exactly up to and including the first CRLF CRLF. It is parsed in place: method and path end up
 * as NUL-terminated strings inside the buffer. Only what the appliance needs is understood:
 * GET/POST-style methods (1..7 upper-case letters), origin-form targets of at most HTTP_PATH_MAX
 * bytes, HTTP/1.0 and 1.1, Content-Length (one value; duplicates must agree), Host, Connection,
 * Expect: 100-continue (RFC 9110 §10.1.1: curl sends it with bodies over 1 KiB and waits).
 * Transfer-Encoding is refused (501): bodies need Content-Length. Obsolete line folding, control
 * characters and malformed field names are refused (400).
 */
#ifndef HTTP_PARSE_H
#define HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "signet_config.h"

struct http_head {
    char *method, *path; /* inside the parsed buffer */
    bool http10, keep_alive, close, has_host, has_length, expect_continue;
    size_t length; /* Content-Length, 0 when absent */
};

/* 0, or the HTTP status to answer (400, 413, 414, 431, 501) with *why a one-line reason. */
int http_parse_head(char *head, size_t len, struct http_head *h, const char **why);

/* The reason phrase for a status line (RFC 9110 §15), "Error" for 4xx codes without one. */
const char *http_reason_phrase(int status);

#endif
