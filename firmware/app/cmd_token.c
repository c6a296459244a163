/*
 * Console commands for the token: token info, login, logout, token pin change, config
 * auto-login, key generate, key sign. The login itself, and the boot's auto-login, are the
 * core's (core_login.c): login only collects the PIN.
 */
#include "cmd.h"

#include <errno.h>
#include <string.h>

#include "hal/board.h"
#include "hal/clock.h"
#include "hal/wdt.h"

#include "crypto/p11/p11_client.h"
#include "lib/base64.h"
#include "firmware/token/token_selftest.h"

static struct app *app_of(struct console *con)
{
    return con->user;
}

/* PKCS#11 text fields are fixed-width and space padded. */
static void print_field(struct console *con, const char *label, const CK_UTF8CHAR *s, size_t n)
{
    while (n && s[n - 1] == ' ')
        n--;
    console_printf(con, "%s%.*s\n", label, (int)n, (const char *)s);
}

static void print_memory(struct console *con, const char *label, CK_ULONG free_mem, CK_ULONG total)
{
    if (free_mem == CK_UNAVAILABLE_INFORMATION || total == CK_UNAVAILABLE_INFORMATION)
        console_printf(con, "%snot reported by the token\n", label);
    else
        console_printf(con, "%s%lu of %lu bytes free\n", label, (unsigned long)free_mem,
                       (unsigned long)total);
}

static const char *mech_name(CK_MECHANISM_TYPE m)
{
    switch (m) {
    case CKM_RSA_PKCS_KEY_PAIR_GEN:
        return "rsa-keygen";
    case CKM_SHA256_RSA_PKCS:
        return "sha256-rsa-pkcs";
    case CKM_RSA_PKCS_PSS:
        return "rsa-pss";
    case CKM_RSA_PKCS_OAEP:
        return "rsa-oaep";
    case CKM_EC_KEY_PAIR_GEN:
        return "ec-keygen";
    case CKM_ECDSA:
        return "ecdsa";
    case CKM_ECDSA_SHA256:
        return "ecdsa-sha256";
    case CKM_AES_KEY_GEN:
        return "aes-keygen";
    case CKM_AES_KEY_WRAP_PAD:
        return "aes-key-wrap-pad";
    case CKM_AES_GCM:
        return "aes-gcm";
    default:
        return "?";
    }
}

static int token_error(struct console *con, CK_RV rv)
{
    console_error(con, "%s (0x%lx)", token_rv_name(rv), (unsigned long)rv);
    return -1;
}

static int cmd_token_info(struct console *con, int argc, char **argv)
{
    struct app *app = app_of(con);
    CK_TOKEN_INFO ti;
    CK_MECHANISM_TYPE mechs[16];
    CK_ULONG n = 16;
    CK_RV rv;

    (void)argc;
    (void)argv;
    rv = token_get_info(&app->token, &ti);
    if (rv != CKR_OK)
        return token_error(con, rv);
    print_field(con, "label:        ", ti.label, sizeof(ti.label));
    print_field(con, "manufacturer: ", ti.manufacturerID, sizeof(ti.manufacturerID));
    print_field(con, "model:        ", ti.model, sizeof(ti.model));
    print_field(con, "serial:       ", ti.serialNumber, sizeof(ti.serialNumber));
    print_memory(con, "public mem:   ", ti.ulFreePublicMemory, ti.ulTotalPublicMemory);
    print_memory(con, "private mem:  ", ti.ulFreePrivateMemory, ti.ulTotalPrivateMemory);
    console_printf(con, "user PIN:     %s%s%s\n",
                   (ti.flags & CKF_USER_PIN_LOCKED) ? "LOCKED" : "ok",
                   (ti.flags & CKF_USER_PIN_COUNT_LOW) ? ", failed attempts recorded" : "",
                   (ti.flags & CKF_USER_PIN_FINAL_TRY) ? ", one try left" : "");
    rv = token_mechanisms(&app->token, mechs, &n);
    if (rv != CKR_OK)
        return token_error(con, rv);
    console_puts(con, "mechanisms:  ");
    for (CK_ULONG i = 0; i < n; i++)
        console_printf(con, " %s", mech_name(mechs[i]));
    console_puts(con, "\n");
    bool found = false;
    enum token_key_alg alg;
    if (app->token.logged_in &&
        token_find_key(&app->token, &app->token.slc, &found, &alg) == CKR_OK)
        console_printf(con, "SLC key:      %s\n",
                       found ? (alg == TOKEN_RSA2048 ? "rsa2048" : "p256") : "none");
    else
        console_puts(con, "SLC key:      (login to see)\n");
    if (app->token.logged_in &&
        token_find_key(&app->token, &app->token.ckek, &found, &alg) == CKR_OK)
        console_printf(con, "CKEK:         %s\n", found ? "rsa2048, unwrap only" : "none");
    return 0;
}

