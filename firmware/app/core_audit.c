/*
 * firmware/app/core_audit.c — what the core adds to the audit ring (firmware/audit): the seals,
 * made by the audit key in the token; the anchor, the newest seal kept in the token too; the
 * budget that audits requests one by one up to a rate and counts the rest; and the check behind
 * `audit verify` (docs/audit.md).
 *
 * The seal job runs on the token task: the audit key (P-256, sign-only, never extractable) is
 * looked up, or made the first time; the ring gets its id from the token's RNG at its first
 * seal. Once per boot the ring is compared with the anchor (the newest seal record, as the token
 * saw it written): a ring that ends before it, or holds another entry under that number, lost
 * entries while the appliance was off (an NV file cut short, rewritten or swapped), and a LOSS
 * entry says so, where `audit verify` will find it. The anchor lives in the token, which the NV
 * file's owner cannot rewrite, and is named by the ring id, as cluster members share the token.
 */
#include "core.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hal/clock.h"
#include "lib/civil_time.h"
#include "lib/hex.h"

#define ANCHOR_PREFIX "signet-audit-anchor-"
#define ANCHOR_NAME   (sizeof(ANCHOR_PREFIX) + 2 * AUDIT_RING_ID_LEN)
#define ANCHOR_LEN    (1 + 4 + AUDIT_HASH_LEN + 8)

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int64_t wall_now(void)
{
    int64_t now = 0;
    (void)hal_clock_wall_get(&now);
    return now;
}

static void anchor_name(const uint8_t id[AUDIT_RING_ID_LEN], char out[ANCHOR_NAME])
{
    memcpy(out, ANCHOR_PREFIX, sizeof(ANCHOR_PREFIX) - 1);
    hex_encode(id, AUDIT_RING_ID_LEN, out + sizeof(ANCHOR_PREFIX) - 1);
}

/* The anchor: version 1 | u32 seq | hash | i64 when (the seal's), little-endian. */
static CK_RV anchor_read(struct app *app, const uint8_t id[AUDIT_RING_ID_LEN],
                         struct app_audit_anchor *an)
{
    char name[ANCHOR_NAME];
    uint8_t v[ANCHOR_LEN + 1];
    size_t len = 0;

    anchor_name(id, name);
    memset(an, 0, sizeof(*an));
    CK_RV rv = token_data_read(&app->token, name, v, sizeof(v), &len);
    if (rv != CKR_OK || len == 0)
        return rv;
    an->present = true;
    if (len != ANCHOR_LEN || v[0] != 1) {
        an->damaged = true;
        return CKR_OK;
    }
    an->seq = le32(v + 1);
    memcpy(an->hash, v + 5, AUDIT_HASH_LEN);
    uint64_t w = 0;
    for (int i = 7; i >= 0; i--)
        w = w << 8 | v[5 + AUDIT_HASH_LEN + i];
    an->when = (int64_t)w;
    return CKR_OK;
}

static CK_RV anchor_write(struct app *app, const uint8_t id[AUDIT_RING_ID_LEN], uint32_t seq,
                          const uint8_t hash[AUDIT_HASH_LEN], int64_t when)
{
    char name[ANCHOR_NAME];
    uint8_t v[ANCHOR_LEN] = {1};

    anchor_name(id, name);
    for (int i = 0; i < 4; i++)
        v[1 + i] = (uint8_t)(seq >> (8 * i));
    memcpy(v + 5, hash, AUDIT_HASH_LEN);
    for (int i = 0; i < 8; i++)
        v[5 + AUDIT_HASH_LEN + i] = (uint8_t)((uint64_t)when >> (8 * i));
    return token_data_write(&app->token, name, v, sizeof(v));
}

/* The audit key, found or made; false (said once in the log) when there is none to be had. */
static bool audit_key_ready(struct app *app)
{
    struct token *t = &app->token;
    enum token_key_alg alg = TOKEN_P256;
    bool found = false;
    bool made = false;

    CK_RV rv = token_find_key(t, &t->audit, &found, &alg);
    if (rv == CKR_OK && !found) {
        rv = token_generate_key(t, &t->audit, TOKEN_P256, false);
        made = rv == CKR_OK;
    } else if (rv == CKR_OK && alg != TOKEN_P256) {
        rv = CKR_KEY_TYPE_INCONSISTENT;
    }
    if (rv != CKR_OK) {
        if (!app->audit_key_failed)
            app_audit(app, "audit: no audit key (%s): entries stay unsealed", token_rv_name(rv));
        app->audit_key_failed = true;
        return false;
    }
    app->audit_key_failed = false;
    if (made)
        app_audit(app, "audit: audit key generated in the token (P-256, sign-only)");
    return true;
}

