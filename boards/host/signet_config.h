/* boards/host — limits that differ on the Linux-hosted board. */
#ifndef SIGNET_CONFIG_H
#define SIGNET_CONFIG_H

/* UART rings: the console sees pasted text; the HSM link carries whole RPC messages. */
#define HOST_UART_CONSOLE_RX 4096
#define HOST_UART_HSM_RX     65536

/* NV file: two 64 KiB "erase blocks" emulated with NOR rules, 4-byte writes like the pflash. */
#define HOST_NV_BLOCK_SIZE  (64u * 1024u)
#define HOST_NV_BLOCKS      2u
#define HOST_NV_WRITE_ALIGN 4u
/* The audit ring's region follows in the same file: 24 blocks of 64 KiB (1.5 MiB). */
#define HOST_AUDIT_BLOCKS 24u

/* lwIP pool alignment: pointers are 8 bytes here. */
#define NET_MEM_ALIGNMENT 8

/* hal/context.h: a saved stack pointer, the stack bounds ASan is told, the entry and its argument.
 */
#define HAL_CONTEXT_SIZE      64
#define HAL_CONTEXT_STACK_MIN (16u * 1024u)
/* The token task's stack: room for ASan's larger frames (the SANITIZE=1 build). */
#define APP_TOKEN_STACK (256u * 1024u)
/* The same for the HTTPS handshake fibers (firmware/app/tls_fibers.c). */
#define APP_TLS_STACK (256u * 1024u)

#include "firmware/signet_defaults.h"

#endif
