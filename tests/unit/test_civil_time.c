#include "lib/civil_time.h"

#include <errno.h>

#include "unit.h"

static int64_t parse(const char *s)
{
    int64_t t = -1;
    if (civil_parse_iso8601(s, strlen(s), &t) != 0)
        return -999;
    return t;
}

static const char *fmt(int64_t t)
{
    static char buf[CIVIL_ISO8601_LEN + 1];
    civil_format_iso8601(t, buf);
    return buf;
}

TEST(known_instants)
{
    CHECK_EQ(parse("1970-01-01T00:00:00Z"), 0);
    CHECK_EQ(parse("2000-03-01T00:00:00Z"), 951868800);
    CHECK_EQ(parse("2038-01-19T03:14:07Z"), 2147483647);
    CHECK_EQ(parse("2038-01-19T03:14:08Z"), 2147483648LL);
    CHECK_EQ(parse("2106-02-07T06:28:15Z"), 4294967295LL); /* last second of a 32-bit RTC */
    CHECK_EQ(parse("2026-11-25T12:00:00"), 1795608000);    /* Z is optional */
    CHECK_STR(fmt(0), "1970-01-01T00:00:00Z");
    CHECK_STR(fmt(1795608000), "2026-11-25T12:00:00Z");
    CHECK_STR(fmt(-1), "1969-12-31T23:59:59Z");
}

TEST(leap_days)
{
    CHECK(parse("2000-02-29T00:00:00Z") >= 0);
    CHECK(parse("2024-02-29T12:00:00Z") >= 0);
    CHECK_EQ(parse("1900-02-29T00:00:00Z"), -999);
    CHECK_EQ(parse("2025-02-29T00:00:00Z"), -999);
    CHECK_EQ(parse("2100-02-29T00:00:00Z"), -999);
    CHECK_EQ(parse("2024-03-01T00:00:00Z") - parse("2024-02-28T00:00:00Z"), 2 * 86400);
}

TEST(round_trip_every_day_1970_to_2200)
{
    int64_t end = parse("2200-12-31T00:00:00Z");
    for (int64_t t = 0; t <= end; t += 86400 + 3661) {
        int64_t back = parse(fmt(t));
        if (back != t) {
            printf("# %lld -> %s -> %lld\n", (long long)t, fmt(t), (long long)back);
            CHECK_EQ(back, t);
        }
    }
}

TEST(malformed_input_rejected)
{
    static const char *bad[] = {
        "",
        "2026-11-25",
        "2026-11-25 12:00:00Z",
        "2026-11-25T12:00:00z",
        "2026/11/25T12:00:00Z",
        "2026-11-25T12-00-00Z",
        "2026-00-10T00:00:00Z",
        "2026-13-10T00:00:00Z",
        "2026-01-00T00:00:00Z",
        "2026-01-32T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-01-01T24:00:00Z",
        "2026-01-01T23:60:00Z",
        "2026-01-01T23:59:60Z",
        "2026-01-01T2a:00:00Z",
        "+026-01-01T00:00:00Z",
        "2026-01-01T00:00:00ZZ",
        "2026-01-01T00:00:00+01:00",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t t;
        if (civil_parse_iso8601(bad[i], strlen(bad[i]), &t) != -EINVAL) {
            printf("# accepted: '%s'\n", bad[i]);
            CHECK(0);
        }
    }
}

TEST(length_bounds_are_respected)
{
    /* The parser reads exactly len bytes: a valid prefix of a longer buffer is only a prefix. */
    const char *s = "2026-11-25T12:00:00Zjunk";
    int64_t t;
    CHECK_EQ(civil_parse_iso8601(s, 20, &t), 0);
    CHECK_EQ(civil_parse_iso8601(s, 24, &t), -EINVAL);
    CHECK_EQ(civil_parse_iso8601(s, 5, &t), -EINVAL);
}

int main(void)
{
    RUN(known_instants);
    RUN(leap_days);
    RUN(round_trip_every_day_1970_to_2200);
    RUN(malformed_input_rejected);
    RUN(length_bounds_are_respected);
    return unit_summary();
}
