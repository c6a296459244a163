/*
 * hal/context.h — execution contexts: a second stack to run on and a way to switch to it.
 *
 * Contract: hal_context_make prepares c to run entry(arg) on the caller-supplied stack (size
 * bytes, at least HAL_CONTEXT_STACK_MIN; the board aligns it). hal_context_switch saves where the
 * caller is into from and continues wherever to was saved (or at its entry, the first time); it
 * returns when something switches back to from. entry must never return: it switches away
 * instead. Task context only, never from an interrupt handler; nothing allocates. The storage
 * size is the board's (HAL_CONTEXT_SIZE in its signet_config.h).
 */
#ifndef HAL_CONTEXT_H
#define HAL_CONTEXT_H

#include <stddef.h>

#include "signet_config.h"

struct hal_context {
    _Alignas(16) unsigned char opaque[HAL_CONTEXT_SIZE];
};

void hal_context_make(struct hal_context *c, void *stack, size_t size, void (*entry)(void *),
                      void *arg);
void hal_context_switch(struct hal_context *from, struct hal_context *to);

#endif
