/*
 * boards/vexpress-a9/sp804.c — SP804 dual timers.
 *
 * Timer 0/1, first half: the 1 kHz system tick behind hal_clock_ms().
 * Timer 2/3, first half: the fallback watchdog, used when no SP805 answers (sp805.c). It is a
 * countdown restarted by every kick; its interrupt resets the board. Unlike a real SP805 it cannot
 * catch a hang with interrupts masked, which is why status names the watchdog in use.
 */
#include "hal/board.h"
#include "hal/clock.h"
#include "signet_config.h"
#include "vexpress.h"

#define T_LOAD   0x00u
#define T_CTRL   0x08u
#define T_INTCLR 0x0cu
#define T_BGLOAD 0x18u

#define CTRL_ONESHOT  (1u << 0)
#define CTRL_32BIT    (1u << 1)
#define CTRL_IE       (1u << 5)
#define CTRL_PERIODIC (1u << 6)
#define CTRL_ENABLE   (1u << 7)

static volatile uint64_t ticks_ms;
static ve_irq_fn wdt_expired;
static uint32_t wdt_load;

static void tick_isr(void *ctx)
{
    (void)ctx;
    mmio_write(VE_TIMER01 + T_INTCLR, 1);
    ticks_ms = ticks_ms + 1000u / VE_TICK_HZ;
}

void tick_init(void)
{
    mmio_write(VE_TIMER01 + T_CTRL, 0);
    mmio_write(VE_TIMER01 + T_LOAD, VE_TIMCLK_HZ / VE_TICK_HZ - 1);
    mmio_write(VE_TIMER01 + T_INTCLR, 1);
    gic_attach(VE_IRQ_TIMER01, tick_isr, NULL);
    mmio_write(VE_TIMER01 + T_CTRL, CTRL_ENABLE | CTRL_PERIODIC | CTRL_IE | CTRL_32BIT);
}

uint64_t hal_clock_ms(void)
{
    /* A 64-bit load is two words on this core: read with the tick masked. */
    uint32_t irq = hal_irq_save();
    uint64_t v = ticks_ms;
    hal_irq_restore(irq);
    return v;
}

static void wdt_isr(void *ctx)
{
    (void)ctx;
    mmio_write(VE_TIMER23 + T_INTCLR, 1);
    if (wdt_expired)
        wdt_expired(NULL);
}

void sp804_watchdog_start(uint32_t timeout_ms, ve_irq_fn expired)
{
    wdt_expired = expired;
    wdt_load = timeout_ms * (VE_TIMCLK_HZ / 1000u);
    mmio_write(VE_TIMER23 + T_CTRL, 0);
    mmio_write(VE_TIMER23 + T_LOAD, wdt_load);
    mmio_write(VE_TIMER23 + T_INTCLR, 1);
    gic_attach(VE_IRQ_TIMER23, wdt_isr, NULL);
    mmio_write(VE_TIMER23 + T_CTRL, CTRL_ENABLE | CTRL_ONESHOT | CTRL_IE | CTRL_32BIT);
}

void sp804_watchdog_kick(void)
{
    /* Writing LOAD restarts the count at once. */
    mmio_write(VE_TIMER23 + T_LOAD, wdt_load);
}
