#include "net/http_parse.h"

#include <stdio.h>
#include <string.h>

#include "unit.h"

/* Parse a copy of text (a whole head ending in CRLF CRLF); the status, and *h and *why. */
static int parse(const char *text, struct http_head *h, const char **why, char *buf, size_t cap)
{
    size_t n = strlen(text);
    if (n >= cap)
        return -1;
    memcpy(buf, text, n + 1);
    return http_parse_head(buf, n, h, why);
}

TEST(request_line_and_fields)
{
    char buf[512];
    struct http_head h;
    const char *why;

    CHECK_EQ(parse("POST /v1/subenroll?x=1 HTTP/1.1\r\nHost: a\r\ncontent-LENGTH:  12 \r\n"
                   "Connection: close\r\n\r\n",
                   &h, &why, buf, sizeof(buf)),
             0);
    CHECK_STR(h.method, "POST");
    CHECK_STR(h.path, "/v1/subenroll?x=1");
    CHECK(!h.http10 && h.has_host && h.has_length && h.close && !h.keep_alive);
    CHECK_EQ(h.length, 12u);
    CHECK_EQ(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &h, &why, buf, sizeof(buf)),
             0);
    CHECK(h.http10 && h.keep_alive && !h.has_host && h.length == 0 && !h.expect_continue);
    CHECK_EQ(parse("POST /v1/enroll HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n"
                   "Expect: 100-Continue\r\n\r\n",
                   &h, &why, buf, sizeof(buf)),
             0);
    CHECK(h.expect_continue);
    CHECK_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continued\r\n\r\n", &h, &why, buf,
                   sizeof(buf)),
             0);
    CHECK(!h.expect_continue);
}

