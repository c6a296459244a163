/*
 * tools/signet-authority/serve — online enrollment and renewal (docs/requirements.md R3, R11) over
 * plain HTTP/1.1 on one IPv4 address: POST /v1/enroll (request XML in, response XML out), GET
 * /v1/crl (the authority's CRL, DER, application/pkix-crl) and GET /health. The CRL is signed
 * afresh when the issuance log in the token changed since the last one (a `revoke` run beside
 * the server counts at the next request) or half its lifetime has passed; otherwise the one
 * signed last is answered. Single-threaded, one request per connection (Connection: close); a whole
 * request must arrive within SERVE_REQUEST_TIMEOUT_MS, so a slow client delays the others by at
 * most that. One line per request on stderr. Returns 0 when SIGTERM or SIGINT stopped it (a request
 * in progress is finished first), or a negative errno if it could not listen.
 */
#ifndef AUTHORITY_SERVE_H
#define AUTHORITY_SERVE_H

#include <stdint.h>

#include "authority.h"

#define SERVE_REQUEST_TIMEOUT_MS 10000 /* head and body: a few KiB on any network */
#define SERVE_SEND_TIMEOUT_MS    10000 /* a client that does not read its answer */
#define SERVE_LINGER_MS          1000  /* a refused client still sending gets to read the refusal */

/* addr and port in host byte order; port 0 picks a free one (the log line names it). */
int serve_run(struct authority *a, uint32_t addr, uint16_t port, unsigned days, unsigned crl_hours);

#endif
