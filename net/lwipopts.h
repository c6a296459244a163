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
#define LWIP_IGMP                     0
#define LWIP_ICMP                     1
#define LWIP_RAW                      0
#define LWIP_UDP                      1 /* DHCP, DNS */
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

/* DNS: lwIP's resolver behind net/resolve (which owns the servers, the port and the reasons).
 * Two servers, from DHCP option 6 or `net set dns`. Each is asked 3 times (1, 1 and 2 s apart)
 * before the next: a dead resolver costs 4 s, both 8 s, well inside net/resolve's own deadline.
 * Answers are kept at most 5 minutes whatever their TTL says, so a changed record (a cluster
 * moved) is seen soon and a liar's long TTL does not pin an address. Query ids and source ports
 * are random (LWIP_RAND, seeded from the token's RNG), one query per name at a time. */
#define LWIP_DNS                  1
#define DNS_MAX_SERVERS           2
#define DNS_MAX_RETRIES           3
#define DNS_MAX_TTL               300
#define DNS_TABLE_SIZE            8
#define DNS_MAX_REQUESTS          4
#define DNS_MAX_SOURCE_PORTS      4 /* one UDP socket per query in flight */
#define DNS_MAX_NAME_LENGTH       256
#define LWIP_DHCP_MAX_DNS_SERVERS DNS_MAX_SERVERS
/* The server's port is net/resolve's: 53 unless the operator named another (a test's dnsmasq on
 * a loopback port). lwIP sends each query from dns_send(), where `entry` is the query's table
 * entry; a later lwIP that renames it fails to compile here rather than send to a wrong port. */
#define DNS_SERVER_PORT resolve_server_port(entry->server_idx)
#include <stdint.h>
uint16_t resolve_server_port(uint8_t idx);
/* Every IPv4 packet passes here first: net/resolve notes which DNS server has answered, so that
 * a failed lookup can say "no such name" apart from "no answer". It never takes the packet. */
struct pbuf;
struct netif;
int resolve_peek_input(struct pbuf *p, struct netif *inp);
#define LWIP_HOOK_IP4_INPUT(p, inp) resolve_peek_input((p), (inp))

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
#define MEMP_NUM_UDP_PCB 10 /* DHCP, DNS_MAX_SOURCE_PORTS queries, SNTP_SERVERS, spare */

/* TCP: a full-size segment and a window of four of them. */
#define TCP_MSS            1460
#define TCP_WND            (4 * TCP_MSS)
#define TCP_SND_BUF        (4 * TCP_MSS)
#define TCP_SND_QUEUELEN   (4 * TCP_SND_BUF / TCP_MSS)
#define LWIP_TCP_KEEPALIVE 1

#define LWIP_CHKSUM_ALGORITHM 3

#endif
