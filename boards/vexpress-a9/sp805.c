/*
 * boards/vexpress-a9/sp805.c — the SP805 watchdog, or the SP804 fallback when it is absent.
 *
 * The motherboard has an SP805 at 0x1000f000 but QEMU's vexpress-a9 does not model it, and an
 * access to an unmodelled address aborts. So the PrimeCell ID is read with probe_read32(), which
 * survives the abort, and only a real SP805 is programmed.
 */
#include <stdbool.h>

#include "hal/board.h"
#include "hal/wdt.h"
#include "vexpress.h"

#define WDOG_LOAD       0x000u
#define WDOG_CTRL       0x008u
#define WDOG_INTCLR     0x00cu
#define WDOG_LOCK       0xc00u
#define WDOG_PERIPHID0  0xfe0u
#define WDOG_PERIPHID1  0xfe4u
#define WDOG_UNLOCK_KEY 0x1acce551u
#define WDOG_CTRL_INTEN (1u << 0)
#define WDOG_CTRL_RESEN (1u << 1)

/* WDOGCLK: assumed to be the 1 MHz reference like the SP804s; QEMU cannot confirm it. */
#define WDOG_CLK_HZ 1000000u

enum wdt_kind { WDT_NONE, WDT_SP805, WDT_SP804 };
static enum wdt_kind kind;

static bool sp805_present(void)
{
    uint32_t id0, id1;

    if (probe_read32(VE_WDT + WDOG_PERIPHID0, &id0) || probe_read32(VE_WDT + WDOG_PERIPHID1, &id1))
        return false;
    return (id0 & 0xffu) == 0x05u && (id1 & 0xffu) == 0x18u;
}

static void fallback_expired(void *ctx)
{
    (void)ctx;
    pl011_panic_write("\nwatchdog: timeout, resetting\n");
    hal_board_reset(HAL_RESET_WATCHDOG);
}

int hal_wdt_start(uint32_t timeout_ms)
{
    if (sp805_present()) {
        /* The SP805 interrupts on the first expiry and resets on the second: load half. */
        mmio_write(VE_WDT + WDOG_LOCK, WDOG_UNLOCK_KEY);
        mmio_write(VE_WDT + WDOG_LOAD, timeout_ms / 2 * (WDOG_CLK_HZ / 1000u));
        mmio_write(VE_WDT + WDOG_CTRL, WDOG_CTRL_INTEN | WDOG_CTRL_RESEN);
        mmio_write(VE_WDT + WDOG_LOCK, 0);
        /* The SP805 resets the board in hardware, with no chance to say why: say it now.
         * hal_board_reset() overwrites this note for every reset it makes itself. */
        board_note_reset(HAL_RESET_WATCHDOG);
        kind = WDT_SP805;
    } else {
        sp804_watchdog_start(timeout_ms, fallback_expired);
        kind = WDT_SP804;
    }
    return 0;
}

void hal_wdt_kick(void)
{
    if (kind == WDT_SP805) {
        mmio_write(VE_WDT + WDOG_LOCK, WDOG_UNLOCK_KEY);
        mmio_write(VE_WDT + WDOG_INTCLR, 1); /* reloads the counter */
        mmio_write(VE_WDT + WDOG_LOCK, 0);
    } else if (kind == WDT_SP804) {
        sp804_watchdog_kick();
    }
}

const char *hal_wdt_kind(void)
{
    switch (kind) {
    case WDT_SP805:
        return "sp805";
    case WDT_SP804:
        return "sp804 timer (no SP805 found)";
    default:
        return "off";
    }
}
