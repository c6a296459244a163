/*
 * boards/host/host_switch.S — the stack switch under hal/context.h on x86-64 (System V ABI).
 *
 * A context is its stack pointer; what a callee must preserve (rbx, rbp, r12-r15: SysV ABI
 * §3.2.1) is pushed on its own stack before the switch. Not glibc's swapcontext: ASan intercepts
 * that and warns on its first use even when every switch is announced to it (host_context.c), and
 * it makes a system call per switch to save the signal mask, which nothing here changes. Neither
 * is the x87/SSE control word saved: no code in the firmware changes it.
 */
    .text

/* void host_switch(void **save_sp, void *load_sp) */
    .globl host_switch
    .type host_switch, @function
host_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size host_switch, . - host_switch

/* First entry of a new context (host_context.c lays it out): r12 holds the context. */
    .globl host_context_start
    .type host_context_start, @function
host_context_start:
    movq %r12, %rdi
    andq $-16, %rsp /* SysV ABI §3.2.2: 16-byte aligned at the call (SSE spills rely on it) */
    call host_context_entry
    ud2 /* hal/context.h: entry never returns */
    .size host_context_start, . - host_context_start

    .section .note.GNU-stack, "", @progbits
