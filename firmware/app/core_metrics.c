/*
 * firmware/app/core_metrics.c — who may read GET /metrics (docs/network.md "Metrics"): the one
 * decision, and the setting it reads (the NV store, per appliance, like the network's).
 *
 * open (the default): anyone, on plain port 80 only — a scraper on the management network needs no
 * certificate, and the counters never go out over the port that serves users. https FP: only over
 * HTTPS, only to a client whose certificate has that SHA-256 fingerprint. off: nobody.
 */
#include "core.h"

#if SIGNET_HAS_NET
#include <errno.h>
#include <string.h>

/* NV record NV_KEY_METRICS: version 1, mode, then (https) the 32-byte fingerprint. */
#define METRICS_VERSION 1

static struct {
    enum app_metrics_mode mode;
    uint8_t fp[32];
} m;

void app_metrics_load(struct app *app)
{
    uint8_t rec[2 + 32];
    size_t len = 0;

    if (app->nv_status || nvstore_read(&app->nv, NV_KEY_METRICS, rec, sizeof(rec), &len) != 0)
        return; /* never set: open */
    if (len < 2 || rec[0] != METRICS_VERSION || rec[1] > APP_METRICS_OFF ||
        len != (rec[1] == APP_METRICS_HTTPS ? 34u : 2u)) {
        m.mode = APP_METRICS_OFF; /* unreadable: nobody, rather than everybody */
        app_audit(app, "config metrics: the stored setting is unreadable; metrics are off");
        return;
    }
    m.mode = (enum app_metrics_mode)rec[1];
    if (m.mode == APP_METRICS_HTTPS)
        memcpy(m.fp, rec + 2, 32);
}

int app_metrics_set(struct app *app, enum app_metrics_mode mode, const uint8_t fp[32],
                    const char **why)
{
    uint8_t rec[2 + 32] = {METRICS_VERSION, (uint8_t)mode};
    size_t len = 2;

    if (mode == APP_METRICS_HTTPS) {
        memcpy(rec + 2, fp, 32);
        len = sizeof(rec);
    }
    *why = "could not store the setting (NV store unavailable)";
    if (app->nv_status || nvstore_write(&app->nv, NV_KEY_METRICS, rec, len) != 0)
        return -EIO;
    m.mode = mode;
    if (mode == APP_METRICS_HTTPS)
        memcpy(m.fp, fp, 32);
    return 0;
}

enum app_metrics_mode app_metrics_mode(uint8_t fp[32])
{
    if (fp)
        memcpy(fp, m.fp, 32);
    return m.mode;
}

bool app_metrics_may_read(bool secure, const uint8_t *client_fp, const char **why)
{
    switch (m.mode) {
    case APP_METRICS_OPEN:
        *why = "metrics are served on port 80 (config metrics)";
        return !secure;
    case APP_METRICS_HTTPS:
        *why = "metrics are served over HTTPS to one client certificate (config metrics)";
        return secure && client_fp && memcmp(client_fp, m.fp, 32) == 0;
    case APP_METRICS_OFF:
        break;
    }
    *why = "metrics are off (config metrics)";
    return false;
}
#endif
