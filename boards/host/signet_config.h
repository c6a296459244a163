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

/* lwIP pool alignment: pointers are 8 bytes here. */
#define NET_MEM_ALIGNMENT 8

#include "firmware/signet_defaults.h"

#endif