/* Known-bad heads and the status each must get. */
static const struct {
    const char *head;
    int status;
} bad[] = {
    {"\r\n\r\n", 400},
    {"get / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"GETTINGS / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"GET x HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 400},
    {"GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\n\r\n", 400}, /* HTTP/1.1 needs Host */
    {"GET / HTTP/1.1\nHost: a\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost a\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHo st: a\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a\x01b\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1e3\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 32769\r\n\r\n", 413},
    /* 2^32 + 1: wraps to 1 in 32-bit arithmetic; must stay "too large" */
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 4294967297\r\n\r\n", 413},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 501},
    /* RFC 9112 §3.2: more than one Host field, even with the same value */
    {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nhost: a\r\nX: y\r\nHOST: a\r\n\r\n", 400},
    {"GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", 400},
    /* bare LF anywhere: as the head scan hands it over (up to that LF) and inside a CRLF head */
    {"GET /health HTTP/1.1\n", 400},
    {"GET / HTTP/1.1\r\nHost: a\n", 400},
    {"GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n", 400},
    {"\n", 400},
};

TEST(known_bad_heads)
{
    char buf[512];
    struct http_head h;
    const char *why;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int st = parse(bad[i].head, &h, &why, buf, sizeof(buf));
        if (st != bad[i].status)
            printf("# case %zu: got %d\n", i, st);
        CHECK_EQ(st, bad[i].status);
        CHECK(why && why[0] && !strchr(why, '\n'));
    }
}

TEST(embedded_nul_does_not_end_a_comparison)
{
    char buf[64];
    struct http_head h;
    const char *why;
    static const char head[] = "GET / HTTP/1.1\0x\r\nHost: a\r\n\r\n";

    memcpy(buf, head, sizeof(head));
    CHECK_EQ(http_parse_head(buf, sizeof(head) - 1, &h, &why), 400);
}

TEST(limits_on_target_and_field_count)
{
    char buf[HTTP_HEAD_MAX];
    struct http_head h;
    const char *why;
    int n = snprintf(buf, sizeof(buf), "GET /%0*d HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_PATH_MAX, 0);
    CHECK_EQ(http_parse_head(buf, (size_t)n, &h, &why), 414);
    n = snprintf(buf, sizeof(buf), "GET /%0*d HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_PATH_MAX - 1, 0);
    CHECK_EQ(http_parse_head(buf, (size_t)n, &h, &why), 0);

    size_t len = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\n");
    for (int i = 0; i < HTTP_HEADERS_MAX; i++)
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "X-%d: y\r\n", i);
    len += (size_t)snprintf(buf + len, sizeof(buf) - len, "Host: a\r\n\r\n");
    CHECK_EQ(http_parse_head(buf, len, &h, &why), 431);
}

TEST(duplicate_host_is_refused_with_its_reason)
{
    char buf[128];
    struct http_head h;
    const char *why;

    CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", &h, &why, buf, sizeof(buf)),
             400);
    CHECK_STR(why, "more than one Host header");
    CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n", &h, &why, buf, sizeof(buf)), 0);
}

/* The server scans what has arrived for the end of the head; where it says the head ends when
 * the text arrives one byte at a time, resuming as the server does (0: never). */
static size_t head_end_bytewise(const char *text)
{
    size_t from = 0, len = strlen(text);
    for (size_t n = 1; n <= len; n++) {
        size_t end = http_head_end(text, n, &from);
        if (end)
            return end;
    }
    return 0;
}

TEST(head_end_stops_at_a_bare_lf)
{
    static const char lf[] = "GET /health HTTP/1.1\nHost: x\n\n";
    static const char crlf[] = "GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\n";
    char buf[64];
    struct http_head h;
    const char *why;
    size_t from = 0;

    /* Whole: the head ends at its first LF, and is refused there, not waited on. */
    CHECK_EQ(http_head_end(lf, strlen(lf), &from), 21u);
    memcpy(buf, lf, 21);
    CHECK_EQ(http_parse_head(buf, 21, &h, &why), 400);
    CHECK_STR(why, "a line ends in a bare LF (lines end in CRLF)");
    /* In pieces, the same. */
    CHECK_EQ(head_end_bytewise(lf), 21u);
    /* A CRLF head ends after its blank line, whatever follows, whole or byte by byte. */
    from = 0;
    CHECK_EQ(http_head_end(crlf, strlen(crlf), &from), 33u);
    CHECK_EQ(head_end_bytewise(crlf), 33u);
    /* Not complete yet: 0, and the scan resumes where it stopped. */
    from = 0;
    CHECK_EQ(http_head_end(crlf, 32, &from), 0u);
    CHECK_EQ(from, 32u);
    CHECK_EQ(http_head_end(crlf, 33, &from), 33u);
    /* A lone CR is no line end: the head goes on (and http_parse_head refuses it later). */
    from = 0;
    static const char cr[] = "GET / HTTP/1.1\rHost: a\r\n\r\n";
    CHECK_EQ(http_head_end(cr, strlen(cr), &from), strlen(cr));
}

/* The client's reading of a server's answer (text is NUL-terminated, as the client's buffer). */
static int answer(const char *text, bool eof, int *status, const char **body, size_t *len,
                  const char **why)
{
    *why = NULL;
    return http_parse_answer(text, strlen(text), eof, status, body, len, why);
}

TEST(server_answers)
{
    int status = 0;
    const char *body = NULL, *why;
    size_t len = 0;
    static const char ok[] = "HTTP/1.1 200 OK\r\ncontent-length: 5\r\nX: y\r\n\r\nhello";

    CHECK_EQ(answer(ok, false, &status, &body, &len, &why), 1);
    CHECK_EQ(status, 200);
    CHECK_EQ(len, 5u);
    CHECK(body == ok + strlen(ok) - 5);
    CHECK_EQ(
        answer("HTTP/1.0 403\r\nContent-Length:  0 \r\n\r\n", true, &status, &body, &len, &why), 1);
    CHECK_EQ(status, 403);
    CHECK_EQ(len, 0u);
    /* Not yet: no blank line, or fewer body bytes than announced; cut short once closed. */
    CHECK_EQ(answer("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n", false, &status, &body, &len, &why),
             0);
    CHECK_EQ(answer("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", false, &status, &body, &len,
                    &why),
             0);
    CHECK_EQ(
        answer("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", true, &status, &body, &len, &why),
        -1);
    CHECK_STR(why, "the server closed the connection before its whole answer");
}

static const struct {
    const char *text, *why;
} bad_answers[] = {
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
     "the server's answer is chunked (only Content-Length is read)"},
    {"HTTP/1.1 200 OK\r\n\r\n", "the server's answer has no Content-Length"},
    {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
     "the server's answer has a bad Content-Length"},
    {"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\na",
     "the server's answer has a bad Content-Length"},
    {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
     "the server's answer is too large (Content-Length)"},
    {"HTTP/2 200 OK\r\nContent-Length: 0\r\n\r\n", "the server's answer is not HTTP/1.x"},
    {"HTTP/1.1 600 OK\r\nContent-Length: 0\r\n\r\n", "the server's answer is not HTTP/1.x"},
    {"HTTP/1.1 200\r\n\r\n", "the server's answer has no Content-Length"},
    {"HTTP/1.1 20\r\n\r\n", "the server's answer is not HTTP/1.x"},
    {"SSH-2.0-x\r\n\r\n", "the server's answer is not HTTP/1.x"},
};

