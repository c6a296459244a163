#include "enroll.h"

#include <errno.h>
#include <string.h>

#include "lib/civil_time.h"
#include "lib/tlv.h"

#define OBJ_CONFIG "signet-config"
#define OBJ_TRUST  "signet-trust"
#define OBJ_SLC    "signet-slc"

enum config_tag {
    CFG_NAME = 1,
    CFG_URL = 2,
    CFG_REVOCATION = 3,
    CFG_REVOKER = 4,
    CFG_ROLE = 5,
    CFG_REQUESTED = 6,
    CFG_RENEWAL_FOR = 7,
    CFG_ROOT_URL = 8,
};
enum slc_tag { SLC_CERT = 0x10, SLC_CHAIN = 0x11 };

/* One record at a time passes through here on its way to or from the token. */
static uint8_t io[TOKEN_DATA_MAX];
static size_t io_len;
/* A response being checked: only installed once every check passed. */
static struct doc_response incoming;

void enroll_init(struct enroll *e, struct token *token, const char *sku, const char *version)
{
    memset(e, 0, sizeof(*e));
    e->token = token;
    e->sku = sku;
    e->version = version;
}

static bool same_bytes(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    return alen == blen && memcmp(a, b, alen) == 0;
}

static void copy_text(char *dst, size_t cap, const uint8_t *v, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

static int decode_config(struct enroll_config *c, const uint8_t *buf, size_t len)
{
    struct tlv_reader r;
    uint8_t tag;
    const uint8_t *v;
    size_t n;

    memset(c, 0, sizeof(*c));
    tlv_reader_init(&r, buf, len);
    while (tlv_next(&r, &tag, &v, &n)) {
        switch (tag) {
        case CFG_NAME:
            copy_text(c->name, sizeof(c->name), v, n);
            break;
        case CFG_URL:
            copy_text(c->cluster_url, sizeof(c->cluster_url), v, n);
            break;
        case CFG_REVOCATION:
            c->revocation = n == 1 && v[0] ? DOC_REVOCATION_CUSTOM : DOC_REVOCATION_STANDARD;
            break;
        case CFG_REVOKER:
            if (n > sizeof(c->revoker))
                return -EINVAL;
            memcpy(c->revoker, v, n);
            c->revoker_len = n;
            break;
        case CFG_ROLE:
            c->role = n == 1 && v[0] ? ENROLL_ROLE_LICENSING : ENROLL_ROLE_ROOT;
            break;
        case CFG_ROOT_URL:
            copy_text(c->root_url, sizeof(c->root_url), v, n);
            break;
        case CFG_REQUESTED:
            c->requested = n == 1 && v[0];
            break;
        case CFG_RENEWAL_FOR:
            if (n > sizeof(c->renewal_for))
                return -EINVAL;
            memcpy(c->renewal_for, v, n);
            c->renewal_for_len = n;
            break;
        default:
            break; /* written by a newer firmware: not ours to interpret */
        }
    }
    return r.bad ? -EINVAL : 0;
}

static int save_config(struct enroll *e, const struct enroll_config *c)
{
    uint8_t rev = c->revocation == DOC_REVOCATION_CUSTOM, role = c->role, req = c->requested;
    size_t len = 0;
    int ret = tlv_put(io, sizeof(io), &len, CFG_NAME, c->name, strlen(c->name));

    if (!ret)
        ret = tlv_put(io, sizeof(io), &len, CFG_URL, c->cluster_url, strlen(c->cluster_url));
    if (!ret)
        ret = tlv_put(io, sizeof(io), &len, CFG_REVOCATION, &rev, 1);
    if (!ret)
        ret = tlv_put(io, sizeof(io), &len, CFG_REVOKER, c->revoker, c->revoker_len);
    if (!ret)
        ret = tlv_put(io, sizeof(io), &len, CFG_ROLE, &role, 1);
    if (!ret)
        ret = tlv_put(io, sizeof(io), &len, CFG_REQUESTED, &req, 1);
    if (!ret)
        ret = tlv_put(io, sizeof(io), &len, CFG_RENEWAL_FOR, c->renewal_for, c->renewal_for_len);
    if (!ret)
        ret = tlv_put(io, sizeof(io), &len, CFG_ROOT_URL, c->root_url, strlen(c->root_url));
    if (ret)
        return ret;
    if (token_data_write(e->token, OBJ_CONFIG, io, len) != CKR_OK)
        return -EIO;
    e->cfg = *c; /* in RAM only once it is in the token */
    return 0;
}

static int decode_slc(struct doc_response *r, const uint8_t *buf, size_t len)
{
    struct tlv_reader rd;
    uint8_t tag;
    const uint8_t *v;
    size_t n;

    memset(r, 0, sizeof(*r));
    tlv_reader_init(&rd, buf, len);
    while (tlv_next(&rd, &tag, &v, &n)) {
        if (n > DOC_CERT_MAX)
            return -EINVAL;
        if (tag == SLC_CERT) {
            memcpy(r->slc, v, n);
            r->slc_len = n;
        } else if (tag == SLC_CHAIN && r->chain_count < DOC_CHAIN_MAX) {
            memcpy(r->chain[r->chain_count], v, n);
            r->chain_len[r->chain_count++] = n;
        }
    }
    return rd.bad || !r->slc_len ? -EINVAL : 0;
}

static int encode_slc(const struct doc_response *r, size_t *len)
{
    int ret = tlv_put(io, sizeof(io), len, SLC_CERT, r->slc, r->slc_len);
    for (size_t i = 0; !ret && i < r->chain_count; i++)
        ret = tlv_put(io, sizeof(io), len, SLC_CHAIN, r->chain[i], r->chain_len[i]);
    return ret;
}

/* The installed SLC's facts; the SLC counts as absent if it cannot be read. */
static void refresh_info(struct enroll *e)
{
    const char *why;
    if (e->slc.slc_len && x509_read(e->slc.slc, e->slc.slc_len, &e->info, &why) != 0)
        e->slc.slc_len = 0;
}

/* What enroll_load reads, into e (a staging copy). */
static int load_into(struct enroll *e, const char **why)
{
    bool found = false;
    CK_RV rv;

    *why = "the token did not answer";
    rv = token_find_key(e->token, &e->token->slc, &found, &e->alg);
    if (rv == CKR_OK && !found)
        e->spki_len = 0;
    /* The public key changes only with the key: a cached handle means the same key. */
    if (rv == CKR_OK && found && (!e->spki_len || e->spki_epoch != e->token->slc.epoch)) {
        rv = token_public_spki(e->token, &e->token->slc, e->spki, sizeof(e->spki), &e->spki_len);
        e->spki_epoch = e->token->slc.epoch;
        if (rv != CKR_OK)
            e->spki_len = 0;
    }
    if (rv == TOKEN_RV_PAIR_DAMAGED)
        *why = token_rv_name(rv);
    if (rv == CKR_OK)
        rv = token_data_read(e->token, OBJ_CONFIG, io, sizeof(io), &io_len);
    if (rv != CKR_OK)
        return -EIO;
    *why = "the stored configuration is damaged";
    if (decode_config(&e->cfg, io, io_len) != 0)
        return -EINVAL;
    *why = "the token did not answer";
    if (token_data_read(e->token, OBJ_TRUST, e->anchor, sizeof(e->anchor), &e->anchor_len) !=
            CKR_OK ||
        token_data_read(e->token, OBJ_SLC, io, sizeof(io), &io_len) != CKR_OK)
        return -EIO;
    memset(&e->slc, 0, sizeof(e->slc));
    *why = "the stored SLC is damaged";
    if (io_len && decode_slc(&e->slc, io, io_len) != 0)
        return -EINVAL;
    refresh_info(e);
    e->loaded = true;
    return 0;
}

/*
 * Read into a copy, then replace: the net task checks what this holds (enroll_serving, the
 * issuer) while the token task's fiber waits for the token in here, and must see the old state
 * or the new one, never "not loaded" or half of each (docs/architecture.md). The copy's info
 * points into the copy's SLC: it is read again from e's own once e holds it.
 */
int enroll_load(struct enroll *e, const char **why)
{
    static struct enroll staged;
    int ret;

    staged = *e;
    staged.loaded = false;
    ret = load_into(&staged, why);
    if (ret) {
        e->loaded = false; /* read again on next use, as before */
        return ret;
    }
    /* What a load reads, and nothing else (a response enroll_check passed stays checked). */
    e->cfg = staged.cfg;
    memcpy(e->anchor, staged.anchor, staged.anchor_len);
    e->anchor_len = staged.anchor_len;
    e->slc = staged.slc;
    memcpy(e->spki, staged.spki, staged.spki_len);
    e->spki_len = staged.spki_len;
    e->alg = staged.alg;
    e->spki_epoch = staged.spki_epoch;
    refresh_info(e);
    e->loaded = true;
    return 0;
}

void enroll_unload(struct enroll *e)
{
    e->loaded = false;
}

/* An installed SLC counts only if it is for the token's current key. */
static bool slc_installed(const struct enroll *e)
{
    return e->slc.slc_len && e->spki_len &&
           same_bytes(e->info.spki, e->info.spki_len, e->spki, e->spki_len);
}

enum enroll_state enroll_state(const struct enroll *e, const x509_time *now)
{
    if (!e->loaded)
        return ENROLL_UNKNOWN;
    if (!e->spki_len)
        return ENROLL_UNPROVISIONED;
    if (slc_installed(e)) {
        if (x509_time_cmp(now, &e->info.not_before) < 0 ||
            x509_time_cmp(now, &e->info.not_after) > 0)
            return ENROLL_EXPIRED;
        if (same_bytes(e->cfg.renewal_for, e->cfg.renewal_for_len, e->info.serial,
                       e->info.serial_len))
            return ENROLL_RENEWAL_PENDING;
        return ENROLL_ENROLLED;
    }
    return e->cfg.requested ? ENROLL_REQUEST_EXPORTED : ENROLL_KEY_GENERATED;
}

const char *enroll_state_name(enum enroll_state s)
{
    switch (s) {
    case ENROLL_UNPROVISIONED:
        return "unprovisioned";
    case ENROLL_KEY_GENERATED:
        return "key generated";
    case ENROLL_REQUEST_EXPORTED:
        return "request exported";
    case ENROLL_ENROLLED:
        return "enrolled";
    case ENROLL_RENEWAL_PENDING:
        return "renewal pending";
    case ENROLL_EXPIRED:
        return "SLC expired";
    case ENROLL_UNKNOWN:
        break;
    }
    return "unknown";
}

bool enroll_serving(const struct enroll *e, const x509_time *now)
{
    enum enroll_state s = enroll_state(e, now);
    return s == ENROLL_ENROLLED || s == ENROLL_RENEWAL_PENDING;
}

static bool printable(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (n >= max || (unsigned char)s[n] < 0x21 || (unsigned char)s[n] > 0x7e)
            return false;
    return n > 0;
}

int enroll_check_name(const char *name, const char **why)
{
    *why = "a name is 1-64 printable characters without spaces";
    return printable(name, DOC_NAME_MAX) ? 0 : -EINVAL;
}

int enroll_set_name(struct enroll *e, const char *name, const char **why)
{
    struct enroll_config c = e->cfg;

    if (enroll_check_name(name, why) != 0)
        return -EINVAL;
    memcpy(c.name, name, strlen(name) + 1);
    *why = "could not store the configuration in the token";
    return save_config(e, &c);
}

int enroll_set_cluster_url(struct enroll *e, const char *url, const char **why)
{
    struct enroll_config c = e->cfg;

    *why = "a cluster URL starts with http:// or https:// and has at most 256 characters";
    if (!printable(url, DOC_URL_MAX) ||
        (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0))
        return -EINVAL;
    memcpy(c.cluster_url, url, strlen(url) + 1);
    *why = "could not store the configuration in the token";
    return save_config(e, &c);
}

int enroll_set_revocation(struct enroll *e, enum doc_revocation r, const uint8_t *spki, size_t len,
                          const char **why)
{
    struct enroll_config c = e->cfg;

    *why = "a licensing server sets no revocation policy: its root's applies";
    if (r == DOC_REVOCATION_CUSTOM && c.role == ENROLL_ROLE_LICENSING)
        return -EPERM;
    *why = "custom revocation needs the revoking party's public key";
    if (r == DOC_REVOCATION_CUSTOM && (!len || len > sizeof(c.revoker)))
        return -EINVAL;
    c.revocation = r;
    c.revoker_len = r == DOC_REVOCATION_CUSTOM ? len : 0;
    if (c.revoker_len)
        memcpy(c.revoker, spki, len);
    *why = "could not store the configuration in the token";
    return save_config(e, &c);
}

int enroll_set_role(struct enroll *e, enum enroll_role role, const char **why)
{
    struct enroll_config c = e->cfg;

    *why = "an SLC is installed; its rights are the role's (generate a new key to change roles)";
    if (role != c.role && slc_installed(e))
        return -EBUSY;
    c.role = role;
    if (role == ENROLL_ROLE_LICENSING) {
        c.revocation = DOC_REVOCATION_STANDARD;
        c.revoker_len = 0;
    }
    *why = "could not store the configuration in the token";
    return save_config(e, &c);
}

int enroll_check_root_url(const char *url, const char **why)
{
    *why = "the root's URL is https://HOST[:PORT] without a path";
    if (!printable(url, DOC_URL_MAX) || strncmp(url, "https://", 8) != 0 || !url[8] ||
        strchr(url + 8, '/'))
        return -EINVAL;
    return 0;
}

int enroll_set_root_url(struct enroll *e, const char *url, const char **why)
{
    struct enroll_config c = e->cfg;

    if (enroll_check_root_url(url, why) != 0)
        return -EINVAL;
    memcpy(c.root_url, url, strlen(url) + 1);
    *why = "could not store the configuration in the token";
    return save_config(e, &c);
}

int enroll_trust(struct enroll *e, const uint8_t *der, size_t len, const x509_time *now,
                 const char **why)
{
    struct x509_info info;
    struct x509_cert self = {der, len};

    if (x509_read(der, len, &info, why) != 0)
        return -EINVAL;
    *why = "not a certificate authority";
    if (!info.ca)
        return -EINVAL;
    /* Verified against itself: self-signed, valid now, fit to issue. */
    if (x509_chain_verify(self, NULL, 0, self, now, 0, why) != 0)
        return -EINVAL;
    *why = "an SLC is installed; replacing its authority root would break its chain";
    if (slc_installed(e) && !same_bytes(der, len, e->anchor, e->anchor_len))
        return -EBUSY;
    *why = "could not store the authority root in the token";
    if (token_data_write(e->token, OBJ_TRUST, der, len) != CKR_OK)
        return -EIO;
    memcpy(e->anchor, der, len);
    e->anchor_len = len;
    return 0;
}

static int slc_sign(void *ctx, const uint8_t *tbs, size_t len, uint8_t *sig, size_t cap,
                    size_t *sig_len)
{
    struct enroll *e = ctx;
    *sig_len = cap;
    return token_sign(e->token, &e->token->slc, tbs, len, sig, sig_len) == CKR_OK ? 0 : -EIO;
}

int enroll_request(struct enroll *e, enum doc_request_kind kind, char *out, size_t cap, size_t *len,
                   const char **why)
{
    static struct doc_request r;
    struct enroll_config c = e->cfg;
    int ret;

    *why = "no SLC key in the token (key generate)";
    if (!e->spki_len)
        return -ENOENT;
    *why = "set the server name first (config name)";
    if (!c.name[0])
        return -EINVAL;
    *why = "set the cluster URL first (config cluster-url)";
    if (!c.cluster_url[0])
        return -EINVAL;
    *why = "nothing to renew: no SLC is installed";
    if (kind == DOC_RENEWAL && !slc_installed(e))
        return -ENOENT;
    /* A licensing server's first request goes to its root (docs/requirements.md R8) and carries no
     * revocation policy of its own (R14). */
    if (c.role == ENROLL_ROLE_LICENSING && kind == DOC_ENROLLMENT)
        kind = DOC_SUBENROLLMENT;
    memset(&r, 0, sizeof(r));
    r.kind = kind;
    memcpy(r.server_name, c.name, sizeof(r.server_name));
    memcpy(r.cluster_url, c.cluster_url, sizeof(r.cluster_url));
    memcpy(r.sku, e->sku, strlen(e->sku) + 1);
    memcpy(r.version, e->version, strlen(e->version) + 1);
    r.revocation = c.revocation;
    memcpy(r.revoker_key, c.revoker, c.revoker_len);
    r.revoker_key_len = c.revoker_len;
    memcpy(r.public_key, e->spki, e->spki_len);
    r.public_key_len = e->spki_len;
    struct x509_issuer key = {e->alg == TOKEN_RSA2048 ? X509_KEY_RSA : X509_KEY_EC,
                              NULL,
                              0,
                              e->spki,
                              e->spki_len,
                              slc_sign,
                              e};
    *why = "the token did not sign the proof of possession";
    ret = x509_csr_build(c.name, e->spki, e->spki_len, &key, r.pop, sizeof(r.pop), &r.pop_len);
    if (ret)
        return ret;
    *why = "the request does not fit";
    return doc_request_write(&r, out, cap, len);
}

int enroll_request_record(struct enroll *e, enum doc_request_kind kind, const char **why)
{
    struct enroll_config c = e->cfg;

    *why = "nothing to renew: no SLC is installed";
    if (kind == DOC_RENEWAL && !slc_installed(e))
        return -ENOENT;
    /* The state says so across reboots and cluster members. */
    if (kind == DOC_RENEWAL) {
        memcpy(c.renewal_for, e->info.serial, e->info.serial_len);
        c.renewal_for_len = e->info.serial_len;
    } else {
        c.requested = true;
    }
    *why = "could not record the request in the token";
    return save_config(e, &c);
}

int enroll_key_replaced(struct enroll *e, const char **why)
{
    struct enroll_config c = e->cfg;

    *why = "the enrollment state is not loaded";
    if (!e->loaded)
        return -EIO;
    if (!c.requested && !c.renewal_for_len)
        return 0;
    c.requested = false;
    c.renewal_for_len = 0;
    *why = "could not store the configuration in the token";
    return save_config(e, &c);
}

void enroll_issuer(struct enroll *e, struct x509_issuer *out)
{
    *out = (struct x509_issuer){e->alg == TOKEN_RSA2048 ? X509_KEY_RSA : X509_KEY_EC,
                                e->info.subject,
                                e->info.subject_len,
                                e->spki,
                                e->spki_len,
                                slc_sign,
                                e};
}

/* What an SLC must allow, by role: a root sub-enrolls and certifies; a licensing server issues
 * licenses (docs/requirements.md R8, R12). */
static uint32_t rights_needed(enum enroll_role role)
{
    return role == ENROLL_ROLE_ROOT ? X509_RIGHT_SUBENROLL | X509_RIGHT_CERTIFY
                                    : X509_RIGHT_ISSUE_USE | X509_RIGHT_ISSUE_PUBLISH;
}

int enroll_check(struct enroll *e, const char *xml, size_t len, const x509_time *now,
                 struct x509_info *out, const char **why)
{
    struct x509_cert chain[DOC_CHAIN_MAX];
    struct x509_info *info = out;

    e->checked = false;
    if (doc_response_parse(xml, len, &incoming, why) != 0)
        return -EINVAL;
    *why = "no authority root is trusted yet (trust import)";
    if (!e->anchor_len)
        return -ENOENT;
    *why = "no SLC key in the token (key generate)";
    if (!e->spki_len)
        return -ENOENT;
    if (x509_read(incoming.slc, incoming.slc_len, info, why) != 0)
        return -EINVAL;
    *why = "the response is for another key: its SLC does not hold this token's SLC key";
    if (!same_bytes(info->spki, info->spki_len, e->spki, e->spki_len))
        return -EPERM;
    *why = "the SLC is not a certificate authority";
    if (!info->ca)
        return -EPERM;
    for (size_t i = 0; i < incoming.chain_count; i++)
        chain[i] = (struct x509_cert){incoming.chain[i], incoming.chain_len[i]};
    if (x509_chain_verify((struct x509_cert){incoming.slc, incoming.slc_len}, chain,
                          incoming.chain_count, (struct x509_cert){e->anchor, e->anchor_len}, now,
                          rights_needed(e->cfg.role), why) != 0)
        return -EPERM;
    *why = "the response does not fit in the token";
    io_len = 0;
    if (encode_slc(&incoming, &io_len) != 0)
        return -E2BIG;
    /* What it was checked against: enroll_install refuses if that changed meanwhile. */
    e->checked = true;
    e->checked_against_len = slc_installed(e) ? e->info.serial_len : 0;
    memcpy(e->checked_against, e->info.serial, e->checked_against_len);
    return 0;
}

bool enroll_older_than_in_force(const struct enroll *e, const struct x509_info *info)
{
    return slc_installed(e) && x509_time_cmp(&info->not_before, &e->info.not_before) < 0;
}

int enroll_install(struct enroll *e, bool *renewed, const char **why)
{
    size_t in_force_len = slc_installed(e) ? e->info.serial_len : 0;

    *why = "no response has been checked";
    if (!e->checked)
        return -ENOENT;
    e->checked = false;
    *why = "the SLC in force changed while the response waited; nothing was installed";
    if (!same_bytes(e->checked_against, e->checked_against_len, e->info.serial, in_force_len))
        return -EAGAIN;
    *renewed = in_force_len != 0;
    /* Encoded again: io may have carried another record since the check. */
    io_len = 0;
    *why = "the response does not fit in the token";
    if (encode_slc(&incoming, &io_len) != 0)
        return -E2BIG;
    *why = "could not store the SLC in the token";
    if (token_data_write(e->token, OBJ_SLC, io, io_len) != CKR_OK) {
        /* The replacement may have gone part of the way: the token is the truth. */
        const char *ignored;
        (void)enroll_load(e, &ignored);
        return -EIO;
    }
    e->slc = incoming;
    refresh_info(e);
    return 0;
}

int enroll_accept(struct enroll *e, const char *xml, size_t len, const x509_time *now,
                  bool *renewed, const char **why)
{
    static struct x509_info info;
    int ret = enroll_check(e, xml, len, now, &info, why);

    return ret ? ret : enroll_install(e, renewed, why);
}

static int64_t epoch_of(const x509_time *t)
{
    struct civil_time c = {t->year,          (uint8_t)t->mon, (uint8_t)t->day,
                           (uint8_t)t->hour, (uint8_t)t->min, (uint8_t)t->sec};
    return civil_to_epoch(&c);
}

x509_time enroll_time_at(int64_t secs)
{
    struct civil_time c;
    civil_from_epoch(secs, &c);
    return (x509_time){c.year, c.month, c.day, c.hour, c.minute, c.second};
}

void enroll_time_text(const x509_time *t, char out[21])
{
    civil_format_iso8601(epoch_of(t), out);
}

bool enroll_slc_current(const struct enroll *e)
{
    return slc_installed(e);
}

long enroll_days_left(const struct enroll *e, const x509_time *now)
{
    if (!slc_installed(e))
        return 0;
    int64_t secs = epoch_of(&e->info.not_after) - epoch_of(now);
    return (long)(secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400));
}
