#include "civil_time.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#define SECS_PER_DAY 86400

static bool is_leap(int32_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static uint8_t days_in_month(int32_t y, uint8_t m)
{
    static const uint8_t dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return (m == 2 && is_leap(y)) ? 29 : dim[m - 1];
}

/*
 * Days since 1970-01-01 of a proleptic Gregorian date. Counting years from March puts the leap day
 * last, so each 400-year era has a fixed shape (146097 days) and no table is needed.
 */
static int64_t days_from_civil(int32_t y, uint8_t m, uint8_t d)
{
    int64_t yy = (int64_t)y - (m <= 2);
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;                                  /* 0..399 */
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* 0..365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* 0..146096 */
    return era * 146097 + doe - 719468;                            /* 719468: 0000-03-01 → 1970 */
}

static void civil_from_days(int64_t z, struct civil_time *out)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    out->day = (uint8_t)(doy - (153 * mp + 2) / 5 + 1);
    out->month = (uint8_t)(mp < 10 ? mp + 3 : mp - 9);
    out->year = (int32_t)(yoe + era * 400 + (out->month <= 2));
}

int64_t civil_to_epoch(const struct civil_time *ct)
{
    return days_from_civil(ct->year, ct->month, ct->day) * SECS_PER_DAY + ct->hour * 3600 +
           ct->minute * 60 + ct->second;
}

void civil_from_epoch(int64_t secs, struct civil_time *out)
{
    int64_t days = secs / SECS_PER_DAY;
    int64_t rem = secs % SECS_PER_DAY;
    if (rem < 0) {
        rem += SECS_PER_DAY;
        days--;
    }
    civil_from_days(days, out);
    out->hour = (uint8_t)(rem / 3600);
    out->minute = (uint8_t)(rem / 60 % 60);
    out->second = (uint8_t)(rem % 60);
}

/* Exactly n decimal digits at s; -1 on anything else. */
static int32_t digits(const char *s, size_t n)
{
    int32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int civil_parse_iso8601(const char *s, size_t len, int64_t *secs)
{
    struct civil_time ct;

    if (len == CIVIL_ISO8601_LEN) {
        if (s[19] != 'Z')
            return -EINVAL;
    } else if (len != CIVIL_ISO8601_LEN - 1) {
        return -EINVAL;
    }
    if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
        return -EINVAL;
    int32_t y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
    int32_t h = digits(s + 11, 2), mi = digits(s + 14, 2), se = digits(s + 17, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 ||
        se > 59)
        return -EINVAL;
    if (d > days_in_month(y, (uint8_t)mo))
        return -EINVAL;
    ct.year = y;
    ct.month = (uint8_t)mo;
    ct.day = (uint8_t)d;
    ct.hour = (uint8_t)h;
    ct.minute = (uint8_t)mi;
    ct.second = (uint8_t)se;
    *secs = civil_to_epoch(&ct);
    return 0;
}

static void put_digits(char *out, uint32_t v, size_t n)
{
    while (n--) {
        out[n] = (char)('0' + v % 10);
        v /= 10;
    }
}

void civil_format_iso8601(int64_t secs, char out[CIVIL_ISO8601_LEN + 1])
{
    struct civil_time ct;

    civil_from_epoch(secs, &ct);
    /* Years outside 0..9999 do not fit the fixed-width form; clamp rather than overflow. */
    if (ct.year < 0)
        ct.year = 0;
    if (ct.year > 9999)
        ct.year = 9999;
    memcpy(out, "0000-00-00T00:00:00Z", CIVIL_ISO8601_LEN + 1);
    put_digits(out, (uint32_t)ct.year, 4);
    put_digits(out + 5, ct.month, 2);
    put_digits(out + 8, ct.day, 2);
    put_digits(out + 11, ct.hour, 2);
    put_digits(out + 14, ct.minute, 2);
    put_digits(out + 17, ct.second, 2);
}
