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
 * characters, malformed field names, a second Host field (RFC 9112 §3.2) and lines ending in a
 * bare LF (see http_head_end) are refused (400).
 *
 * The same file reads the other direction for net/http_client: the head and Content-Length of a
 * server's answer (http_parse_answer), so that parser too runs without a network.
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

/*
 * Where the request head in in[0, len) ends: its length up to and including the first CRLF CRLF,
 * or up to and including the first LF that no CR precedes (a head http_parse_head then refuses
 * with 400 at once, rather than the client waiting for a blank line it will never send); 0 when
 * neither has arrived yet. *from is where the scan resumes when more bytes arrive (start it at
 * 0, and again for each new request).
 */
size_t http_head_end(const char *in, size_t len, size_t *from);

/*
 * A server's answer so far, in[0, len), for net/http_client: status line "HTTP/1.x DDD", header
 * fields up to the blank line, and a body of exactly Content-Length bytes (required; all
 * Content-Length fields must agree and be at most HTTP_CLIENT_RESPONSE_MAX; Transfer-Encoding is
 * refused). in[len] must be a NUL (the head is scanned as a string; a NUL inside it ends the
 * scan). eof: the server has closed, nothing more will come. 1 complete (*status, *body and
 * *body_len set, *body pointing into in), 0 not yet, -1 refused or cut short with *why a
 * one-line reason.
 */
int http_parse_answer(const char *in, size_t len, bool eof, int *status, const char **body,
                      size_t *body_len, const char **why);

/*
 * Only the head of a server's answer, for an answer read into a buffer of its own (a large GET):
 * 1 when in[0, len) holds the whole head (*status, *head_len with the blank line, *body_len the
 * Content-Length), 0 not yet, -1 refused, -2 a Content-Length over max_body (*why one line).
 * The same rules as http_parse_answer, which is this plus "is the body all there".
 */
int http_parse_answer_head(const char *in, size_t len, bool eof, size_t max_body, int *status,
                           size_t *head_len, size_t *body_len, const char **why);

/* The reason phrase for a status line (RFC 9110 §15), "Error" for 4xx codes without one. */
const char *http_reason_phrase(int status);

#endif
