/* net/net_port.h — the lwIP port's own hooks (see net/port/arch/cc.h). */
#ifndef NET_PORT_H
#define NET_PORT_H

#include <stddef.h>
#include <stdint.h>

/* Mix entropy (from the token's RNG) into the generator behind LWIP_RAND. */
void net_port_seed(const uint8_t *seed, size_t len);

#endif