static void on_pin(struct console *con, const char *line, size_t len, void *ctx)
{
    (void)ctx;
    if (!line) {
        console_puts(con, "login cancelled\n");
        return;
    }
    (void)app_login(app_of(con), (const uint8_t *)line, len);
}

static int cmd_login(struct console *con, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return console_read_line(con, "PIN: ", CONSOLE_SECRET, on_pin, NULL);
}

static int cmd_logout(struct console *con, int argc, char **argv)
{
    struct app *app = app_of(con);

    (void)argc;
    (void)argv;
    app_logout(app);
    console_puts(con, "logged out\n");
    if (app->auto_login)
        console_puts(con, "auto-login stays on: the next boot logs in with the sealed PIN\n");
    return 0;
}

static int cmd_config_auto_login(struct console *con, int argc, char **argv)
{
    struct app *app = app_of(con);
    bool on = strcmp(argv[0], "on") == 0;
    int ret = -EINVAL;

    (void)argc;
    if (!on && strcmp(argv[0], "off") != 0) {
        console_error(con, "unknown setting '%s' (on or off)", argv[0]);
        goto out;
    }
    ret = app_auto_login_set(app, on);
    if (ret) {
        console_error(con, "auto-login: %s failed (%d); auto-login is %s",
                      on ? "sealing the PIN" : "wiping the sealed PIN", ret,
                      app->auto_login ? "on" : "off");
        app_audit(app, "config auto-login %s: failed (%d)", argv[0], ret);
        goto out;
    }
    app_audit(app, "config auto-login %s", argv[0]);
    if (on)
        console_puts(con, "auto-login on: the user PIN is sealed on this appliance (in clear: "
                          "whoever reads its flash has it); every boot logs in with it\n");
    else
        console_puts(con, "auto-login off: the sealed PIN is wiped; boots wait for 'login'\n");
out:
    return ret ? -1 : 0;
}

/* ---- token pin change: current PIN, new PIN, new PIN again; never echoed ---- */

static void pin_entry_clear(struct app *app)
{
    app_wipe(app->pin_entry, sizeof(app->pin_entry));
    app->pin_entry_len[0] = app->pin_entry_len[1] = 0;
}

/* A typed PIN into slot; false (and said so) when it cannot be one. */
static bool take_pin(struct app *app, struct console *con, int slot, const char *line, size_t len)
{
    if (!line) {
        console_puts(con, "PIN change cancelled; nothing changed\n");
        return false;
    }
    if (len == 0 || len > sizeof(app->pin_entry[slot])) {
        console_error(con, "a PIN is 1..%u characters; nothing changed",
                      (unsigned)sizeof(app->pin_entry[slot]));
        app_audit(app, "token pin change: refused: PIN length out of range");
        return false;
    }
    memcpy(app->pin_entry[slot], line, len);
    app->pin_entry_len[slot] = len;
    return true;
}

static void reseal(struct app *app, struct console *con)
{
    int ret = app_auto_login_reseal(app);

    if (ret == 0) {
        console_puts(con, "auto-login: the sealed PIN is the new one\n");
        return;
    }
    console_printf(con,
                   "warning: auto-login: the new PIN could not be sealed (%d); auto-login is %s\n",
                   ret, app->auto_login ? "on (with the old PIN)" : "off");
    app_audit(app, "token pin change: new PIN not sealed (%d); auto-login %s", ret,
              app->auto_login ? "on" : "off");
}

