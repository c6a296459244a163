/*
 * tests/unit/unit.h — the project's small unit-test runner.
 *
 * Each test_<module>.c defines TEST(name) functions and a main() that RUNs them and returns
 * unit_summary(). Output is one line per test, "ok - name" or "not ok - name: file:line: check",
 * then "N passed, N failed"; tests/run.py reads those lines. A failed CHECK ends only that test.
 */
#ifndef UNIT_H
#define UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_passed, unit_failed;
static int unit_current_failed;
static char unit_reason[512];

#define TEST(name) static void name(void)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            unit_fail(__FILE__, __LINE__, "%s", #cond);                                            \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        long long unit_a = (long long)(a), unit_b = (long long)(b);                                \
        if (unit_a != unit_b) {                                                                    \
            unit_fail(__FILE__, __LINE__, "%s == %s (%lld != %lld)", #a, #b, unit_a, unit_b);      \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *unit_a = (a), *unit_b = (b);                                                   \
        if (strcmp(unit_a, unit_b) != 0) {                                                         \
            unit_fail(__FILE__, __LINE__, "%s == %s (\"%s\" != \"%s\")", #a, #b, unit_a, unit_b);  \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define RUN(name) unit_run(#name, name)

__attribute__((format(printf, 3, 4))) static void unit_fail(const char *file, int line,
                                                            const char *fmt, ...);

#include <stdarg.h>
static void unit_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(unit_reason, sizeof(unit_reason), "%s:%d: ", file, line);
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof(unit_reason))
        vsnprintf(unit_reason + n, sizeof(unit_reason) - (size_t)n, fmt, ap);
    va_end(ap);
    unit_current_failed = 1;
}

static void unit_run(const char *name, void (*fn)(void))
{
    unit_current_failed = 0;
    fn();
    if (unit_current_failed) {
        unit_failed++;
        printf("not ok - %s: %s\n", name, unit_reason);
    } else {
        unit_passed++;
        printf("ok - %s\n", name);
    }
    fflush(stdout);
}

static int unit_summary(void)
{
    printf("%d passed, %d failed\n", unit_passed, unit_failed);
    return unit_failed ? 1 : 0;
}

#endif
