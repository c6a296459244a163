/*
 * net/lwipopts.h — lwIP configuration for Signet. Sizes come from the board's signet_config.h
 * (NET_*); everything here is the same on both boards. Each setting says why.
 */
#ifndef SIGNET_LWIPOPTS_H
#define SIGNET_LWIPOPTS_H

#include "signet_config.h"

/* The firmware kernel drives lwIP from one task: no OS, no threads, no locking. */
#define NO_SYS               1
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_SOCKET          0
#define LWIP_NETCONN         0
#define LWIP_NETIF_API       0

/* IPv4 with DHCP (QEMU's user network answers it) or a static address. */
#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_DHCP 1
/* slirp's network is ours alone: skip the 2 s address-conflict probe. */
#define LWIP_DHCP_DOES_ACD_CHECK      0
#define LWIP_ACD                      0
#define LWIP_AUTOIP                   0
#define LWIP_DNS                      0 /* the appliance serves; it resolves nothing */
#define LWIP_IGMP                     0
#define LWIP_ICMP                     1
#define LWIP_RAW                      0
#define LWIP_UDP                      1 /* DHCP */
#define LWIP_TCP                      1
#define LWIP_ALTCP                    1 /* TLS slides under the HTTP server through altcp */
#define LWIP_ALTCP_TLS                0
#define LWIP_NETIF_STATUS_CALLBACK    1
#define LWIP_NETIF_LINK_CALLBACK      1
#define LWIP_NETIF_HOSTNAME           0
#define LWIP_STATS                    0
#define LWIP_SINGLE_NETIF             1
#define ETHARP_SUPPORT_STATIC_ENTRIES 0
#define ARP_QUEUEING                  1

/* Memory: static pools only, sized per board. */
#define MEM_ALIGNMENT           NET_MEM_ALIGNMENT /* the platform pointer size: pools hold pointers */
#define MEM_SIZE                NET_HEAP_SIZE
#define MEMP_NUM_PBUF           32
#define PBUF_POOL_SIZE          NET_PBUF_POOL
#define MEMP_NUM_TCP_PCB        NET_TCP_CONNECTIONS
#define MEMP_NUM_TCP_PCB_LISTEN 4
/* Segments queued or unacknowledged, shared by every connection: four full send queues, and one
 * each (a FIN, a flight's tail) for every connection closing at once. */
#define MEMP_NUM_TCP_SEG (4 * TCP_SND_QUEUELEN + NET_TCP_CONNECTIONS)
#define MEMP_NUM_UDP_PCB 4

/* TCP: a full-size segment and a window of four of them. */
#define TCP_MSS            1460
#define TCP_WND            (4 * TCP_MSS)
#define TCP_SND_BUF        (4 * TCP_MSS)
#define TCP_SND_QUEUELEN   (4 * TCP_SND_BUF / TCP_MSS)
#define LWIP_TCP_KEEPALIVE 1

#define LWIP_CHKSUM_ALGORITHM 3

#endif
