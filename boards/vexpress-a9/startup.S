/*
 * boards/vexpress-a9/startup.S — exception vectors, per-mode stacks, .bss, then C.
 *
 * QEMU's -kernel loads the ELF into RAM and enters _start in SVC mode with the MMU off.
 * The IRQ handler runs on its own stack and does not nest (IRQs stay masked in IRQ mode).
 */
    .syntax unified
    .arch armv7-a
    .arm

    .equ MODE_FIQ, 0x11
    .equ MODE_IRQ, 0x12
    .equ MODE_SVC, 0x13
    .equ MODE_ABT, 0x17
    .equ MODE_UND, 0x1b

    .equ FAULT_UNDEF, 1
    .equ FAULT_PABT, 3
    .equ FAULT_DABT, 4
    .equ FAULT_OTHER, 5

    .section .vectors, "ax"
    .align 5
    .global vectors
vectors:
    b reset_entry
    b undef_entry
    b other_entry       /* SVC: never used */
    b pabt_entry
    b dabt_entry
    b other_entry
    b irq_entry
    b other_entry       /* FIQ: not used */

    .text
    .global _start
    .type _start, %function
_start:
reset_entry:
    cpsid aif
    cps #MODE_IRQ
    ldr sp, =__irq_stack_top
    cps #MODE_ABT
    ldr sp, =__abt_stack_top
    cps #MODE_UND
    ldr sp, =__und_stack_top
    cps #MODE_FIQ
    ldr sp, =__abt_stack_top
    cps #MODE_SVC
    ldr sp, =__svc_stack_top

    ldr r0, =vectors
    mcr p15, 0, r0, c12, c0, 0      /* VBAR */

    ldr r0, =__bss_start
    ldr r1, =__bss_end
    mov r2, #0
1:  cmp r0, r1
    strlo r2, [r0], #4
    blo 1b

    bl board_start
2:  wfi
    b 2b

irq_entry:
    sub lr, lr, #4
    push {r0-r3, r12, lr}           /* 24 bytes keep the IRQ stack 8-byte aligned */
    bl gic_dispatch
    ldm sp!, {r0-r3, r12, pc}^      /* also restores CPSR from SPSR */

/* A data abort at probe_insn is expected: resume at probe_fail. Anything else is fatal. */
dabt_entry:
    sub lr, lr, #8
    push {r0}
    ldr r0, =probe_insn
    cmp lr, r0
    pop {r0}
    ldreq lr, =probe_fail
    subseq pc, lr, #0
    mov r0, #FAULT_DABT
    b fault_common

pabt_entry:
    sub lr, lr, #4
    mov r0, #FAULT_PABT
    b fault_common

undef_entry:
    mov r0, #FAULT_UNDEF
    b fault_common

other_entry:
    mov r0, #FAULT_OTHER
fault_common:
    mov r1, lr
    mrs r2, spsr
    bic sp, sp, #7
    bl board_fault
3:  b 3b

    .global probe_read32
    .type probe_read32, %function
probe_read32:
    mov r2, r0
probe_insn:
    ldr r3, [r2]
    str r3, [r1]
    mov r0, #0
    bx lr
probe_fail:
    mvn r0, #0
    bx lr