static void on_new_pin_again(struct console *con, const char *line, size_t len, void *ctx)
{
    struct app *app = app_of(con);

    (void)ctx;
    if (!line) {
        console_puts(con, "PIN change cancelled; nothing changed\n");
        goto out;
    }
    if (!app_same_secret((const uint8_t *)line, len, app->pin_entry[1], app->pin_entry_len[1])) {
        console_error(con, "the new PINs differ; nothing changed");
        app_audit(app, "token pin change: refused: the new PINs differ");
        goto out;
    }
    CK_RV rv = token_set_pin(&app->token, app->pin_entry[0], app->pin_entry_len[0],
                             app->pin_entry[1], app->pin_entry_len[1]);
    if (rv != CKR_OK) {
        console_error(con, "%s (0x%lx); nothing changed", token_rv_name(rv), (unsigned long)rv);
        app_audit(app, "token pin change: refused: %s", token_rv_name(rv));
        goto out;
    }
    console_puts(con, "user PIN changed in the token\n");
    app_audit(app, "token pin change: changed");
    if (app->auto_login)
        reseal(app, con);
out:
    pin_entry_clear(app);
}

static void on_new_pin(struct console *con, const char *line, size_t len, void *ctx)
{
    struct app *app = app_of(con);

    (void)ctx;
    if (!take_pin(app, con, 1, line, len) ||
        console_read_line(con, "new PIN again: ", CONSOLE_SECRET, on_new_pin_again, NULL) != 0)
        pin_entry_clear(app);
}

static void on_current_pin(struct console *con, const char *line, size_t len, void *ctx)
{
    struct app *app = app_of(con);

    (void)ctx;
    if (!take_pin(app, con, 0, line, len) ||
        console_read_line(con, "new PIN: ", CONSOLE_SECRET, on_new_pin, NULL) != 0)
        pin_entry_clear(app);
}

static int cmd_token_pin_change(struct console *con, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return console_read_line(con, "current PIN: ", CONSOLE_SECRET, on_current_pin, NULL);
}

static void generate(struct console *con, enum token_key_alg alg, bool replace)
{
    struct app *app = app_of(con);
    CK_RV rv;

    console_printf(con, "generating %s SLC key pair in the token...\n",
                   alg == TOKEN_RSA2048 ? "rsa2048" : "p256");
    rv = token_generate_key(&app->token, &app->token.slc, alg, replace);
    if (rv != CKR_OK) {
        (void)token_error(con, rv);
        app_audit(app, "key generate: failed: %s", token_rv_name(rv));
        return;
    }
    app_audit(app, "key generate: %s SLC key pair%s", alg == TOKEN_RSA2048 ? "rsa2048" : "p256",
              replace ? " (replaced the old one)" : "");
    const char *lwhy;
    /* The state follows the new key; a request out for the old one no longer counts. */
    if (app_load_state(app, &lwhy) != 0 || (replace && enroll_key_replaced(&app->enroll, &lwhy)))
        console_printf(con, "warning: enrollment state not updated: %s\n", lwhy);
    console_printf(con, "SLC key pair created: id '%s', sensitive, not extractable, sign only\n",
                   TOKEN_SLC_ID);
}

static void on_confirm(struct console *con, const char *line, size_t len, void *ctx)
{
    struct app *app = app_of(con);

    (void)ctx;
    if (!line || len != 7 || memcmp(line, "replace", 7) != 0) {
        console_puts(con, "kept the existing SLC key\n");
        return;
    }
    generate(con, app->pending_alg, true);
}

static int cmd_key_generate(struct console *con, int argc, char **argv)
{
    struct app *app = app_of(con);
    enum token_key_alg alg = TOKEN_RSA2048;
    bool found = false;
    CK_RV rv;

    if (argc == 1 && strcmp(argv[0], "p256") == 0)
        alg = TOKEN_P256;
    else if (argc == 1 && strcmp(argv[0], "rsa2048") != 0) {
        console_error(con, "unknown key type '%s' (rsa2048 or p256)", argv[0]);
        return -1;
    }
    rv = token_find_key(&app->token, &app->token.slc, &found, NULL);
    /* Damaged remains (duplicates, half a pair) are what replacing is for. */
    if (rv != CKR_OK && rv != TOKEN_RV_PAIR_DAMAGED)
        return token_error(con, rv);
    if (rv == CKR_OK && !found) {
        generate(con, alg, false);
        return 0;
    }
    app->pending_alg = alg;
    if (rv == TOKEN_RV_PAIR_DAMAGED)
        console_puts(con, "The SLC key in the token is damaged (duplicates or half a pair).\n");
    else
        console_puts(con, "An SLC key already exists. Replacing it makes the current SLC "
                          "useless.\n");
    return console_read_line(con, "Type 'replace' to replace it: ", 0, on_confirm, NULL);
}