static bool record_loss(struct app *app, int64_t now, const char *text)
{
    if (audit_log_loss(&app->audit, now, text) == 0)
        return true;
    app->audit_anchor_checked = false;
    return false;
}

struct find_hash {
    uint32_t seq;
    bool found;
    uint8_t hash[AUDIT_HASH_LEN];
};

static int find_hash(void *ctx, const struct audit_rec *r)
{
    struct find_hash *f = ctx;
    if (!r || r->seq != f->seq)
        return r ? 0 : 1;
    f->found = true;
    memcpy(f->hash, r->hash, AUDIT_HASH_LEN);
    return 1;
}

/* Once a boot, before any seal moves the anchor: did the ring, as the board found it, still
 * hold what the token saw sealed? true when it did not and a LOSS entry says so. A LOSS entry
 * that cannot be stored (a full ring) leaves the check to be made again, and no seal is made
 * meanwhile: the anchor keeps the evidence. */
static bool check_anchor(struct app *app, int64_t now)
{
    uint8_t id[AUDIT_RING_ID_LEN];
    struct app_audit_anchor an;
    char text[AUDIT_TEXT_MAX + 1];
    char iso[CIVIL_ISO8601_LEN + 1];

    if (audit_get_ring_id(&app->audit, id) != 0) {
        app->audit_anchor_checked = true; /* never sealed: nothing anchored */
        return false;
    }
    if (anchor_read(app, id, &an) != CKR_OK)
        return false; /* the token did not answer: the next seal job tries again */
    app->audit_anchor_checked = true;
    if (!an.present)
        return false;
    if (an.damaged)
        return record_loss(app, now, "the token's audit anchor is damaged");
    /* What mount found, not the head now: entries written since boot may reuse the numbers of
     * those that went missing. */
    uint32_t head_seq = app->audit.mounted_seq;
    civil_format_iso8601(an.when, iso);
    if (an.seq > head_seq) {
        snprintf(
            text, sizeof(text),
            "the ring ends at entry %lu, but the token's anchor names entry %lu (a seal of %s): "
            "entries %lu..%lu are missing",
            (unsigned long)head_seq, (unsigned long)an.seq, iso, (unsigned long)head_seq + 1,
            (unsigned long)an.seq);
        audit_log_loss(&app->audit, now, text);
        return true;
    }
    struct find_hash f = {.seq = an.seq};
    (void)audit_each(&app->audit, an.seq, find_hash, &f);
    if (!f.found || memcmp(f.hash, an.hash, AUDIT_HASH_LEN) == 0)
        return false;
    snprintf(text, sizeof(text),
             "entry %lu is not the seal the token's anchor names (written %s): the ring was "
             "rewritten",
             (unsigned long)an.seq, iso);
    return record_loss(app, now, text);
}

/* 0 once a seal of the head is in the ring (and the anchor written), or a negative errno. */
static int seal(struct app *app, int64_t now)
{
    struct token *t = &app->token;
    struct audit_seal s;
    uint8_t digest[AUDIT_HASH_LEN];
    size_t sig_len = sizeof(s.sig);

    if (!app->audit_anchor_checked)
        return -EAGAIN; /* a seal now would move the anchor before it was compared */
    if (audit_get_ring_id(&app->audit, s.ring_id) != 0) {
        if (token_random(t, s.ring_id, sizeof(s.ring_id)) != CKR_OK ||
            audit_set_ring_id(&app->audit, s.ring_id) != 0)
            return -EIO;
    }
    audit_head(&app->audit, &s.covered_seq, s.covered_hash);
    if (!s.covered_seq)
        return -ENOENT;
    audit_seal_digest(s.ring_id, s.covered_seq, s.covered_hash, digest);
    CK_RV rv = token_sign_digest(t, &t->audit, digest, sizeof(digest), s.sig, &sig_len);
    if (rv != CKR_OK || sig_len != sizeof(s.sig))
        return -EIO; /* due still: the next kick tries again */
    /* The ring went on while the token signed; a seal of an entry that left the window is not
     * worth writing (-ESTALE), the next one covers it. */
    int ret = audit_append_seal(&app->audit, now, &s);
    if (ret)
        return ret;
    /* The anchor names the seal's own record (the ring's head now: nothing ran in between), so
     * a ring cut short just before it is caught too. */
    uint32_t seq;
    uint8_t hash[AUDIT_HASH_LEN];
    audit_head(&app->audit, &seq, hash);
    (void)anchor_write(app, s.ring_id, seq, hash, now);
    return 0;
}

