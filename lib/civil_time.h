/*
 * lib/civil_time — UTC calendar arithmetic, no time zones, no leap seconds.
 *
 * The wall clock is kept as seconds since 1970-01-01T00:00:00Z. The text form is ISO 8601 basic
 * UTC as the console shows it: "YYYY-MM-DDTHH:MM:SSZ".
 */
#ifndef CIVIL_TIME_H
#define CIVIL_TIME_H

#include <stddef.h>
#include <stdint.h>

#define CIVIL_ISO8601_LEN 20 /* "2026-11-25T12:00:00Z" without the terminator */

struct civil_time {
    int32_t year;
    uint8_t month; /* 1..12 */
    uint8_t day;   /* 1..31 */
    uint8_t hour, minute, second;
};

int64_t civil_to_epoch(const struct civil_time *ct);
void civil_from_epoch(int64_t secs, struct civil_time *out);

/*
 * Parse "YYYY-MM-DDTHH:MM:SSZ" (the trailing Z may be omitted; it is always UTC).
 * Returns 0, or -EINVAL for anything else, including impossible dates such as 2025-02-29.
 */
int civil_parse_iso8601(const char *s, size_t len, int64_t *secs);

/* Writes CIVIL_ISO8601_LEN characters plus a terminator; out must hold 21 bytes. */
void civil_format_iso8601(int64_t secs, char out[CIVIL_ISO8601_LEN + 1]);

#endif
