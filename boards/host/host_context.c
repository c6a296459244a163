/*
 * boards/host/host_context.c — hal/context.h on the host: a new stack's first frame, and each
 * switch announced to ASan (host_switch.S does the switch itself).
 *
 * Under ASan (the SANITIZE=1 build and the unit tests) every switch is announced with
 * __sanitizer_start_switch_fiber / __sanitizer_finish_switch_fiber, so that ASan knows which
 * stack is live: otherwise it takes the other stack for a stack overflow or garbage. The stack a
 * context runs on is learned the first time something switches away from it (the scheduler's own
 * stack is never handed to us).
 */
#include "hal/context.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define HOST_CONTEXT_ASAN 1
#include <sanitizer/common_interface_defs.h>
#else
#define HOST_CONTEXT_ASAN 0
#endif

struct host_context {
    void *sp; /* host_switch.S's saved stack pointer */
    const void *stack_bottom;
    size_t stack_size;
    void (*entry)(void *);
    void *arg;
};

_Static_assert(sizeof(struct host_context) <= HAL_CONTEXT_SIZE, "HAL_CONTEXT_SIZE too small");

/* host_switch.S */
void host_switch(void **save_sp, void *load_sp);
void host_context_start(void);
void host_context_entry(struct host_context *c);

/* The layout host_switch pops: r15, r14, r13, r12, rbx, rbp, then its return address. */
enum {
    FRAME_R15,
    FRAME_R14,
    FRAME_R13,
    FRAME_R12,
    FRAME_RBX,
    FRAME_RBP,
    FRAME_RET,
    FRAME_PAD,
    FRAME_WORDS
};

static struct host_context *as_host(struct hal_context *c)
{
    return (struct host_context *)(void *)c->opaque;
}

/* The context being left by the switch in progress: told where its stack is on arrival. */
static struct host_context *leaving;

static void arrived(void *fake_stack)
{
#if HOST_CONTEXT_ASAN
    const void *bottom = NULL;
    size_t size = 0;

    __sanitizer_finish_switch_fiber(fake_stack, &bottom, &size);
    if (leaving && !leaving->stack_bottom) {
        leaving->stack_bottom = bottom;
        leaving->stack_size = size;
    }
#else
    (void)fake_stack;
#endif
}

void host_context_entry(struct host_context *c)
{
    arrived(NULL);
    c->entry(c->arg);
    abort(); /* hal/context.h: entry never returns */
}

void hal_context_make(struct hal_context *c, void *stack, size_t size, void (*entry)(void *),
                      void *arg)
{
    struct host_context *h = as_host(c);
    /* SysV ABI §3.2.2: rsp + 8 is 16-byte aligned on entry to a function, as after a call. */
    uintptr_t top = ((uintptr_t)stack + size) & ~(uintptr_t)15;
    uintptr_t *frame = (uintptr_t *)(top - FRAME_WORDS * sizeof(uintptr_t));

    memset(frame, 0, FRAME_WORDS * sizeof(uintptr_t));
    frame[FRAME_R12] = (uintptr_t)h;
    frame[FRAME_RET] = (uintptr_t)host_context_start;
    h->sp = frame;
    h->stack_bottom = stack;
    h->stack_size = size;
    h->entry = entry;
    h->arg = arg;
}

void hal_context_switch(struct hal_context *from, struct hal_context *to)
{
    struct host_context *f = as_host(from), *t = as_host(to);
    void *fake_stack = NULL;

    leaving = f;
#if HOST_CONTEXT_ASAN
    __sanitizer_start_switch_fiber(&fake_stack, t->stack_bottom, t->stack_size);
#endif
    host_switch(&f->sp, t->sp);
    arrived(fake_stack);
}