void app_audit_seal_job(struct token_job *job)
{
    struct app *app = APP_OF(job, audit_seal_job);
    int64_t now = wall_now();

    if (!app->token.logged_in || !audit_key_ready(app))
        return;
    /* A loss found is sealed at once: the anchor then names the ring as it is, and `audit
     * verify` stops at the LOSS entry, which says what went missing. */
    bool lost = !app->audit_anchor_checked && check_anchor(app, now);
    if (lost || audit_seal_due(&app->audit, now))
        (void)seal(app, now);
}

void app_audit_kick(struct app *app)
{
    if (app->token.logged_in &&
        (!app->audit_anchor_checked || audit_seal_due(&app->audit, wall_now())))
        (void)token_job_submit(app, &app->audit_seal_job); /* -EBUSY: one is on its way */
}

/* ---- the request budget ---- */

static void budget_summary(struct app *app, int64_t now)
{
    struct app_audit_budget *b = &app->audit_budget;
    char text[AUDIT_TEXT_MAX + 1];
    char iso[CIVIL_ISO8601_LEN + 1];
    uint32_t other = b->other;

    civil_format_iso8601(b->minute * 60, iso);
    size_t n = (size_t)snprintf(text, sizeof(text),
                                "requests counted, not listed, in the minute from %.16s:", iso);
    for (unsigned i = 0; i < APP_AUDIT_TALLIES && b->tally[i].n; i++) {
        const struct app_audit_tally *y = &b->tally[i];
        char part[80];
        int k = y->status
                    ? snprintf(part, sizeof(part), " %s refused (%d) %lu,", y->what, y->status,
                               (unsigned long)y->n)
                    : snprintf(part, sizeof(part), " %s issued %lu,", y->what, (unsigned long)y->n);
        /* What does not fit is still counted: in "other", which always has room. */
        if (k < 0 || n + (size_t)k + 24 > sizeof(text)) {
            other += y->n;
            continue;
        }
        memcpy(text + n, part, (size_t)k + 1);
        n += (size_t)k;
    }
    if (other)
        n += (size_t)snprintf(text + n, sizeof(text) - n, " other %lu,", (unsigned long)other);
    text[n - 1] = '\0'; /* the last comma */
    audit_log(&app->audit, now, "%s", text);
    memset(b->tally, 0, sizeof(b->tally));
    b->other = 0;
}

/* A new minute: what the last one counted is written. */
static void budget_roll(struct app *app, int64_t now)
{
    struct app_audit_budget *b = &app->audit_budget;
    int64_t minute = now / 60;

    if (minute == b->minute)
        return;
    if (b->tally[0].n || b->other)
        budget_summary(app, now);
    b->written = 0;
    b->minute = minute;
}

void app_audit_budget_tick(struct app *app)
{
    budget_roll(app, wall_now());
}

void app_audit_budget_flush(struct app *app)
{
    struct app_audit_budget *b = &app->audit_budget;
    if (b->tally[0].n || b->other)
        budget_summary(app, wall_now());
}

void app_audit_request(struct app *app, const char *what, int status, const char *fmt, ...)
{
    struct app_audit_budget *b = &app->audit_budget;
    int64_t now = wall_now();

    budget_roll(app, now);
    /* A sub-enrollment makes a server: never only counted. */
    if (b->written < APP_AUDIT_REQUESTS_PER_MIN || !strcmp(what, "subenroll")) {
        char line[AUDIT_TEXT_MAX + 1];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        b->written++;
        audit_log(&app->audit, now, "%s", line);
        app_audit_kick(app);
        return;
    }
    for (unsigned i = 0; i < APP_AUDIT_TALLIES; i++) {
        struct app_audit_tally *y = &b->tally[i];
        if (!y->n) {
            *y = (struct app_audit_tally){what, status, 1};
            return;
        }
        if (y->status == status && !strcmp(y->what, what)) {
            y->n++;
            return;
        }
    }
    b->other++;
}

/* ---- audit verify ---- */

struct verify {
    struct app_audit_report *rep;
    bool broken;
};

