/* boards/vexpress-a9 — limits that differ on the appliance. */
#ifndef SIGNET_CONFIG_H
#define SIGNET_CONFIG_H

/* UART rings (power of two): console paste bursts; HSM link responses up to a few KiB per burst. */
#define VE_UART_CONSOLE_RX 2048
#define VE_UART_CONSOLE_TX 4096
#define VE_UART_HSM_RX     16384
#define VE_UART_HSM_TX     16384

/* NV store: the first two 256 KiB sectors of NOR flash 0 (QEMU: -drive if=pflash,index=0). */
#define VE_NV_BLOCKS 2u
/* The sealed secret (hal/secret.h): the next sector, never touched by the NV store. */
#define VE_SECRET_BLOCK 2u
/* The audit ring (hal/nv.h HAL_NV_AUDIT): the 8 sectors after it (2 MiB). */
#define VE_AUDIT_FIRST  3u
#define VE_AUDIT_BLOCKS 8u

/* System tick: 1 ms gives the kernel's timers millisecond resolution. */
#define VE_TICK_HZ 1000u

/* lwIP pool alignment: 32-bit pointers. */
#define NET_MEM_ALIGNMENT 4

/* hal/context.h: r4-r11, sp and lr (boards/vexpress-a9/context.S); soft float, no VFP bank. */
#define HAL_CONTEXT_SIZE      (10 * 4)
#define HAL_CONTEXT_STACK_MIN 1024u

#include "firmware/signet_defaults.h"

#endif
