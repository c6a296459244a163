/*
 * boards/vexpress-a9 — memory map and interrupt numbers of the Versatile Express motherboard
 * (legacy map, used with the CoreTile A9x4) as QEMU's "vexpress-a9" machine models it.
 */
#ifndef VEXPRESS_H
#define VEXPRESS_H

#include <stddef.h>
#include <stdint.h>

#define VE_SYSREGS      0x10000000u
#define VE_UART0        0x10009000u
#define VE_UART1        0x1000a000u
#define VE_WDT          0x1000f000u
#define VE_TIMER01      0x10011000u
#define VE_TIMER23      0x10012000u
#define VE_RTC          0x10017000u
#define VE_FLASH0       0x40000000u
#define VE_FLASH_SECTOR (256u * 1024u)
#define VE_ETH          0x4e000000u /* SMSC LAN9118 on the static memory bus */
#define VE_A9_PERIPH    0x1e000000u /* SCU, GIC CPU interface, private timers */
#define VE_GICC         (VE_A9_PERIPH + 0x0100u)
#define VE_GICD         (VE_A9_PERIPH + 0x1000u)

/* GIC interrupt IDs: motherboard interrupt n is shared peripheral interrupt 32 + n. */
#define VE_IRQ_WDT     (32u + 0u)
#define VE_IRQ_TIMER01 (32u + 2u)
#define VE_IRQ_TIMER23 (32u + 3u)
#define VE_IRQ_RTC     (32u + 4u)
#define VE_IRQ_UART0   (32u + 5u)
#define VE_IRQ_UART1   (32u + 6u)
#define VE_IRQ_ETH     (32u + 15u)

/* The SP804s are clocked from the 1 MHz reference clock. */
#define VE_TIMCLK_HZ 1000000u

static inline uint32_t mmio_read(uint32_t addr)
{
    return *(volatile uint32_t *)(uintptr_t)addr;
}

static inline void mmio_write(uint32_t addr, uint32_t v)
{
    *(volatile uint32_t *)(uintptr_t)addr = v;
}

/* gic.c */
typedef void (*ve_irq_fn)(void *ctx);
void gic_init(void);
void gic_attach(uint32_t irq, ve_irq_fn fn, void *ctx);

/* sp804.c: the system tick (1 ms) and the fallback watchdog timer. */
void tick_init(void);
void sp804_watchdog_start(uint32_t timeout_ms, ve_irq_fn expired);
void sp804_watchdog_kick(void);

/* uart_pl011.c: polled output for fault reports, usable with interrupts masked. */
void pl011_panic_write(const char *s);

/* startup.S: read a 32-bit word that may not exist; 0 or -1 if the access aborted. */
int probe_read32(uint32_t addr, uint32_t *out);

/* board.c */
#include "hal/board.h"
/* Record why the next reset happens, for hal_board_reset_reason() after it. */
void board_note_reset(enum hal_reset_reason why);
_Noreturn void board_fault(uint32_t kind, uint32_t pc, uint32_t spsr);
void mmu_init(void);

#endif