static int verify_record(void *ctx, const struct audit_rec *r)
{
    struct verify *v = ctx;
    struct app_audit_report *rep = v->rep;
    if (!r)
        return 0;
    if (audit_walk_next(&rep->walk, r) != 0) {
        v->broken = true;
    } else if (rep->anchor.present && r->seq == rep->anchor.seq) {
        rep->anchor_held = true;
        if (memcmp(r->hash, rep->anchor.hash, AUDIT_HASH_LEN) != 0) {
            rep->walk.broken = true;
            rep->walk.bad_seq = r->seq;
            snprintf(rep->walk.why, sizeof(rep->walk.why),
                     "entry %lu: not the seal the token's anchor names: the ring was rewritten",
                     (unsigned long)r->seq);
            v->broken = true;
        }
    }
    return v->broken; /* the first break is the one named */
}

int app_audit_verify(struct app *app, struct app_audit_report *rep)
{
    struct token *t = &app->token;
    uint8_t point[65];
    size_t point_len = 0;
    uint8_t id[AUDIT_RING_ID_LEN];
    uint32_t head_seq;
    uint8_t head[AUDIT_HASH_LEN];

    memset(rep, 0, sizeof(*rep));
    app_audit_budget_flush(app);
    audit_flush(&app->audit);
    if (!app->token.logged_in) {
        snprintf(rep->why, sizeof(rep->why), "the token is not logged in");
        return -EACCES;
    }
    bool found = false;
    enum token_key_alg alg;
    CK_RV rv = token_find_key(t, &t->audit, &found, &alg);
    if (rv == CKR_OK && found)
        rv = token_ec_point(t, &t->audit, point, sizeof(point), &point_len);
    if (rv != CKR_OK) {
        snprintf(rep->why, sizeof(rep->why), "the audit key: %s", token_rv_name(rv));
        return -EIO;
    }
    rep->have_key = found;
    if (audit_get_ring_id(&app->audit, id) == 0 && anchor_read(app, id, &rep->anchor) != CKR_OK) {
        snprintf(rep->why, sizeof(rep->why), "the token did not answer");
        return -EIO;
    }
    struct verify v = {.rep = rep};
    audit_walk_init(&rep->walk, found ? point : NULL, point_len);
    int ret = audit_each(&app->audit, 0, verify_record, &v);
    if (ret < 0 && !v.broken) {
        snprintf(rep->why, sizeof(rep->why), "the ring cannot be read (%d)", ret);
        return -EIO;
    }
    if (v.broken) {
        snprintf(rep->why, sizeof(rep->why), "%s", rep->walk.why);
        return -EBADMSG;
    }
    audit_head(&app->audit, &head_seq, head);
    const struct audit_walk *w = &rep->walk;
    if (w->last_seq != head_seq || (head_seq && memcmp(w->head, head, AUDIT_HASH_LEN) != 0)) {
        snprintf(rep->why, sizeof(rep->why),
                 "the ring ends at entry %lu, but entries up to %lu were written since boot",
                 (unsigned long)w->last_seq, (unsigned long)head_seq);
        return -EBADMSG;
    }
    if (rep->anchor.present && !rep->anchor.damaged && rep->anchor.seq > w->last_seq) {
        snprintf(
            rep->why, sizeof(rep->why),
            "the ring ends at entry %lu, but the token's anchor names entry %lu: entries missing",
            (unsigned long)w->last_seq, (unsigned long)rep->anchor.seq);
        return -EBADMSG;
    }
    if (rep->anchor.damaged) {
        snprintf(rep->why, sizeof(rep->why), "the token's audit anchor is damaged");
        return -EBADMSG;
    }
    return 0;
}

/* ---- audit export ---- */

/* The audit key's certificate: issued by the SLC key, valid as long as the SLC. */
static int key_cert(struct app *app, int64_t now, struct app_audit_export *x)
{
    struct token *t = &app->token;
    struct x509_profile p = {0};
    struct x509_issuer issuer;
    uint8_t spki[128];
    size_t spki_len = 0;
    char cn[X509_CN_MAX + 1];

    if (token_public_spki(t, &t->audit, spki, sizeof(spki), &spki_len) != CKR_OK ||
        token_random(t, p.serial, sizeof(p.serial)) != CKR_OK)
        return -EIO;
    x509_serial_fix(p.serial);
    snprintf(cn, sizeof(cn), "%.50s audit key", app->enroll.cfg.name);
    p.cn = cn;
    p.org = "Signet";
    p.not_before = enroll_time_at(now - X509_BACKDATE_SECS);
    p.not_after = app->enroll.info.not_after;
    p.spki = spki;
    p.spki_len = spki_len;
    enroll_issuer(&app->enroll, &issuer);
    return x509_build(&p, &issuer, x->cert, sizeof(x->cert), &x->cert_len);
}

