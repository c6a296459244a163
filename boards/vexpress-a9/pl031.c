/* boards/vexpress-a9/pl031.c — PL031 RTC: 32-bit seconds since 1970 (QEMU seeds it from the host).
 */
#include <errno.h>

#include "hal/clock.h"
#include "vexpress.h"

#define RTC_DR 0x00u
#define RTC_LR 0x08u
#define RTC_CR 0x0cu

int hal_clock_wall_get(int64_t *secs)
{
    *secs = (int64_t)mmio_read(VE_RTC + RTC_DR);
    return 0;
}

int hal_clock_wall_set(int64_t secs)
{
    if (secs < 0 || secs > (int64_t)UINT32_MAX)
        return -ERANGE;
    mmio_write(VE_RTC + RTC_CR, 1);
    mmio_write(VE_RTC + RTC_LR, (uint32_t)secs);
    return 0;
}