TEST(bad_server_answers)
{
    int status;
    const char *body, *why;
    size_t len;

    for (size_t i = 0; i < sizeof(bad_answers) / sizeof(bad_answers[0]); i++) {
        int r = answer(bad_answers[i].text, false, &status, &body, &len, &why);
        if (r != -1 || !why || strcmp(why, bad_answers[i].why) != 0)
            printf("# case %zu: got %d %s\n", i, r, why ? why : "(none)");
        CHECK_EQ(r, -1);
        CHECK_STR(why, bad_answers[i].why);
    }
    /* A NUL inside the head ends the header scan: the Content-Length after it is not seen. */
    static const char nul[] = "HTTP/1.1 200 OK\r\nX: \0\r\nContent-Length: 0\r\n\r\n";
    CHECK_EQ(http_parse_answer(nul, sizeof(nul) - 1, true, &status, &body, &len, &why), -1);
}

/* A large GET (http_client_get) reads only the head here, with the caller's own body bound. */
TEST(answer_head_with_a_large_body)
{
    static const char big[] = "HTTP/1.1 200 OK\r\nContent-Length: 600000\r\n\r\n0123";
    int status = 0;
    size_t head_len = 0, body_len = 0;
    const char *why = NULL;

    CHECK_EQ(http_parse_answer_head(big, strlen(big), false, 1048576, &status, &head_len, &body_len,
                                    &why),
             1);
    CHECK_EQ(status, 200);
    CHECK_EQ(head_len, strlen(big) - 4);
    CHECK_EQ(body_len, 600000u);
    /* Over the caller's bound: -2, so the client can name the bound. */
    CHECK_EQ(http_parse_answer_head(big, strlen(big), false, 599999, &status, &head_len, &body_len,
                                    &why),
             -2);
    CHECK_STR(why, "the server's answer is too large (Content-Length)");
    /* The ordinary reader keeps its own bound. */
    const char *body;
    CHECK_EQ(http_parse_answer(big, strlen(big), false, &status, &body, &body_len, &why), -1);
    CHECK_EQ(http_parse_answer_head("HTTP/1.1 200 OK\r\n", 17, false, 10, &status, &head_len,
                                    &body_len, &why),
             0);
}

TEST(reason_phrases)
{
    CHECK_STR(http_reason_phrase(100), "Continue");
    CHECK_STR(http_reason_phrase(411), "Length Required");
    CHECK_STR(http_reason_phrase(413), "Content Too Large");
    CHECK_STR(http_reason_phrase(418), "Error");
    CHECK_STR(http_reason_phrase(599), "Internal Server Error");
}

int main(void)
{
    RUN(request_line_and_fields);
    RUN(known_bad_heads);
    RUN(embedded_nul_does_not_end_a_comparison);
    RUN(limits_on_target_and_field_count);
    RUN(duplicate_host_is_refused_with_its_reason);
    RUN(head_end_stops_at_a_bare_lf);
    RUN(server_answers);
    RUN(bad_server_answers);
    RUN(answer_head_with_a_large_body);
    RUN(reason_phrases);
    return unit_summary();
}