static int cmd_key_sign(struct console *con, int argc, char **argv)
{
    struct app *app = app_of(con);
    uint8_t sig[512];
    size_t sig_len = sizeof(sig);
    char b64[BASE64_ENCODED_LEN(512) + 1];
    CK_RV rv;

    (void)argc;
    rv = token_sign(&app->token, &app->token.slc, (const uint8_t *)argv[0], strlen(argv[0]), sig,
                    &sig_len);
    if (rv != CKR_OK)
        return token_error(con, rv);
    (void)base64_encode(sig, sig_len, b64, sizeof(b64));
    console_puts(con, "signature: ");
    console_puts(con, b64); /* longer than one printf buffer */
    console_puts(con, "\n");
    return 0;
}

/* Sign N times back to back: what the link and token cost per signature, as the services see it.
 * "tls": the TLS key's raw ECDSA over a digest, exactly what a TLS handshake asks of the token. */
static int cmd_key_bench(struct console *con, int argc, char **argv)
{
    struct app *app = app_of(con);
    static const uint8_t digest[32] = "signet bench: one SHA-256 size.";
    uint8_t sig[512];
    unsigned long n = 0;
    char *end = argv[0];
    bool tls = argc == 2 && strcmp(argv[1], "tls") == 0;

    while (*end >= '0' && *end <= '9' && n <= 1000000)
        n = n * 10 + (unsigned long)(*end++ - '0');
    if (*end || n == 0 || n > 1000000) {
        console_error(con, "bad count '%s' (1..1000000)", argv[0]);
        return -1;
    }
    if (argc == 2 && !tls && strcmp(argv[1], "slc") != 0) {
        console_error(con, "unknown key '%s' (slc or tls)", argv[1]);
        return -1;
    }
    uint64_t t0 = hal_clock_ms();
    for (unsigned long i = 0; i < n; i++) {
        size_t sig_len = sizeof(sig);
        CK_RV rv = tls ? token_sign_digest(&app->token, &app->token.tls, digest, sizeof(digest),
                                           sig, &sig_len)
                       : token_sign(&app->token, &app->token.slc, (const uint8_t *)"signet bench",
                                    12, sig, &sig_len);
        if (rv != CKR_OK)
            return token_error(con, rv);
    }
    uint64_t ms = hal_clock_ms() - t0;
    console_printf(con, "%lu signatures in %lu ms: %lu/s\n", n, (unsigned long)ms,
                   (unsigned long)(ms ? n * 1000u / ms : 0));
    return 0;
}

static void report_step(void *ctx, const char *step, CK_RV rv)
{
    struct console *con = ctx;
    if (rv == CKR_OK)
        console_printf(con, "  ok    %s\n", step);
    else
        console_printf(con, "  FAIL  %s: %s (0x%lx)\n", step, token_rv_name(rv), (unsigned long)rv);
}

static int cmd_token_selftest(struct console *con, int argc, char **argv)
{
    struct app *app = app_of(con);

    (void)argc;
    (void)argv;
    int failed = token_selftest(&app->token, report_step, con);
    if (failed) {
        console_error(con, "token selftest: %d step(s) failed", failed);
        return -1;
    }
    console_puts(con, "token selftest passed\n");
    return 0;
}

#if SIGNET_TEST_HOOKS
static struct {
    struct console *con;
    uint32_t ms;
} test_pause;

/* The token's step hook: say which step, then hold there so a test can cut the power. */
static void pause_at_step(void *ctx, const char *step)
{
    (void)ctx;
    console_printf(test_pause.con, "test: %s\n", step);
    uint64_t until = hal_clock_ms() + test_pause.ms;
    while (hal_clock_ms() < until) {
        /* In the token task's fiber the rest of the appliance goes on meanwhile. */
        if (k_fiber_wait(until) != -EPERM)
            continue;
        hal_wdt_kick();
        hal_board_idle(10);
    }
}

