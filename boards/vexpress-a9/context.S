/*
 * boards/vexpress-a9/context.S — hal/context.h's switch for the Cortex-A9 (AAPCS, Thumb-2).
 *
 * A context is what a callee must preserve across a call (AAPCS §5.1.1): r4-r11, sp and the
 * return address (lr); r0-r3, r12 and the flags are the caller's to lose. The image is built
 * -mfloat-abi=soft, so no VFP register (s16-s31) carries anything across a call and none is saved:
 * a hard-float build would have to save them too, and is refused below rather than corrupted.
 * Everything is Thumb: the saved lr keeps its Thumb bit and bx returns through it (interworking
 * safe). Stacks are 8-byte aligned at every public interface (AAPCS §5.2.1.2); hal_context_make
 * aligns a new stack's top.
 */
#if defined(__ARM_PCS_VFP) || defined(__ARM_FP)
#error "context.S saves no VFP registers: the vexpress-a9 image must be built -mfloat-abi=soft"
#endif

    .syntax unified
    .arch armv7-a
    .thumb
    .text

/* void hal_context_switch(struct hal_context *from, struct hal_context *to) */
    .global hal_context_switch
    .type hal_context_switch, %function
    .thumb_func
hal_context_switch:
    stmia r0!, {r4-r11}
    mov r2, sp
    stmia r0, {r2, lr}
    ldmia r1!, {r4-r11}
    ldmia r1, {r2, lr}
    mov sp, r2
    bx lr
    .size hal_context_switch, . - hal_context_switch

/* First entry of a new context (hal_context_make): r4 the entry, r5 its argument. */
    .global hal_context_start
    .type hal_context_start, %function
    .thumb_func
hal_context_start:
    mov r0, r5
    blx r4
    udf #0 /* hal/context.h: entry never returns; if it does, fault rather than run on */
    .size hal_context_start, . - hal_context_start
