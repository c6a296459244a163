/*
 * hal/board.h — board bring-up, idling, interrupts masking and reset.
 *
 * Contract: hal_board_init() is called once, first, by the firmware's entry point; after it every
 * other hal_* call is legal. Interrupt handlers run only while interrupts are unmasked. Functions
 * return 0 or a negative errno value.
 */
#ifndef HAL_BOARD_H
#define HAL_BOARD_H

#include <stdint.h>
#include <stdbool.h>

enum hal_reset_reason {
    HAL_RESET_POWER_ON = 0, /* cold start: no marker survived */
    HAL_RESET_SOFTWARE,     /* hal_board_reset() */
    HAL_RESET_WATCHDOG,     /* watchdog expired */
    HAL_RESET_FAULT,        /* CPU exception handler reset the board */
};

void hal_board_init(void);

/* Short board name, e.g. "host" or "vexpress-a9". */
const char *hal_board_name(void);

/* Why the board came out of its last reset. */
enum hal_reset_reason hal_board_reset_reason(void);

/*
 * Sleep until an interrupt arrives or about max_ms milliseconds pass. Must be called with
 * interrupts masked (see hal_irq_save); it unmasks them atomically with going to sleep, so an
 * interrupt that arrived just before the call still ends the sleep. Returns with them masked.
 */
void hal_board_idle(uint32_t max_ms);

/* Reset the board; never returns. */
_Noreturn void hal_board_reset(enum hal_reset_reason why);

/*
 * Provided by the firmware, not the board: the board's entry code calls it once, after
 * hal_board_init(). It runs the appliance and does not return in normal operation.
 */
void signet_main(void);

/* Mask interrupts and return the previous state for hal_irq_restore. Nestable. */
uint32_t hal_irq_save(void);
void hal_irq_restore(uint32_t state);

#endif
