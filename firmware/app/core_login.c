/*
 * firmware/app/core_login.c — the login lifecycle: the operator's login and logout, what every
 * login brings up (the state from the token, HTTPS), and the boot login with the sealed PIN
 * (auto-login, hal/secret.h). The console only collects the PIN; what the operator is told goes
 * through app_notice.
 */
#include "core.h"

#include <errno.h>
#include <string.h>

#include "hal/secret.h"

_Static_assert(TOKEN_PIN_MAX <= HAL_SECRET_MAX, "the held PIN must fit the sealed secret");

void app_wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;
    while (n--)
        *v++ = 0;
}

bool app_same_secret(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    uint8_t diff = a_len != b_len;
    size_t n = a_len < b_len ? a_len : b_len;

    for (size_t i = 0; i < n; i++)
        diff |= a[i] ^ b[i];
    return diff == 0;
}

/* Is a sealed PIN kept? Anything but "none" counts: an unreadable one is still there. */
static bool sealed_pin_kept(void)
{
    uint8_t pin[HAL_SECRET_MAX];
    size_t len = 0;
    int ret = hal_secret_load(pin, sizeof(pin), &len);

    app_wipe(pin, sizeof(pin));
    return ret != -ENOENT && ret != -ENODEV;
}

/* What every login brings up, the operator's or the boot's: state from the token, HTTPS. */
static void after_login(struct app *app)
{
    const char *lwhy;
    if (app_load_state(app, &lwhy) != 0)
        app_notice(app, APP_NOTE_INFO, "warning: enrollment state not read: %s", lwhy);
    app_check_expiry(app);
#if SIGNET_HAS_NET
    /* The HTTPS identity needs the token's key: the first login makes it, later ones find it. */
    const char *why;
    if (app_tls_setup(app, &why) != 0) {
        app_notice(app, APP_NOTE_INFO, "warning: HTTPS not available: %s", why);
    } else if (app->tls_created) {
        char fp[APP_FP_TEXT_LEN + 1];
        app_format_fingerprint(app->tls_fp, fp);
        app->tls_created = false;
        app_notice(app, APP_NOTE_INFO,
                   "HTTPS: new TLS key and self-signed certificate in the token\n"
                   "TLS fingerprint (SHA-256): %s",
                   fp);
    }
#endif
}

/* An operator's login ends a boot login still waiting for the token. With auto-login on, say so
 * when the PIN typed is not the sealed one: the next boot would try the sealed one. */
static void note_sealed_pin(struct app *app)
{
    uint8_t sealed[HAL_SECRET_MAX];
    size_t len = 0;

    app->auto_login_pending = false;
    if (!app->auto_login)
        return;
    if (hal_secret_load(sealed, sizeof(sealed), &len) != 0 ||
        !app_same_secret(sealed, len, app->token.pin, app->token.pin_len))
        app_notice(app, APP_NOTE_INFO,
                   "note: auto-login is on but the sealed PIN is not this one; "
                   "'config auto-login on' seals this one");
    app_wipe(sealed, sizeof(sealed));
}

CK_RV app_login(struct app *app, const uint8_t *pin, size_t len)
{
    CK_RV rv = token_login(&app->token, pin, len);

    if (rv != CKR_OK) {
        app_notice(app, APP_NOTE_ERROR, "%s (0x%lx)", token_rv_name(rv), (unsigned long)rv);
        app_audit(app, "login refused: %s", token_rv_name(rv));
        return rv;
    }
    app_notice(app, APP_NOTE_INFO, "logged in");
    app_audit(app, "login");
    note_sealed_pin(app);
    after_login(app);
    return CKR_OK;
}

void app_logout(struct app *app)
{
    (void)token_logout(&app->token);
    app_unload_state(app);
    app_audit(app, "logout");
}

/* The token cannot be reached (not there yet, link down): nothing was tried against the PIN. */
static bool unreachable(CK_RV rv)
{
    return rv == CKR_DEVICE_ERROR || rv == CKR_DEVICE_REMOVED || rv == CKR_TOKEN_NOT_PRESENT ||
           rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED;
}

void app_auto_login_start(struct app *app, uint16_t sig)
{
    k_timer_init(&app->sched, &app->auto_login_timer, &app->house_task, sig);
    app->auto_login = sealed_pin_kept();
    app->auto_login_pending = app->auto_login;
    app->auto_login_wait_ms = APP_RELINK_MS;
    if (app->auto_login) {
        app_notice(app, APP_NOTE_INFO, "auto-login: on; logging in with the sealed PIN");
        k_timer_start(&app->auto_login_timer, 1, 0);
    }
}

/*
 * One try of the PIN per boot: a refused PIN is not tried again (each try spends one of the
 * token's retry counter), and the sealed copy is left as it is for the operator to judge. Only
 * an unreachable token is tried again, with the relink back-off.
 */
void app_auto_login_try(struct app *app)
{
    uint8_t pin[HAL_SECRET_MAX];
    size_t len = 0;
    CK_RV rv = CKR_OK;

    if (!app->auto_login_pending || app->token.logged_in)
        goto out;
    int ret = hal_secret_load(pin, sizeof(pin), &len);
    if (ret) {
        app->auto_login_pending = false;
        app_notice(app, APP_NOTE_UNASKED_BEGIN, "%s", "");
        app_notice(app, APP_NOTE_ERROR,
                   "auto-login: the sealed PIN is unreadable (%d); log in by hand", ret);
        app_audit(app, "boot auto-login: failed: sealed PIN unreadable (%d)", ret);
        goto prompt;
    }
    rv = token_login(&app->token, pin, len);
    if (unreachable(rv)) {
        k_timer_start(&app->auto_login_timer, app->auto_login_wait_ms, 0);
        app->auto_login_wait_ms = app->auto_login_wait_ms < APP_RELINK_MAX_MS / 2
                                      ? 2 * app->auto_login_wait_ms
                                      : APP_RELINK_MAX_MS;
        goto out;
    }
    app->auto_login_pending = false;
    app_notice(app, APP_NOTE_UNASKED_BEGIN, "%s", "");
    if (rv != CKR_OK) {
        app_notice(app, APP_NOTE_ERROR,
                   "auto-login: the token refused the sealed PIN: %s (0x%lx); log in by hand "
                   "(the sealed PIN is kept until 'config auto-login off' or 'on')",
                   token_rv_name(rv), (unsigned long)rv);
        app_audit(app, "boot auto-login: refused: %s", token_rv_name(rv));
        goto prompt;
    }
    app_notice(app, APP_NOTE_INFO, "auto-login: logged in with the sealed PIN");
    app_audit(app, "boot auto-login: logged in");
    after_login(app);
prompt:
    app_notice(app, APP_NOTE_UNASKED_END, "%s", "");
out:
    app_wipe(pin, sizeof(pin));
}

int app_auto_login_set(struct app *app, bool on)
{
    int ret = on ? hal_secret_store(app->token.pin, app->token.pin_len) : hal_secret_wipe();

    app->auto_login = sealed_pin_kept();
    return ret;
}

int app_auto_login_reseal(struct app *app)
{
    int ret = hal_secret_store(app->token.pin, app->token.pin_len);

    if (ret == 0)
        return 0;
    /* A stale sealed PIN would be refused at the next boot: rather none than that one. */
    (void)hal_secret_wipe();
    app->auto_login = sealed_pin_kept();
    return ret;
}
