/*
 * net/resolve — host names to IPv4 addresses, for every URL the appliance is given
 * (docs/network.md "Names").
 *
 * lwIP's resolver asks; this module owns which servers it asks, bounds the time, and says why a
 * lookup failed in one line. The servers are the ones DHCP gives (option 6), or up to
 * RESOLVE_SERVERS set by the operator (`net set dns`), which then win over DHCP's. A lookup ends
 * within RESOLVE_TIMEOUT_MS. Runs in the net task, like the rest of net/.
 *
 * An answer is only a claim: an address a liar gives sends the request to the liar, who learns
 * no secret from it and can give nothing the appliance trusts (every document that comes back is
 * signed and chain-verified; http_client's caller proves its identity with its own key).
 */
#ifndef RESOLVE_H
#define RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/hostname.h"

#define RESOLVE_SERVERS    2
#define RESOLVE_NAME_MAX   HOSTNAME_MAX
#define RESOLVE_MAX        4 /* lookups at once */
#define RESOLVE_TIMEOUT_MS 10000u
#define RESOLVE_DNS_PORT   53

struct resolve_server {
    uint32_t addr; /* host byte order */
    uint16_t port; /* RESOLVE_DNS_PORT unless the operator gave another */
};

/* addr (host byte order) when why is NULL; else why says in one line what went wrong. */
typedef void (*resolve_done_fn)(void *ctx, uint32_t addr, const char *why);

/* A host name lib/hostname accepts: 0, or -EINVAL. */
int resolve_name_check(const char *name, size_t len);

/* The operator's servers (n 1..RESOLVE_SERVERS), or n 0: DHCP's again. */
void resolve_set_servers(const struct resolve_server *s, unsigned n);
/* The servers asked now, and whether they came from DHCP; the count (0: none known). */
unsigned resolve_servers(struct resolve_server out[RESOLVE_SERVERS], bool *from_dhcp);

/*
 * Look name up. 1 with *addr set when the answer is at hand (a cached name), 0 when done() will
 * be called exactly once later from the net task (never from within resolve_start), or a
 * negative errno with *why set: -EINVAL (not a host name), -EHOSTUNREACH (no server known, or
 * the lookup could not start), -EBUSY (RESOLVE_MAX lookups in flight).
 */
int resolve_start(const char *name, uint32_t *addr, resolve_done_fn done, void *ctx,
                  const char **why);
/* The lookup with this done and ctx is no longer wanted: done() is not called for it. */
void resolve_cancel(resolve_done_fn done, const void *ctx);

/* Time-outs; call every tick. */
void resolve_tick(uint32_t now_ms);

#endif
