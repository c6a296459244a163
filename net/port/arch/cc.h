/*
 * net/port/arch/cc.h — lwIP's compiler/platform seam for Signet (both boards).
 *
 * Diagnostics go nowhere (LWIP_DEBUG is off); a failed lwIP assertion is a firmware bug, so it
 * reports on the console and resets the board like any other fault. Random numbers (TCP initial
 * sequence numbers, DHCP transaction ids, ephemeral ports) come from net_port_rand(), which the
 * firmware seeds from the token's RNG once the token is reachable.
 */
#ifndef SIGNET_LWIP_CC_H
#define SIGNET_LWIP_CC_H

#include <stdint.h>

#define LWIP_PLATFORM_DIAG(x)                                                                      \
    do {                                                                                           \
    } while (0)

void net_port_assert(const char *msg, const char *file, int line);
#define LWIP_PLATFORM_ASSERT(x) net_port_assert((x), __FILE__, __LINE__)

uint32_t net_port_rand(void);
#define LWIP_RAND() net_port_rand()

#endif
