/*
 * firmware/app — the appliance: boot sequence, tasks and the state command handlers share.
 *
 * One instance exists (struct app in main.c); command handlers reach it through console.user.
 */
#ifndef APP_H
#define APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/acl/acl.h"
#include "firmware/app/tls_fibers.h"
#include "firmware/app/token_task.h"
#include "firmware/audit/audit.h"
#include "firmware/console/console.h"
#include "firmware/enroll/enroll.h"
#include "firmware/identity/identity.h"
#include "firmware/issue/issue.h"
#include "firmware/kernel/kernel.h"
#include "firmware/revoke/revoke.h"
#include "firmware/store/nvstore.h"
#include "firmware/token/token.h"
#include "hal/board.h"
#include "mbedtls/pk.h"

/* NV record keys; never reuse a retired number. */
enum app_nv_key {
    NV_KEY_BOOT_COUNT = 1,
    NV_KEY_NET_CONFIG = 2,
    NV_KEY_NET_DNS = 3,
    NV_KEY_NTP = 4,
    NV_KEY_METRICS = 5,
    NV_KEY_AUDIT_STATE = 6,    /* the audit ring's id and exported seq */
    NV_KEY_AUDIT_FORWARD = 7,  /* the syslog collector and what it acknowledged */
    NV_KEY_AUDIT_BASE = 0x100, /* ..0x100 + AUDIT_OLD_SLOTS - 1: the old log, moved at boot */
};

/* What the core tells the operator, and where it goes (core.h: app_notice). */
enum app_note {
    APP_NOTE_INFO,  /* a line of information */
    APP_NOTE_ERROR, /* a line saying what failed */
    /* Output nobody typed a command for (the boot login): it starts on a fresh line, and the
     * operator gets the prompt back after it. No text. */
    APP_NOTE_UNASKED_BEGIN,
    APP_NOTE_UNASKED_END,
};
/* Where notices go (the console adapter, cmd_common.c); text is one or more lines, without the
 * last newline. */
typedef void (*app_notice_fn)(void *ctx, enum app_note kind, const char *text);

/* The net task's signals; the core posts APP_SIG_NET_POLL (app_kick_net_poll), the handshake
 * fibers APP_SIG_TLS_WAKE (a handshake that waited off the net task can go on: tls_wake). */
enum app_net_sig { APP_SIG_NET_RX = 1, APP_SIG_NET_TICK, APP_SIG_NET_POLL, APP_SIG_TLS_WAKE };

struct app;
/* A pasted armored block, whole (text up to and including its END line). */
typedef void (*app_paste_fn)(struct app *app, struct console *con, const char *text, size_t len);
struct app_paste {
    char buf[APP_PASTE_MAX];
    size_t len;
    bool ended; /* its END line came: waiting for the burst to end before done */
    app_paste_fn done;
    const char *cmd;   /* the command that asked, for the audit log */
    const char *label; /* the armor label asked for; only its END line ends the paste */
    const char *alt;   /* a second label also taken (NULL: none) */
};

/* Requests (issuance and refusals) are audited one by one up to APP_AUDIT_REQUESTS_PER_MIN a
 * minute; past that they are counted by kind and outcome, and one entry a minute says how many
 * (core_audit.c), so a flood cannot fill the ring. */
#define APP_AUDIT_REQUESTS_PER_MIN 60
#define APP_AUDIT_TALLIES          10
struct app_audit_tally {
    const char *what; /* "certify", "publish", ... (static strings) */
    int status;       /* 0: issued, else the HTTP status of the refusal */
    uint32_t n;
};
struct app_audit_budget {
    int64_t minute;   /* Unix seconds / 60 of the minute being counted */
    uint32_t written; /* entries written one by one in it */
    struct app_audit_tally tally[APP_AUDIT_TALLIES];
    uint32_t other; /* counted beyond the tallies' room */
};

