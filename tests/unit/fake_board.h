/* tests/unit/fake_board — a hal clock and idle the test controls, for the kernel tests. */
#ifndef FAKE_BOARD_H
#define FAKE_BOARD_H

#include <setjmp.h>
#include <stdint.h>

void fake_clock_set(uint64_t ms);
void fake_clock_advance(uint64_t ms);
extern uint32_t fake_idle_calls;
extern uint32_t fake_idle_last_ms;
extern int fake_irq_depth;
/* Called from hal_board_idle, after time advanced: lets a test inject "interrupts". */
extern void (*fake_idle_hook)(void);
/* hal_board_reset: counted, then longjmp to fake_reset_jmp (a test that expects a reset sets it).
 */
extern uint32_t fake_resets;
extern jmp_buf fake_reset_jmp;

#endif
