/*
 * net/relp — a RELP client: rsyslog's Reliable Event Logging Protocol over TCP, one session
 * (docs/audit.md "Forwarding"). Plain syslog over TCP has no acknowledgement: what the
 * collector's kernel took may still be lost when the collector stops. RELP answers every
 * message ("TXNR rsp 6 200 OK"), so the sender knows what the collector has and resumes after
 * it. The protocol:
 *
 *   frame    TXNR SP COMMAND SP DATALEN [SP DATA] LF      TXNR 1..999999999, DATALEN of DATA
 *   open     "relp_version=0\nrelp_software=signet\ncommands=syslog", answered "rsp" 200
 *   syslog   one message (RFC 5424 text), answered "rsp" 200 when the collector has it
 *   close    answered "rsp", then the server's "serverclose"
 *
 * Everything the collector sends is hostile: frames are bounded (RELP_IN_MAX), numbers too, and
 * anything else closes the session with a one-line reason. Runs in the net task.
 */
#ifndef RELP_H
#define RELP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/hostname.h"

#define RELP_WINDOW  16   /* messages sent and not answered yet, at most */
#define RELP_MSG_MAX 1024 /* one message's text */
#define RELP_IN_MAX  512  /* one frame from the collector */
#define RELP_OPEN_MS 10000u
#define RELP_ACK_MS  30000u /* a message unanswered this long: the session is dead */

struct relp_events {
    void (*opened)(void *ctx);
    void (*acked)(void *ctx, uint32_t txnr); /* 200 for the message sent with this txnr */
    void (*closed)(void *ctx, const char *why);
};

/* Connect to host:port (a name is resolved first) and open a session. 0: events follow from
 * the net task (closed() once, whatever happens); a negative errno with *why: nothing started. */
int relp_connect(const char *host, uint16_t port, const struct relp_events *ev, void *ctx,
                 const char **why);
/* Send one message once opened: 0 with *txnr; -EAGAIN when the window or TCP has no room
 * now; -ENOTCONN. */
int relp_send(const char *msg, size_t len, uint32_t *txnr);
/* End the session now (no events; a reset, from an event callback too). */
void relp_abort(void);
bool relp_busy(void);
/* Time-outs; call every tick. */
void relp_tick(uint32_t now_ms);
/* Test builds: how long an answer may take (0: RELP_ACK_MS). */
void relp_test_ack_timeout(uint32_t ms);

#endif
