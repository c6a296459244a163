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
    RUN(reason_phrases);
    return unit_summary();
}