/* Test builds only: pause at every step of a crash-safe replacement and say which, so a test
 * can cut the power at each one. */
static int cmd_test_pause(struct console *con, int argc, char **argv)
{
    struct app *app = app_of(con);
    unsigned long ms = 0;
    char *end = argv[0];

    (void)argc;
    while (*end >= '0' && *end <= '9' && ms <= 60000)
        ms = ms * 10 + (unsigned long)(*end++ - '0');
    if (*end || ms > 60000) {
        console_error(con, "pause is 0..60000 ms");
        return -1;
    }
    test_pause.con = con;
    test_pause.ms = (uint32_t)ms;
    app->token.test_step = ms ? pause_at_step : NULL;
    app->token.test_ctx = NULL;
    console_printf(con, "test: pausing %lu ms at each replacement step\n", ms);
    return 0;
}

/* ---- content keys (test builds): what the publishing and licensing services will call ---- */

static uint8_t test_spki[1024];                 /* a pasted user public key, DER */
static uint8_t test_wrapped[TOKEN_WRAPPED_MAX]; /* a pasted content key wrapped to the CKEK */
static size_t test_wrapped_len;

static void wrap_error(struct console *con, CK_RV rv)
{
    if (rv == CKR_KEY_HANDLE_INVALID)
        console_error(con, "no CKEK in the token (test ckek-generate)");
    else
        (void)token_error(con, rv);
}

static void print_b64(struct console *con, const char *label, const uint8_t *data, size_t len)
{
    char b64[BASE64_ENCODED_LEN(sizeof(test_spki)) + 1];

    (void)base64_encode(data, len, b64, sizeof(b64));
    console_printf(con, "%s: ", label);
    console_puts(con, b64); /* longer than one printf buffer */
    console_puts(con, "\n");
}

/* The pasted PEM public key as DER in test_spki; false (and said why) when it is none. */
static bool pasted_spki(struct console *con, const char *text, size_t len, size_t *spki_len)
{
    const char *why;

    if (doc_unarmor(text, len, "PUBLIC KEY", test_spki, sizeof(test_spki), spki_len, &why) != 0) {
        console_error(con, "%s", why);
        return false;
    }
    return true;
}

static int cmd_test_ckek_generate(struct console *con, int argc, char **argv)
{
    struct app *app = app_of(con);

    (void)argc;
    (void)argv;
    CK_RV rv = token_generate_unwrap_key(&app->token, &app->token.ckek, true);
    if (rv != CKR_OK)
        return token_error(con, rv);
    console_printf(con, "CKEK created: id '%s', rsa2048, sensitive, not extractable, unwrap only\n",
                   TOKEN_CKEK_ID);
    size_t len = 0;
    rv = token_public_spki(&app->token, &app->token.ckek, test_spki, sizeof(test_spki), &len);
    if (rv != CKR_OK)
        return token_error(con, rv);
    print_b64(con, "CKEK public key", test_spki, len);
    return 0;
}

static void content_new_pasted(struct app *app, struct console *con, const char *text, size_t len)
{
    uint8_t to_ckek[TOKEN_WRAPPED_MAX], to_user[TOKEN_WRAPPED_MAX];
    size_t spki_len = 0, ckek_len = sizeof(to_ckek), user_len = sizeof(to_user);

    if (!pasted_spki(con, text, len, &spki_len))
        return;
    CK_RV rv = token_content_key_new(&app->token, &app->token.ckek, test_spki, spki_len, to_ckek,
                                     &ckek_len, to_user, &user_len);
    if (rv != CKR_OK) {
        wrap_error(con, rv);
        return;
    }
    print_b64(con, "for-ckek", to_ckek, ckek_len);
    print_b64(con, "for-user", to_user, user_len);
}

static int cmd_test_content_new(struct console *con, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cmd_paste(con, "test content-new", "user's public key", "PUBLIC KEY",
                     content_new_pasted);
}

static void rewrap_key_pasted(struct app *app, struct console *con, const char *text, size_t len)
{
    uint8_t out[TOKEN_WRAPPED_MAX];
    size_t spki_len = 0, out_len = sizeof(out);

    if (!pasted_spki(con, text, len, &spki_len))
        return;
    CK_RV rv = token_content_key_rewrap(&app->token, &app->token.ckek, test_wrapped,
                                        test_wrapped_len, test_spki, spki_len, out, &out_len);
    if (rv != CKR_OK) {
        wrap_error(con, rv);
        return;
    }
    print_b64(con, "rewrapped", out, out_len);
}

