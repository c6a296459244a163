/*
 * boards/vexpress-a9/context.c — hal_context_make: lay out a new context for context.S.
 */
#include "hal/context.h"

#include <stdint.h>
#include <string.h>

/* The layout context.S stores and loads. */
enum { CTX_R4, CTX_R5, CTX_SP = 8, CTX_LR, CTX_WORDS };
_Static_assert(CTX_WORDS * sizeof(uint32_t) <= HAL_CONTEXT_SIZE, "HAL_CONTEXT_SIZE too small");

void hal_context_start(void); /* context.S */

void hal_context_make(struct hal_context *c, void *stack, size_t size, void (*entry)(void *),
                      void *arg)
{
    uint32_t regs[CTX_WORDS] = {0};

    regs[CTX_R4] = (uint32_t)(uintptr_t)entry;
    regs[CTX_R5] = (uint32_t)(uintptr_t)arg;
    /* AAPCS: sp 8-byte aligned at a public interface; the stack grows down from its top. */
    regs[CTX_SP] = (uint32_t)(((uintptr_t)stack + size) & ~(uintptr_t)7);
    /* A Thumb function's address carries bit 0: bx lr enters hal_context_start in Thumb state. */
    regs[CTX_LR] = (uint32_t)(uintptr_t)hal_context_start;
    memcpy(c->opaque, regs, sizeof(regs));
}
