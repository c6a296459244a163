#include <string.h>

#include "lib/hostname.h"

#include "unit.h"

static int check(const char *s)
{
    return hostname_check(s, strlen(s));
}

TEST(names)
{
    static const char *good[] = {
        "a",           "rms.contoso.example", "authority.corp.test",
        "x-1.example", "1a.example",          "node01",
        "A.B.C",       "123.example",         "xn--bcher-kva.example",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        CHECK_EQ(check(good[i]), 0);
}

TEST(everything_else_is_refused)
{
    static const char *bad[] = {
        "",           ".",         "a.",       ".a",   "a..b", "-a.example",
        "a-.example", "a.-b",      "a_b.test", "a b",  "a.b ", "10.0.2.2",
        "10.0.2.256", "1.2.3",     "a/b",      "a:80", "a\n",  "\xc3\xa9.test",
        "a@b.test",   "*.example",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ(check(bad[i]), -1);
}

TEST(lengths)
{
    char name[300];

    memset(name, 'a', 63);
    name[63] = '\0';
    CHECK_EQ(check(name), 0); /* a label of 63 */
    name[63] = 'a';
    name[64] = '\0';
    CHECK_EQ(check(name), -1); /* of 64 */
    /* 253 in all (labels of 63 and dots) is the most; 254 is refused */
    for (size_t i = 0; i < 253; i++)
        name[i] = (i % 64 == 63) ? '.' : 'b';
    name[253] = '\0';
    CHECK_EQ(check(name), 0);
    name[253] = 'b';
    name[254] = '\0';
    CHECK_EQ(check(name), -1);
    /* the length is what counts, not a NUL */
    CHECK_EQ(hostname_check("abc.example", 3), 0);
    CHECK_EQ(hostname_check("abc-", 3), 0);
    CHECK_EQ(hostname_check("abc", 0), -1);
}

int main(void)
{
    RUN(names);
    RUN(everything_else_is_refused);
    RUN(lengths);
    return unit_summary();
}