static void rewrap_blob_pasted(struct app *app, struct console *con, const char *text, size_t len)
{
    const char *why;

    (void)app;
    if (doc_unarmor(text, len, "SIGNET WRAPPED KEY", test_wrapped, sizeof(test_wrapped),
                    &test_wrapped_len, &why) != 0) {
        console_error(con, "%s", why);
        return;
    }
    (void)cmd_paste(con, "test content-rewrap", "user's public key", "PUBLIC KEY",
                    rewrap_key_pasted);
}

/* The wrapped key (344 base64 characters for RSA-2048) does not fit a console line
 * (CONSOLE_LINE_MAX): it comes as an armored paste, then the user's key as a second one. */
static int cmd_test_content_rewrap(struct console *con, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cmd_paste(con, "test content-rewrap", "content key wrapped to the CKEK",
                     "SIGNET WRAPPED KEY", rewrap_blob_pasted);
}

static int cmd_test_session_objects(struct console *con, int argc, char **argv)
{
    struct app *app = app_of(con);
    unsigned secret = 0, pub = 0, cached = 0;

    (void)argc;
    (void)argv;
    CK_RV rv = token_test_session_objects(&app->token, &secret, &pub, &cached);
    if (rv != CKR_OK)
        return token_error(con, rv);
    console_printf(con, "session objects: %u secret keys, %u public keys (%u cached user keys)\n",
                   secret, pub, cached);
    return 0;
}
#endif

const struct console_cmd app_token_cmds[] = {
#if SIGNET_TEST_HOOKS
    {"test pause-steps", "MS", "(test build) pause at each crash-safe replacement step",
     cmd_test_pause, 1, 1, 0},
    {"test ckek-generate", "", "(test build) create or replace the CKEK in the token",
     cmd_test_ckek_generate, 0, 0, CONSOLE_NEEDS_LOGIN},
    {"test content-new", "", "(test build) paste a public key: new content key, wrapped twice",
     cmd_test_content_new, 0, 0, CONSOLE_NEEDS_LOGIN},
    {"test content-rewrap", "",
     "(test build) paste a CKEK-wrapped content key, then a public key: rewrap it",
     cmd_test_content_rewrap, 0, 0, CONSOLE_NEEDS_LOGIN},
    {"test session-objects", "", "(test build) count the session objects the appliance holds",
     cmd_test_session_objects, 0, 0, CONSOLE_NEEDS_LOGIN},
#endif
    {"token selftest", "", "run every PKCS#11 call the appliance uses (session objects only)",
     cmd_token_selftest, 0, 0, CONSOLE_NEEDS_LOGIN},
    {"token info", "", "the token: identity, memory, PIN state, mechanisms", cmd_token_info, 0, 0,
     0},
    {"login", "", "log in with the token's user PIN (not echoed)", cmd_login, 0, 0, 0},
    {"logout", "", "log out and forget the PIN", cmd_logout, 0, 0, 0},
    {"token pin change", "", "change the token's user PIN (asks for both, never echoed)",
     cmd_token_pin_change, 0, 0, CONSOLE_NEEDS_LOGIN},
    {"config auto-login", "on|off", "keep the PIN sealed here and log in at every boot, or wipe it",
     cmd_config_auto_login, 1, 1, CONSOLE_NEEDS_LOGIN},
    {"key generate", "[rsa2048|p256]", "create the SLC key pair inside the token", cmd_key_generate,
     0, 1, CONSOLE_NEEDS_LOGIN},
    {"key bench", "N [slc|tls]", "sign N times with a token key, report signatures per second",
     cmd_key_bench, 1, 2, CONSOLE_NEEDS_LOGIN},
    {"key sign", "TEXT", "sign TEXT with the SLC key (SHA-256), print base64", cmd_key_sign, 1, 1,
     CONSOLE_NEEDS_LOGIN},
};
const unsigned app_token_cmd_count = sizeof(app_token_cmds) / sizeof(app_token_cmds[0]);
