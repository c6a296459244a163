/*
 * hal/wdt.h — the watchdog.
 *
 * Once started, the board resets (reason HAL_RESET_WATCHDOG) unless hal_wdt_kick() is called at
 * least every timeout_ms. It cannot be stopped. hal_wdt_kind() names the mechanism in use, for
 * status output, so an operator can see when a board has to fall back to a weaker one.
 */
#ifndef HAL_WDT_H
#define HAL_WDT_H

#include <stdint.h>

int hal_wdt_start(uint32_t timeout_ms);
void hal_wdt_kick(void);
const char *hal_wdt_kind(void);

#endif
