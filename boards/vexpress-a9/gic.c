/* boards/vexpress-a9/gic.c — the Cortex-A9 MPCore GIC (v1): route SPIs to CPU 0 and dispatch. */
#include <stddef.h>

#include "vexpress.h"

#define GICD_CTLR       0x000u
#define GICD_ISENABLER  0x100u
#define GICD_ICENABLER  0x180u
#define GICD_IPRIORITYR 0x400u
#define GICD_ITARGETSR  0x800u
#define GICC_CTLR       0x00u
#define GICC_PMR        0x04u
#define GICC_IAR        0x0cu
#define GICC_EOIR       0x10u

#define GIC_IRQS     96u
#define GIC_SPURIOUS 1023u

struct irq_slot {
    ve_irq_fn fn;
    void *ctx;
};

static struct irq_slot slots[GIC_IRQS];
static uint32_t unexpected;

void gic_init(void)
{
    mmio_write(VE_GICD + GICD_CTLR, 0);
    for (uint32_t i = 32; i < GIC_IRQS; i += 32)
        mmio_write(VE_GICD + GICD_ICENABLER + i / 8, 0xffffffffu);
    mmio_write(VE_GICC + GICC_PMR, 0xf0); /* accept every priority we use */
    mmio_write(VE_GICC + GICC_CTLR, 1);
    mmio_write(VE_GICD + GICD_CTLR, 1);
}

void gic_attach(uint32_t irq, ve_irq_fn fn, void *ctx)
{
    volatile uint8_t *prio = (volatile uint8_t *)(uintptr_t)(VE_GICD + GICD_IPRIORITYR);
    volatile uint8_t *target = (volatile uint8_t *)(uintptr_t)(VE_GICD + GICD_ITARGETSR);

    if (irq >= GIC_IRQS)
        return;
    slots[irq].fn = fn;
    slots[irq].ctx = ctx;
    prio[irq] = 0xa0;
    target[irq] = 0x01;
    mmio_write(VE_GICD + GICD_ISENABLER + (irq / 32) * 4, 1u << (irq % 32));
}

/* Called from irq_entry in IRQ mode: serve every pending interrupt, then return. */
void gic_dispatch(void);
void gic_dispatch(void)
{
    for (;;) {
        uint32_t iar = mmio_read(VE_GICC + GICC_IAR);
        uint32_t irq = iar & 0x3ffu;
        if (irq == GIC_SPURIOUS)
            return;
        if (irq < GIC_IRQS && slots[irq].fn)
            slots[irq].fn(slots[irq].ctx);
        else
            unexpected++;
        mmio_write(VE_GICC + GICC_EOIR, iar);
    }
}
