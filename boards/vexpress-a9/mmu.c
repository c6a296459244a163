/*
 * boards/vexpress-a9/mmu.c — flat 1 MiB-section mapping, caches on.
 *
 * RAM is Normal write-back memory (so unaligned accesses are legal); everything else is Device
 * and never executable. The first megabyte is left unmapped so a NULL dereference faults.
 */
#include "vexpress.h"

#define SECT       0x2u
#define SECT_B     (1u << 2)
#define SECT_C     (1u << 3)
#define SECT_XN    (1u << 4)
#define SECT_AP_RW (3u << 10)
#define SECT_TEX1  (1u << 12)

#define SECT_NORMAL_WB (SECT | SECT_TEX1 | SECT_C | SECT_B | SECT_AP_RW)
#define SECT_DEVICE    (SECT | SECT_B | SECT_AP_RW | SECT_XN)

#define RAM_BASE_MB 0x600u /* 0x60000000 */
#define RAM_SIZE_MB 0x400u /* the whole 1 GiB window; QEMU maps what -m gives */

#define SCTLR_M (1u << 0)
#define SCTLR_A (1u << 1)
#define SCTLR_C (1u << 2)
#define SCTLR_Z (1u << 11)
#define SCTLR_I (1u << 12)

extern uint32_t __ttb[4096];

/* Real A9 cores come out of reset with random L1 D-cache contents: invalidate by set/way. */
static void dcache_invalidate_all(void)
{
    uint32_t ccsidr;

    __asm__ volatile("mcr p15, 2, %0, c0, c0, 0\n\tisb" ::"r"(0)); /* CSSELR: L1 data */
    __asm__ volatile("mrc p15, 1, %0, c0, c0, 0" : "=r"(ccsidr));  /* CCSIDR */
    uint32_t line_shift = (ccsidr & 7u) + 4u;
    uint32_t ways = ((ccsidr >> 3) & 0x3ffu) + 1u;
    uint32_t sets = ((ccsidr >> 13) & 0x7fffu) + 1u;
    uint32_t way_shift = ways > 1 ? (uint32_t)__builtin_clz(ways - 1) : 0;

    for (uint32_t w = 0; w < ways; w++)
        for (uint32_t s = 0; s < sets; s++)
            __asm__ volatile(
                "mcr p15, 0, %0, c7, c6, 2" ::"r"((w << way_shift) | (s << line_shift)));
    __asm__ volatile("dsb" ::: "memory");
}

void mmu_init(void)
{
    uint32_t sctlr;

    dcache_invalidate_all();
    for (uint32_t mb = 0; mb < 4096; mb++) {
        uint32_t attr =
            (mb >= RAM_BASE_MB && mb < RAM_BASE_MB + RAM_SIZE_MB) ? SECT_NORMAL_WB : SECT_DEVICE;
        __ttb[mb] = mb == 0 ? 0 : (mb << 20) | attr;
    }
    __asm__ volatile("mcr p15, 0, %0, c2, c0, 2" ::"r"(0)); /* TTBCR: TTBR0 only */
    __asm__ volatile("mcr p15, 0, %0, c2, c0, 0" ::"r"((uint32_t)(uintptr_t)__ttb)); /* TTBR0 */
    __asm__ volatile("mcr p15, 0, %0, c3, c0, 0" ::"r"(0x55555555u)); /* domains: client */
    __asm__ volatile("mcr p15, 0, %0, c8, c7, 0" ::"r"(0));           /* TLBIALL */
    __asm__ volatile("mcr p15, 0, %0, c7, c5, 0" ::"r"(0));           /* ICIALLU */
    __asm__ volatile("mcr p15, 0, %0, c7, c5, 6" ::"r"(0));           /* BPIALL */
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    __asm__ volatile("mrc p15, 0, %0, c1, c0, 0" : "=r"(sctlr));
    sctlr |= SCTLR_M | SCTLR_C | SCTLR_I | SCTLR_Z;
    sctlr &= ~SCTLR_A;
    __asm__ volatile("mcr p15, 0, %0, c1, c0, 0" ::"r"(sctlr) : "memory");
    __asm__ volatile("isb" ::: "memory");
}
