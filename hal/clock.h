/*
 * hal/clock.h — time.
 *
 * hal_clock_ms() is monotonic from boot and never goes backwards (it is what timers use).
 * The wall clock is UTC seconds since 1970 from the board's RTC; setting it changes only the wall
 * clock, never the monotonic one.
 */
#ifndef HAL_CLOCK_H
#define HAL_CLOCK_H

#include <stdint.h>

uint64_t hal_clock_ms(void);

/* UTC seconds since the Unix epoch; returns 0 or -EIO when the RTC cannot be read. */
int hal_clock_wall_get(int64_t *secs);

/* Set the RTC; -ERANGE when the RTC cannot hold the value. */
int hal_clock_wall_set(int64_t secs);

#endif