#define EXPORT_SEAL_TRIES 4

int app_audit_export_prepare(struct app *app, uint32_t from, struct app_audit_export *x)
{
    x509_time now_x;
    int64_t now = 0;
    struct audit_use u;

    memset(x, 0, sizeof(*x));
    if (!app_now(app, &now_x, &now)) {
        snprintf(x->why, sizeof(x->why), "the clock cannot be read");
        return -EIO;
    }
    enum enroll_state st = enroll_state(&app->enroll, &now_x);
    if ((st != ENROLL_ENROLLED && st != ENROLL_RENEWAL_PENDING) ||
        !enroll_slc_current(&app->enroll)) {
        snprintf(x->why, sizeof(x->why),
                 "no SLC in force: the SLC key certifies the audit key of an export");
        return -EPERM;
    }
    if (!audit_key_ready(app)) {
        snprintf(x->why, sizeof(x->why), "no audit key in the token");
        return -EIO;
    }
    if (!app->audit_anchor_checked)
        (void)check_anchor(app, now);
    if (!app->audit_anchor_checked) {
        snprintf(x->why, sizeof(x->why), "the token's audit anchor could not be compared");
        return -EIO;
    }
    app_audit_budget_flush(app);
    audit_flush(&app->audit);
    audit_use(&app->audit, &u);
    if (!u.last_seq) {
        snprintf(x->why, sizeof(x->why), "the ring is empty");
        return -ENOENT;
    }
    if (!from)
        from = u.first_seq;
    if (from < u.first_seq || from > u.last_seq) {
        snprintf(x->why, sizeof(x->why), "FROM-SEQ is %lu..%lu (the entries kept)",
                 (unsigned long)u.first_seq, (unsigned long)u.last_seq);
        return -ERANGE;
    }
    int ret = key_cert(app, now, x);
    if (ret) {
        snprintf(x->why, sizeof(x->why), "the SLC key did not certify the audit key (%d)", ret);
        return -EIO;
    }
    /* The export ends with a seal of the entry just before it; entries that came while the
     * token signed push the seal off that, so it is made again (a handful of tries). */
    for (int i = 0;; i++) {
        uint32_t seq;
        uint8_t hash[AUDIT_HASH_LEN];
        audit_head(&app->audit, &seq, hash);
        if (app->audit.head_is_seal && app->audit.sealed_seq + 1 == seq) {
            (void)audit_get_ring_id(&app->audit, x->head.ring_id);
            x->head.first_seq = from;
            x->head.last_seq = seq;
            return 0;
        }
        if (i == EXPORT_SEAL_TRIES)
            break;
        ret = seal(app, now);
    }
    snprintf(x->why, sizeof(x->why), "the head could not be sealed (%s)",
             ret ? "the token failed" : "entries kept coming");
    return -EAGAIN;
}

/* ---- what status and /health say ---- */

const char *app_audit_warning(const struct app *app)
{
    struct audit_use u;

    audit_use(&app->audit, &u);
    if (u.full)
        return "the audit ring is full: export it (audit export)";
    if (u.nearly_full)
        return "the audit ring is nearly full: export it (audit export)";
    if (u.lost)
        return "audit entries were lost (the ring could not store them)";
    return NULL;
}

void app_audit_describe(const struct app *app, char *out, size_t cap)
{
    struct audit_use u;

    audit_use(&app->audit, &u);
    if (!u.segments) {
        snprintf(out, cap, "unavailable (the NV region did not open)");
        return;
    }
    if (!u.last_seq) {
        snprintf(out, cap, "empty, %lu segments of %lu KiB", (unsigned long)u.segments,
                 (unsigned long)(u.capacity / u.segments / 1024));
        return;
    }
    snprintf(
        out, cap, "entries %lu..%lu, %lu of %lu segments free, sealed to %lu, exported to %lu%s%s",
        (unsigned long)u.first_seq, (unsigned long)u.last_seq, (unsigned long)u.free_segments,
        (unsigned long)u.segments, (unsigned long)u.sealed_seq, (unsigned long)u.exported_seq,
        u.damaged ? ", damage found at boot" : "", app->audit_key_failed ? ", no audit key" : "");
}