struct app {
    struct k_sched sched;
    struct k_task console_task;
    struct k_event console_queue[APP_CONSOLE_QUEUE];
    struct k_timer console_timer; /* console_tick: ends bursts, times out pastes */
    uint64_t console_rx_ms;       /* when the bytes being fed were read from the UART */
    bool console_rx_more;         /* the last read filled the chunk: more bytes are waiting */
    uint64_t console_seen_ms;     /* when the console task last looked at its UART */
    struct k_task house_task;
    struct k_event house_queue[APP_HOUSE_QUEUE];
    struct k_timer wdt_timer;
    /* The house task's token work, each a job on the token task (one of each at a time). */
    struct token_job refresh_job;
    struct token_job auto_login_job;
    struct token_job revoke_job;
    struct token_task token_task; /* owns the link; token_task.h */
    struct k_task net_task;
    struct k_event net_queue[APP_NET_QUEUE];
    struct k_timer net_timer;
    volatile bool net_rx_kicked;       /* SIG_NET_RX is queued */
    volatile bool net_poll_kicked;     /* APP_SIG_NET_POLL is queued (app_kick_net_poll) */
    void (*net_poll)(struct app *app); /* app_set_net_poll */
    int net_status;                    /* result of bringing the network up; 0 when running */
    int http_status;                   /* result of starting the HTTP service; 0 when listening */
    struct console con;
    struct nvstore nv;
    int nv_status; /* result of mounting the store; 0 when usable */
    uint32_t boot_count;
    enum hal_reset_reason reset_reason;
    uint64_t boot_ms;
    struct token token;
    enum token_key_alg pending_alg; /* key generate waiting for the operator's confirmation */
    /* HTTPS identity (tls_setup.c): the token's TLS key as mbedTLS sees it, and its certificate's
     * SHA-256 fingerprint. */
    mbedtls_pk_context tls_pk;
    uint8_t tls_fp[32];
    bool tls_created; /* the last setup made a new key or certificate */
    uint32_t tls_token_signs;
#if SIGNET_HAS_NET
    struct tls_fiber tls_fibers[APP_TLS_FIBERS]; /* where handshake steps run (tls_fibers.h) */
#endif
    struct enroll enroll;
    struct acl acl;              /* who may sub-enroll (docs/requirements.md R9) */
    struct identity identity;    /* who users are (docs/requirements.md R16-R18) */
    struct issue issue;          /* what this server signs on request */
    struct revoke revoke;        /* what this cluster took back, the CRLs from above (R19-R21) */
    struct k_timer revoke_timer; /* revoke_tick: signs the CRL when due */
    struct audit audit;
    struct app_audit_budget audit_budget; /* requests audited one by one this minute */
    struct token_job audit_seal_job;      /* core_audit.c: the chain head sealed in the token */
    bool audit_anchor_checked;            /* the ring compared with the token's anchor this boot */
    bool audit_key_failed;                /* said once: no audit key could be had */
    struct app_paste paste;
    bool online_renewal; /* the request in flight renews */
    struct k_timer expiry_timer;
    int32_t expiry_warned_day; /* the day (since 1970) the last "SLC expires soon" entry was made */
    /* Auto-login (core_login.c): a sealed PIN is kept (hal/secret.h); the boot login is still to
     * be tried, next after auto_login_wait_ms while the token cannot be reached. */
    bool auto_login;
    bool auto_login_pending;
    uint32_t auto_login_wait_ms;
    struct k_timer auto_login_timer;
    /* token pin change: the current and the new PIN while the operator types them; wiped after */
    uint8_t pin_entry[2][TOKEN_PIN_MAX];
    size_t pin_entry_len[2];
    /* The appliance's own token jobs (token_work.c). */
    struct token_job console_job; /* the console's command, PIN or paste out with the token */
    uint16_t console_done_sig;
    struct token_job reload_job; /* status: the state read again */
    bool reload_failed;
    const char *reload_why;
    struct token_job probe_job; /* /health: a link that is down tried again */
    uint64_t probe_at;
    uint32_t probe_wait_ms;
    /* Where the core's notices go (app_set_notice: the console). */
    app_notice_fn notice_fn;
    void *notice_ctx;
};

/* The app a member (a token job embedded in it) belongs to. */
#define APP_OF(ptr, member) ((struct app *)(void *)((char *)(ptr)-offsetof(struct app, member)))

/* Boots the appliance and runs its scheduler; returns only if the scheduler is stopped. */
void app_main(struct app *app);

/* The HTTP endpoint modules (adapters over the core), each adding its routes; main.c starts the
 * listeners after them. 0 or a negative errno.
 * firmware/app/service.c: GET /health, /v1/status, /v1/whoami. */
int service_start(struct app *app);
/* firmware/app/service_sign.c: the signing endpoints (subenroll, certify, publish, license). */
int service_sign_start(struct app *app);

/* firmware/app/service_crl.c: GET /v1/crl on 443 and 80, the body revoke's CRL buffer. */
int service_crl_start(struct app *app);
/* GET /metrics (service_metrics.c). */
int service_metrics_start(struct app *app);
/* firmware/app/cmd_crl.c: `crl fetch`. */
extern const struct console_cmd app_crl_fetch_cmds[];
extern const unsigned app_crl_fetch_cmd_count;

/* firmware/app/tls_setup.c: find or make the TLS key and certificate in the token and start
 * serving HTTPS with them (needs a login). 0, or a negative errno with *why set. */
int app_tls_setup(struct app *app, const char **why);

void app_hsm_link_setup(void); /* hsm_link.c: p11_client over the HSM UART; before token_init */

extern const struct console_cmd app_enroll_cmds[];
extern const unsigned app_enroll_cmd_count;
extern const struct console_cmd app_system_cmds[];
extern const unsigned app_system_cmd_count;
extern const struct console_cmd app_sign_cmds[];
extern const unsigned app_sign_cmd_count;
extern const struct console_cmd app_token_cmds[];
extern const unsigned app_token_cmd_count;
extern const struct console_cmd app_identity_cmds[];
extern const unsigned app_identity_cmd_count;
extern const struct console_cmd app_audit_cmds[];
extern const unsigned app_audit_cmd_count;
extern const struct console_cmd app_revoke_cmds[];
extern const unsigned app_revoke_cmd_count;
#if SIGNET_HAS_NET && SIGNET_TEST_HOOKS
/* firmware/app/test_forward.c (test builds): POST /v1/test/forward and its console commands. */
int app_test_forward_start(struct app *app);
extern const struct console_cmd app_test_cmds[];
extern const unsigned app_test_cmd_count;
#endif
extern const struct console_cmd app_net_cmds[];
extern const unsigned app_net_cmd_count;

/* Boards without an Ethernet driver yet build without the network (see BOARD_FEATURES). */
#ifndef SIGNET_HAS_NET
#define SIGNET_HAS_NET 0
#endif

#endif
