#include "fake_board.h"

#include <stdlib.h>

#include "hal/board.h"
#include "hal/clock.h"

static uint64_t now_ms;
uint32_t fake_idle_calls;
uint32_t fake_idle_last_ms;
int fake_irq_depth;
void (*fake_idle_hook)(void);
uint32_t fake_resets;
jmp_buf fake_reset_jmp;

void fake_clock_set(uint64_t ms)
{
    now_ms = ms;
}

void fake_clock_advance(uint64_t ms)
{
    now_ms += ms;
}

uint64_t hal_clock_ms(void)
{
    return now_ms;
}

uint32_t hal_irq_save(void)
{
    return (uint32_t)fake_irq_depth++;
}

void hal_irq_restore(uint32_t state)
{
    fake_irq_depth = (int)state;
}

/* Idle "sleeps" by advancing time, as if the next timer woke the board. */
void hal_board_idle(uint32_t max_ms)
{
    fake_idle_calls++;
    fake_idle_last_ms = max_ms;
    now_ms += max_ms;
    if (fake_idle_hook)
        fake_idle_hook();
}

_Noreturn void hal_board_reset(enum hal_reset_reason why)
{
    (void)why;
    fake_resets++;
    longjmp(fake_reset_jmp, 1);
}
