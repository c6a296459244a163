/*
 * boards/vexpress-a9/board.c — bring-up, idle, reset and fault reporting.
 *
 * Order matters in board_start: the MMU goes on first, because with it off every access is
 * Strongly-ordered and the compiler's unaligned loads and stores would fault.
 */
#include <assert.h>
#include <stdio.h>

#include "hal/board.h"
#include "vexpress.h"

#define SYS_CFGCTRL   0xa4u
#define CFG_START     (1u << 31)
#define CFG_WRITE     (1u << 30)
#define CFG_FN_REBOOT (9u << 20)

#define RESET_NOTE_MAGIC 0x52534e54u /* "RSNT" */

extern void _init_tls(void *tls);
extern void _set_tls(void *tls);
extern char __tls_block[];
extern volatile uint32_t __reset_note[];

static enum hal_reset_reason last_reset;

/* Written just before a reset; read and cleared at boot. RAM is not cleared by a warm reset. */
void board_note_reset(enum hal_reset_reason why)
{
    __reset_note[1] = (uint32_t)why;
    __reset_note[0] = RESET_NOTE_MAGIC;
}

static enum hal_reset_reason take_reset_note(void)
{
    enum hal_reset_reason r = HAL_RESET_POWER_ON;

    if (__reset_note[0] == RESET_NOTE_MAGIC && __reset_note[1] <= HAL_RESET_FAULT)
        r = (enum hal_reset_reason)__reset_note[1];
    __reset_note[0] = 0;
    return r;
}

void board_start(void);
void board_start(void)
{
    mmu_init();
    _init_tls(__tls_block);
    _set_tls(__tls_block);
    hal_board_init();
    __asm__ volatile("cpsie i");
    signet_main();
}

void hal_board_init(void)
{
    last_reset = take_reset_note();
    gic_init();
    tick_init();
}

const char *hal_board_name(void)
{
    return "vexpress-a9";
}

enum hal_reset_reason hal_board_reset_reason(void)
{
    return last_reset;
}

uint32_t hal_irq_save(void)
{
    uint32_t cpsr;
    __asm__ volatile("mrs %0, cpsr\n\tcpsid i" : "=r"(cpsr)::"memory");
    return cpsr & 0x80u;
}

void hal_irq_restore(uint32_t state)
{
    if (!state)
        __asm__ volatile("cpsie i" ::: "memory");
}

void hal_board_idle(uint32_t max_ms)
{
    /* The tick wakes us every millisecond, so max_ms needs no timer of its own. */
    (void)max_ms;
    __asm__ volatile("dsb\n\twfi" ::: "memory");
}

_Noreturn void hal_board_reset(enum hal_reset_reason why)
{
    __asm__ volatile("cpsid i");
    board_note_reset(why);
    /* Let the last console bytes leave the FIFO before the reset cuts them off. */
    for (volatile uint32_t i = 0; i < 200000u; i++)
        ;
    mmio_write(VE_SYSREGS + SYS_CFGCTRL, CFG_START | CFG_WRITE | CFG_FN_REBOOT);
    for (;;)
        __asm__ volatile("wfi");
}

static const char *fault_name(uint32_t kind)
{
    switch (kind) {
    case 1:
        return "undefined instruction";
    case 3:
        return "prefetch abort";
    case 4:
        return "data abort";
    default:
        return "unexpected exception";
    }
}

_Noreturn void board_fault(uint32_t kind, uint32_t pc, uint32_t spsr)
{
    char line[128];
    uint32_t dfsr, dfar;

    __asm__ volatile("mrc p15, 0, %0, c5, c0, 0" : "=r"(dfsr));
    __asm__ volatile("mrc p15, 0, %0, c6, c0, 0" : "=r"(dfar));
    snprintf(line, sizeof(line),
             "\nFATAL: %s at pc=0x%08lx spsr=0x%08lx dfsr=0x%08lx dfar=0x%08lx\n", fault_name(kind),
             (unsigned long)pc, (unsigned long)spsr, (unsigned long)dfsr, (unsigned long)dfar);
    pl011_panic_write(line);
    hal_board_reset(HAL_RESET_FAULT);
}

/*
 * picolibc's assert() ends here. Upstream code we build keeps its assertions (expat's guard
 * internal invariants of the XML parser); the C library's own version would print through a
 * stderr this board does not have and then abort() to an _exit it has no use for. A failed
 * assertion is a firmware bug: report it like a CPU fault and reset.
 */
void __assert_func(const char *file, int line, const char *func, const char *expr)
{
    char msg[192];

    (void)func;
    snprintf(msg, sizeof(msg), "\nFATAL: assertion failed: %s (%s:%d)\n", expr, file, line);
    pl011_panic_write(msg);
    hal_board_reset(HAL_RESET_FAULT);
}
