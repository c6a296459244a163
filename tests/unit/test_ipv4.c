#include "lib/ipv4.h"

#include "unit.h"

TEST(dotted_quads)
{
    uint32_t a = 1;

    CHECK_EQ(ipv4_parse("10.0.2.15", &a), 0);
    CHECK_EQ(a, 0x0a00020fu);
    CHECK_EQ(ipv4_parse("0.0.0.0", &a), 0);
    CHECK_EQ(a, 0u);
    CHECK_EQ(ipv4_parse("255.255.255.255", &a), 0);
    CHECK_EQ(a, 0xffffffffu);
}

TEST(everything_else_is_refused)
{
    static const char *bad[] = {
        "",         "1.2.3",      "1.2.3.4.5",  "256.1.1.1",        "1.2.3.4 ",   " 1.2.3.4",
        "01.2.3.4", "1..3.4",     "1.2.3.4/24", "a.b.c.d",          "1.2.3.-4",   "1.2.3.",
        "1.2.3.4x", "1234.1.1.1", "999.1.1.1",  "4294967297.0.0.0", "1.2.3.0004", ".1.2.3",
        "1,2,3,4",  "1.2.3.4\n",
    };
    uint32_t a = 7;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_EQ(ipv4_parse(bad[i], &a), -1);
        CHECK_EQ(a, 7u); /* untouched on refusal */
    }
}

TEST(cidr_and_prefix)
{
    uint32_t a, m;

    CHECK_EQ(ipv4_parse_cidr("10.0.2.20/24", &a, &m), 0);
    CHECK_EQ(a, 0x0a000214u);
    CHECK_EQ(m, 0xffffff00u);
    CHECK_EQ(ipv4_parse_cidr("192.168.1.1/32", &a, &m), 0);
    CHECK_EQ(m, 0xffffffffu);
    CHECK_EQ(ipv4_parse_cidr("192.168.1.1/1", &a, &m), 0);
    CHECK_EQ(m, 0x80000000u);
    CHECK_EQ(ipv4_parse_cidr("192.168.1.1/0", &a, &m), -1);
    CHECK_EQ(ipv4_parse_cidr("192.168.1.1/33", &a, &m), -1);
    CHECK_EQ(ipv4_parse_cidr("192.168.1.1/024", &a, &m), -1);
    CHECK_EQ(ipv4_parse_cidr("192.168.1.1/", &a, &m), -1);
    CHECK_EQ(ipv4_parse_cidr("192.168.1.1", &a, &m), -1);
    CHECK_EQ(ipv4_parse_cidr("192.168.1.1/24x", &a, &m), -1);
    CHECK_EQ(ipv4_prefix_len(0xffffff00u), 24);
    CHECK_EQ(ipv4_prefix_len(0xffffffffu), 32);
    CHECK_EQ(ipv4_prefix_len(0), 0);
    CHECK_EQ(ipv4_prefix_len(0xff00ff00u), -1);
}

TEST(format_round_trips)
{
    char s[IPV4_TEXT_MAX + 1];
    uint32_t samples[] = {0, 0x0a00020fu, 0xffffffffu, 0x01020304u, 0xc0a86401u, 0x64090a00u};

    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        uint32_t back = 1;
        ipv4_format(samples[i], s);
        CHECK_EQ(ipv4_parse(s, &back), 0);
        CHECK_EQ(back, samples[i]);
    }
    ipv4_format(0xc0a86401u, s);
    CHECK_STR(s, "192.168.100.1");
}

int main(void)
{
    RUN(dotted_quads);
    RUN(everything_else_is_refused);
    RUN(cidr_and_prefix);
    RUN(format_round_trips);
    return unit_summary();
}
