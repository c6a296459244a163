/*
 * tools/signet-client — the user's side of Signet rights management (docs/requirements.md R12), a
 * Linux host program. It keeps the user's RSA key in an ordinary file, has the appliance certify it
 * (a rights account certificate, RAC), publishes documents (a publishing license, PL, with the
 * policy; the author's use license, UL) and asks for use licenses; `protect` and `open` wrap
 * that into files. docs/client.md describes commands, files and trust; README.md shows the use.
 *
 * The protected file, FILE.signet (tools/signet-client/sealed.h):
 *
 *   "SIGNET1\n" | content id (16) | nonce (12) | AES-256-GCM ciphertext | GCM tag (16)
 *
 * with the magic and content id as additional authenticated data, and the content key the
 * license holds (RSA-OAEP, SHA-1/MGF1-SHA-1, to the RAC's key). The PL travels beside it as
 * FILE.signet.pl, PEM CERTIFICATE blocks: the PL, then the chain of its issuer.
 *
 * Every command prints one line on success; on failure "error: REASON" on stderr, exit status 1
 * (2 for a bad command line), and no file written or changed.
 */
#define _POSIX_C_SOURCE 200809L /* gmtime_r, fstat */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bundle.h"
#include "crypto/doc.h"
#include "crypto/rng.h"
#include "crypto/x509.h"
#include "crypto/x509_user.h"
#include "files.h"
#include "https.h"
#include "identity.h"
#include "mbedtls/x509_crt.h"
#include "sealed.h"
#include "revocation.h"
#include "userkey.h"

#define SIGNET_SUFFIX  ".signet"
#define PL_SUFFIX      ".pl"
#define GRANT_TEXT_MAX 64 /* "view,edit,print,export,forward,owner" and room */

static const char usage[] =
    "usage: signet-client COMMAND [OPTIONS] [FILE]\n"
    "\n"
    "The user's side of Signet rights management: your RSA key, its rights account certificate\n"
    "(RAC) from the appliance, publishing and use licenses, and protected files.\n"
    "\n"
    "commands:\n"
    "  keygen --key KEY\n"
    "        a new RSA-2048 private key, PEM, mode 0600; never overwrites\n"
    "  request --key KEY --name NAME --out CSR\n"
    "        the PKCS#10 request (DER) that certify sends, for inspection\n"
    "  certify --url URL --key KEY [--name NAME] --rac RAC\n"
    "        have the appliance certify KEY as NAME (e.g. alice@contoso.example), by default the\n"
    "        name in --id-cert; write the RAC and its chain (PEM, RAC first)\n"
    "  publish --url URL --rac RAC --grant USER:RIGHTS... --pl PL --ul UL\n"
    "        publish a policy: the publishing license and your own use license (you, the\n"
    "        author, get owner rights from the server)\n"
    "  license --url URL --rac RAC --pl PL --ul UL\n"
    "        ask for a use license for PL; prints the rights granted\n"
    "  protect --url URL --key KEY --rac RAC --grant USER:RIGHTS... FILE\n"
    "        publish, then encrypt FILE into FILE.signet with the PL beside it (FILE.signet.pl)\n"
    "  open --url URL --key KEY --rac RAC FILE.signet [--out FILE]\n"
    "        get a use license for FILE.signet.pl and decrypt (default output: FILE)\n"
    "  show [--anchor ROOT] FILE\n"
    "        what a RAC, license, certificate or .signet file says\n"
    "\n"
    "options:\n"
    "  --tls-fingerprint SHA256  the appliance's HTTPS certificate fingerprint, AA:BB:...\n"
    "                            (its console: 'tls fingerprint'); or\n"
    "  --insecure                accept any server certificate (one of the two is required)\n"
    "  --id-cert CERT            your identity certificate from your organisation's user CA\n"
    "                            (PEM, intermediates after it), the TLS client certificate\n"
    "                            the appliance authenticates you by; with\n"
    "  --id-key KEY              its private key (PEM, mode 0600); both on every command\n"
    "                            that talks to the appliance\n"
    "  --anchor ROOT             verify everything received against the authority root (PEM),\n"
    "                            and that no certificate of it is revoked: by the CRLs given\n"
    "                            with --crl, else fetched from each certificate's CRL\n"
    "                            distribution point (no CRL to be had is an error)\n"
    "  --crl FILE                a CRL (PEM or DER) of the hierarchy, up to 8; with --anchor\n"
    "  --now TIME                judge validity at TIME (2026-12-02T15:04:05Z), not the\n"
    "                            clock; also SIGNET_CLIENT_NOW\n"
    "  RIGHTS                    view, edit, print, export, forward, owner, comma separated\n"
    "  -h, --help                this text\n";

enum opt {
    OPT_URL,
    OPT_TLS_FINGERPRINT,
    OPT_INSECURE,
    OPT_ANCHOR,
    OPT_KEY,
    OPT_NAME,
    OPT_RAC,
    OPT_GRANT,
    OPT_PL,
    OPT_UL,
    OPT_OUT,
    OPT_ID_CERT,
    OPT_ID_KEY,
    OPT_CRL,
    OPT_NOW,
    OPT_COUNT
};

#define NETWORK " certify publish license protect open "

static const struct {
    const char *name;
    bool value;
    const char *commands; /* the commands it applies to */
} opts[OPT_COUNT] = {
    [OPT_URL] = {"--url", true, NETWORK},
    [OPT_TLS_FINGERPRINT] = {"--tls-fingerprint", true, NETWORK},
    [OPT_INSECURE] = {"--insecure", false, NETWORK},
    [OPT_ANCHOR] = {"--anchor", true, NETWORK "show "},
    [OPT_KEY] = {"--key", true, " keygen request certify protect open "},
    [OPT_NAME] = {"--name", true, " request certify "},
    [OPT_RAC] = {"--rac", true, NETWORK},
    [OPT_GRANT] = {"--grant", true, " publish protect "},
    [OPT_PL] = {"--pl", true, " publish license "},
    [OPT_UL] = {"--ul", true, " publish license "},
    [OPT_OUT] = {"--out", true, " request open "},
    [OPT_ID_CERT] = {"--id-cert", true, NETWORK},
    [OPT_ID_KEY] = {"--id-key", true, NETWORK},
    [OPT_CRL] = {"--crl", true, NETWORK "show "},
    [OPT_NOW] = {"--now", true, NETWORK "show "},
};

struct args {
    size_t command;
    const char *val[OPT_COUNT]; /* "" for a given flag, NULL when absent */
    const char *grant[DOC_GRANTS_MAX];
    size_t grant_count;
    struct revocation crls; /* --crl, repeatable */
    const char *file;
};

/* What every command may need: the server, who we are to it, the trust anchor, the time. */
struct client {
    struct https_peer peer;
    bool has_identity;
    struct identity identity;
    const char *name; /* certify: --name, or the name in --id-cert */
    bool has_anchor;
    struct bundle anchor;
    const struct revocation *crls;
    x509_time now;
};

static int error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

static int cmd_keygen(struct client *c, const struct args *a);
static int cmd_request(struct client *c, const struct args *a);
static int cmd_certify(struct client *c, const struct args *a);
static int cmd_publish(struct client *c, const struct args *a);
static int cmd_license(struct client *c, const struct args *a);
static int cmd_protect(struct client *c, const struct args *a);
static int cmd_open(struct client *c, const struct args *a);
static int cmd_show(struct client *c, const struct args *a);

#define REQUIRED_MAX 4
static const struct {
    const char *name;
    int (*run)(struct client *c, const struct args *a);
    bool file;                       /* takes one FILE argument */
    enum opt required[REQUIRED_MAX]; /* OPT_COUNT ends the list */
} commands[] = {
    {"keygen", cmd_keygen, false, {OPT_KEY, OPT_COUNT}},
    {"request", cmd_request, false, {OPT_KEY, OPT_NAME, OPT_OUT, OPT_COUNT}},
    {"certify", cmd_certify, false, {OPT_URL, OPT_KEY, OPT_RAC, OPT_COUNT}},
    {"publish", cmd_publish, false, {OPT_URL, OPT_RAC, OPT_GRANT, OPT_PL}},
    {"license", cmd_license, false, {OPT_URL, OPT_RAC, OPT_PL, OPT_UL}},
    {"protect", cmd_protect, true, {OPT_URL, OPT_KEY, OPT_RAC, OPT_GRANT}},
    {"open", cmd_open, true, {OPT_URL, OPT_KEY, OPT_RAC, OPT_COUNT}},
    {"show", cmd_show, true, {OPT_COUNT}},
};
#define COMMANDS (sizeof(commands) / sizeof(commands[0]))

static bool is_network(size_t command)
{
    char padded[32];
    snprintf(padded, sizeof(padded), " %s ", commands[command].name);
    return strstr(NETWORK, padded) != NULL;
}

static int parse_option(int argc, char **argv, int *i, struct args *a)
{
    const char *s = argv[*i];
    int o = 0;

    while (o < OPT_COUNT && strcmp(opts[o].name, s) != 0)
        o++;
    if (o == OPT_COUNT)
        return error("unknown option '%.64s' (see --help)", s);
    if (opts[o].value && *i + 1 >= argc)
        return error("%s needs a value", s);
    const char *v = opts[o].value ? argv[++*i] : "";
    if (o == OPT_GRANT) {
        if (a->grant_count == DOC_GRANTS_MAX)
            return error("at most %d --grant", DOC_GRANTS_MAX);
        a->grant[a->grant_count++] = v;
    } else if (o == OPT_CRL) {
        if (a->crls.count == REVOCATION_CRLS_MAX)
            return error("at most %d --crl", REVOCATION_CRLS_MAX);
        a->crls.paths[a->crls.count++] = v;
    } else if (a->val[o]) {
        return error("%s given twice", s);
    }
    a->val[o] = v;
    return 0;
}

/* 0, 1 after --help, or 2 (with the error said) for a bad command line. */
static int parse_args(int argc, char **argv, struct args *a)
{
    const char *command = NULL;

    memset(a, 0, sizeof(*a));
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
            fputs(usage, stdout);
            return 1;
        }
        if (s[0] == '-' && s[1] == '-') {
            if (parse_option(argc, argv, &i, a) != 0)
                return 2;
        } else if (!command) {
            command = s;
        } else if (!a->file) {
            a->file = s;
        } else {
            return error("unexpected argument '%.64s' (see --help)", s) + 1;
        }
    }
    if (!command)
        return error("no command (see --help)") + 1;
    for (a->command = 0; a->command < COMMANDS; a->command++)
        if (strcmp(commands[a->command].name, command) == 0)
            break;
    if (a->command == COMMANDS)
        return error("unknown command '%.64s' (see --help)", command) + 1;
    char padded[32];
    snprintf(padded, sizeof(padded), " %s ", command);
    for (int o = 0; o < OPT_COUNT; o++)
        if (a->val[o] && !strstr(opts[o].commands, padded))
            return error("%s does not apply to %s", opts[o].name, command) + 1;
    for (int r = 0; r < REQUIRED_MAX; r++) {
        enum opt o = commands[a->command].required[r];
        if (o == OPT_COUNT)
            break;
        if (!a->val[o] || !a->val[o][0])
            return error("%s needs %s", command, opts[o].name) + 1;
    }
    if (strcmp(command, "publish") == 0 && !a->val[OPT_UL])
        return error("publish needs --ul") + 1;
    if (!a->val[OPT_ID_CERT] != !a->val[OPT_ID_KEY])
        return error("--id-cert and --id-key go together") + 1;
    if (strcmp(command, "certify") == 0 && !a->val[OPT_NAME] && !a->val[OPT_ID_CERT])
        return error("certify needs --name (or --id-cert, whose name it takes)") + 1;
    if (commands[a->command].file && !a->file)
        return error("%s needs a FILE", command) + 1;
    if (!commands[a->command].file && a->file)
        return error("unexpected argument '%.64s' (see --help)", a->file) + 1;
    return 0;
}

/* ---- small pieces ---- */

static x509_time to_x509(time_t t)
{
    struct tm tm;
    x509_time x = {0};

    if (gmtime_r(&t, &tm))
        x = (x509_time){tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                        tm.tm_hour,        tm.tm_min,     tm.tm_sec};
    return x;
}

#define TIME_TEXT_MAX 32

static void time_text(const x509_time *t, char out[TIME_TEXT_MAX])
{
    snprintf(out, TIME_TEXT_MAX, "%04u-%02u-%02uT%02u:%02u:%02uZ", (unsigned)t->year % 10000u,
             (unsigned)t->mon % 100u, (unsigned)t->day % 100u, (unsigned)t->hour % 100u,
             (unsigned)t->min % 100u, (unsigned)t->sec % 100u);
}

static void hex_text(const uint8_t *d, size_t len, char *out, size_t cap)
{
    size_t o = 0;

    for (size_t i = 0; i < len && o + 3 <= cap; i++, o += 2)
        snprintf(out + o, cap - o, "%02x", d[i]);
    out[o < cap ? o : cap - 1] = '\0';
}

static void rights_text(uint32_t rights, char out[GRANT_TEXT_MAX])
{
    if (rights == 0 || x509_grant_format(rights, out, GRANT_TEXT_MAX) != 0)
        snprintf(out, GRANT_TEXT_MAX, "%s", rights ? "(unreadable)" : "none");
}

/* A user name as the appliance takes it (DOC_USER_MAX printable ASCII, no spaces at the ends):
 * checked here so that a typo is one clear line, not a server's 400. */
static int check_name(const char *name, const char *what)
{
    size_t len = strnlen(name, DOC_USER_MAX + 1);

    if (len == 0 || len > DOC_USER_MAX || name[0] == ' ' || name[len - 1] == ' ')
        return error("%s must be 1 to %d printable characters without spaces at the ends", what,
                     DOC_USER_MAX);
    for (size_t i = 0; i < len; i++)
        if (name[i] < ' ' || name[i] > '~')
            return error("%s must be printable ASCII", what);
    return 0;
}

static const char *file_error(int err)
{
    return err == -E2BIG ? "too large" : strerror(-err);
}

/* The private key file: ours alone (like ssh, refuse a key others can read). */
static int load_key(const char *path, struct userkey **key)
{
    static uint8_t pem[USERKEY_PEM_MAX];
    struct stat st;
    size_t len = 0;
    const char *why = "";
    int ret = 1;

    if (stat(path, &st) != 0)
        return error("cannot read key %s: %s", path, strerror(errno));
    if (st.st_mode & 077)
        return error("key %s is accessible by others (mode %03o): chmod 600 it", path,
                     (unsigned)(st.st_mode & 0777));
    int err = file_read(path, pem, sizeof(pem), &len);
    if (err != 0) {
        error("cannot read key %s: %s", path, file_error(err));
        goto out;
    }
    if (userkey_load(pem, len, key, &why) != 0) {
        error("key %s: %s", path, why);
        goto out;
    }
    ret = 0;
out:
    wipe(pem, sizeof(pem));
    return ret;
}

static int load_bundle(const char *path, const char *what, struct bundle *b)
{
    static uint8_t text[BUNDLE_TEXT_MAX];
    size_t len = 0;
    const char *why = "";
    int err = file_read(path, text, sizeof(text), &len);

    if (err != 0)
        return error("cannot read %s %s: %s", what, path, file_error(err));
    if (bundle_read(text, len, b, &why) != 0)
        return error("%s %s: %s", what, path, why);
    return 0;
}

static const char *kind_name(enum x509_kind kind)
{
    switch (kind) {
    case X509_KIND_RAC:
        return "rights account certificate";
    case X509_KIND_PUBLISHING:
        return "publishing license";
    case X509_KIND_USE:
        return "use license";
    case X509_KIND_CKEK:
        return "content-key encryption certificate";
    default:
        return "certificate";
    }
}

/* Read a leaf that must be of kind (licenses: with their content extension). */
static int read_leaf(const uint8_t *der, size_t len, enum x509_kind kind, const char *what,
                     struct x509_info *info)
{
    const char *why = "";

    if (x509_read(der, len, info, &why) != 0)
        return error("%s: %s", what, why);
    if (info->kind != kind)
        return error("%s is a %s, not a %s", what, kind_name(info->kind), kind_name(kind));
    if ((kind == X509_KIND_PUBLISHING || kind == X509_KIND_USE) && !info->has_content)
        return error("%s has no content extension", what);
    return 0;
}

/* The one trust decision for everything received: with --anchor, the leaf chains to the
 * authority root through the chain given, every certificate is valid now, and the leaf's issuer
 * holds the right to issue its kind (x509_chain_verify checks all of it). Without --anchor the
 * pinned TLS connection is the only assurance (docs/client.md "Trust model"). */
static int verify_received(const struct client *c, const struct bundle *b, const char *what)
{
    struct x509_cert chain[DOC_CHAIN_MAX];
    struct x509_cert anchor = {c->anchor.der[0], c->anchor.len[0]};
    const char *why = "";

    if (!c->has_anchor)
        return 0;
    size_t n = bundle_chain(b, chain);
    if (x509_chain_verify((struct x509_cert){b->der[0], b->len[0]}, chain, n, anchor, &c->now, 0,
                          &why) != 0)
        return error("%s does not verify against the anchor: %s", what, why);
    if (revocation_check(c->crls, b, anchor, &c->now, &why) != 0)
        return error("%s: %s", what, why);
    return 0;
}

/* Send doc_out to path and parse the answer into doc_in; 0, or 1 with the error said. */
static struct doc_license doc_out, doc_in;

static int exchange(const struct client *c, const char *path, enum doc_license_kind expect)
{
    /* Two buffers: libcurl may read the answer while it still sends the request. */
    static char xml[DOC_LICENSE_XML_MAX + 1], answer[DOC_LICENSE_XML_MAX + 1];
    char why[HTTPS_WHY_MAX];
    const char *parse_why = "";
    size_t len = 0;
    long status = 0;

    if (doc_license_write(&doc_out, xml, sizeof(xml), &len) != 0)
        return error("cannot write the %s request document", path);
    int ret = https_post(&c->peer, path, xml, len, answer, sizeof(answer), &len, &status, why);
    if (ret != 0)
        return error("%s", why);
    /* The policy's or the ACL's 403 says "not granted" itself; any other 401/403 is the
     * appliance refusing who we are (the identity certificate) or what we sent. */
    if (status == 403 && strncmp(why, "not granted", 11) == 0)
        return error("%s", why);
    if (status == 401 || status == 403)
        return error("the appliance refused (%ld): %s", status, why);
    if (status == 400)
        return error("the server refused the request: %s", why);
    if (status == 503)
        return error("the server is not ready: %s", why);
    if (status != 200)
        return error("the server answered %ld: %s", status, why);
    if (doc_license_parse(answer, len, expect, &doc_in, &parse_why) != 0)
        return error("the server's answer: %s", parse_why);
    return 0;
}

static int rac_chain_into_request(const struct bundle *rac, const char *path)
{
    if (rac->count < 2)
        return error("%s holds no chain above the RAC (certify again)", path);
    if (rac->len[0] > sizeof(doc_out.rac))
        return error("%s: the RAC is larger than %d bytes", path, DOC_CERT_MAX);
    doc_out.rac_len = rac->len[0];
    memcpy(doc_out.rac, rac->der[0], rac->len[0]);
    doc_out.chain_count = rac->count - 1;
    for (size_t i = 1; i < rac->count; i++) {
        if (rac->len[i] > DOC_CERT_MAX)
            return error("%s: a chain certificate is larger than %d bytes", path, DOC_CERT_MAX);
        memcpy(doc_out.chain[i - 1], rac->der[i], rac->len[i]);
        doc_out.chain_len[i - 1] = rac->len[i];
    }
    return 0;
}

/* A use license for the RAC's holder, for the content of the PL (when pl is given). */
static int check_use_license(const struct x509_info *ul, const struct x509_info *rac,
                             const struct x509_info *pl)
{
    if (!spki_same(ul->spki, ul->spki_len, rac->spki, rac->spki_len))
        return error("the use license is not for this RAC's key");
    if (ul->content.grant_count != 1 || strcmp(ul->content.grants[0].user, rac->cn) != 0)
        return error("the use license does not grant to %s", rac->cn);
    if (pl && memcmp(ul->content.id, pl->content.id, X509_CONTENT_ID_LEN) != 0)
        return error("the use license is for other content than the publishing license");
    return 0;
}

/* Write two outputs so that neither appears unless both are written. */
static int write_pair(const char *path1, const char *data1, size_t len1, const char *path2,
                      const char *data2, size_t len2)
{
    int err = file_write(path1, data1, len1, 0644, false);

    if (err != 0)
        return error("cannot write %s: %s", path1, strerror(-err));
    err = file_write(path2, data2, len2, 0644, false);
    if (err != 0) {
        unlink(path1);
        return error("cannot write %s: %s", path2, strerror(-err));
    }
    return 0;
}

/* ---- commands ---- */

static int cmd_keygen(struct client *c, const struct args *a)
{
    static char pem[USERKEY_PEM_MAX];
    size_t len = 0;
    const char *why = "";
    int ret = 1;

    (void)c;
    if (access(a->val[OPT_KEY], F_OK) == 0)
        return error("%s exists: not overwriting a key", a->val[OPT_KEY]);
    if (userkey_generate(pem, sizeof(pem), &len, &why) != 0) {
        error("%s", why);
        goto out;
    }
    int err = file_write(a->val[OPT_KEY], pem, len, 0600, true);
    if (err == -EEXIST) {
        error("%s exists: not overwriting a key", a->val[OPT_KEY]);
        goto out;
    }
    if (err != 0) {
        error("cannot write %s: %s", a->val[OPT_KEY], strerror(-err));
        goto out;
    }
    printf("wrote a new RSA-%d private key to %s (mode 0600)\n", USERKEY_BITS, a->val[OPT_KEY]);
    ret = 0;
out:
    wipe(pem, sizeof(pem));
    return ret;
}

/* The PKCS#10 for key and --name into doc_out.csr. */
static int make_csr(const struct userkey *key, const char *name)
{
    const char *why = "";

    if (check_name(name, "--name") != 0)
        return 1;
    if (userkey_csr(key, name, doc_out.csr, sizeof(doc_out.csr), &doc_out.csr_len, &why) != 0)
        return error("%s", why);
    return 0;
}

static int cmd_request(struct client *c, const struct args *a)
{
    struct userkey *key = NULL;
    int ret = 1;

    (void)c;
    if (load_key(a->val[OPT_KEY], &key) != 0 || make_csr(key, a->val[OPT_NAME]) != 0)
        goto out;
    int err = file_write(a->val[OPT_OUT], doc_out.csr, doc_out.csr_len, 0644, false);
    if (err != 0) {
        error("cannot write %s: %s", a->val[OPT_OUT], strerror(-err));
        goto out;
    }
    printf("wrote the PKCS#10 request for CN=%s to %s\n", a->val[OPT_NAME], a->val[OPT_OUT]);
    ret = 0;
out:
    userkey_free(key);
    return ret;
}

static int cmd_certify(struct client *c, const struct args *a)
{
    static struct bundle rac;
    static char pem[BUNDLE_TEXT_MAX];
    struct userkey *key = NULL;
    struct x509_info info;
    char until[TIME_TEXT_MAX];
    size_t len = 0;
    int ret = 1;

    if (load_key(a->val[OPT_KEY], &key) != 0 || make_csr(key, c->name) != 0)
        goto out;
    doc_out.kind = DOC_CERTIFY_REQUEST;
    if (exchange(c, "/v1/certify", DOC_CERTIFY_RESPONSE) != 0)
        goto out;
    if (bundle_set(&rac, doc_in.rac, doc_in.rac_len, doc_in.chain, doc_in.chain_len,
                   doc_in.chain_count) != 0) {
        error("the server's answer holds no usable RAC");
        goto out;
    }
    if (read_leaf(rac.der[0], rac.len[0], X509_KIND_RAC, "the RAC received", &info) != 0 ||
        verify_received(c, &rac, "the RAC received") != 0)
        goto out;
    if (!userkey_holds(key, info.spki, info.spki_len)) {
        error("the RAC received is not for our key");
        goto out;
    }
    /* The appliance writes the authenticated name with its domain in lower case. */
    if (strcmp(info.cn, c->name) != 0 && !x509_user_name_equal(info.cn, c->name)) {
        error("the RAC received names CN=%s, not %s", info.cn, c->name);
        goto out;
    }
    if (bundle_pem(&rac, pem, sizeof(pem), &len) != 0) {
        error("the RAC does not fit in PEM");
        goto out;
    }
    int err = file_write(a->val[OPT_RAC], pem, len, 0644, false);
    if (err != 0) {
        error("cannot write %s: %s", a->val[OPT_RAC], strerror(-err));
        goto out;
    }
    time_text(&info.not_after, until);
    printf("certified %s: RAC valid until %s, wrote %s (RAC and %zu chain certificates)\n", info.cn,
           until, a->val[OPT_RAC], rac.count - 1);
    ret = 0;
out:
    userkey_free(key);
    return ret;
}

/* "USER:RIGHTS" (the last colon splits: rights never hold one) into doc_out.grants. */
static int grants_into_request(const struct args *a)
{
    doc_out.grant_count = 0;
    for (size_t i = 0; i < a->grant_count; i++) {
        struct doc_grant *g = &doc_out.grants[i];
        const char *colon = strrchr(a->grant[i], ':');
        size_t user_len = colon ? (size_t)(colon - a->grant[i]) : 0;
        if (!colon || user_len == 0 || user_len > DOC_USER_MAX)
            return error("--grant wants USER:RIGHTS, like bob@contoso.example:view,print");
        memcpy(g->user, a->grant[i], user_len);
        g->user[user_len] = '\0';
        if (check_name(g->user, "a --grant's user") != 0)
            return 1;
        if (x509_grant_parse(colon + 1, &g->rights) != 0)
            return error("--grant %.80s: rights are view, edit, print, export, forward, owner, "
                         "comma separated",
                         a->grant[i]);
        for (size_t j = 0; j < i; j++)
            if (strcmp(doc_out.grants[j].user, g->user) == 0)
                return error("%s is granted twice", g->user);
    }
    doc_out.grant_count = a->grant_count;
    return 0;
}

/* The publication both publish and protect make: PL and the author's UL, checked. */
struct published {
    struct bundle pl, ul;
    struct x509_info pl_info, ul_info;
};

static int publish(const struct client *c, const struct args *a, const struct bundle *rac,
                   const struct x509_info *rac_info, struct published *p)
{
    doc_out.kind = DOC_PUBLISH_REQUEST; /* the grants are in already (grants_into_request) */
    if (rac_chain_into_request(rac, a->val[OPT_RAC]) != 0 ||
        exchange(c, "/v1/publish", DOC_PUBLISH_RESPONSE) != 0)
        return 1;
    if (bundle_set(&p->pl, doc_in.pl, doc_in.pl_len, doc_in.chain, doc_in.chain_len,
                   doc_in.chain_count) != 0 ||
        bundle_set(&p->ul, doc_in.ul, doc_in.ul_len, doc_in.chain, doc_in.chain_len,
                   doc_in.chain_count) != 0)
        return error("the server's answer holds no usable licenses");
    if (read_leaf(p->pl.der[0], p->pl.len[0], X509_KIND_PUBLISHING, "the publishing license",
                  &p->pl_info) != 0 ||
        read_leaf(p->ul.der[0], p->ul.len[0], X509_KIND_USE, "the use license", &p->ul_info) != 0 ||
        verify_received(c, &p->pl, "the publishing license") != 0 ||
        verify_received(c, &p->ul, "the use license") != 0 ||
        check_use_license(&p->ul_info, rac_info, &p->pl_info) != 0)
        return 1;
    return 0;
}

static int load_rac(const char *path, struct bundle *rac, struct x509_info *info)
{
    if (load_bundle(path, "RAC", rac) != 0 ||
        read_leaf(rac->der[0], rac->len[0], X509_KIND_RAC, path, info) != 0)
        return 1;
    return 0;
}

static int cmd_publish(struct client *c, const struct args *a)
{
    static struct bundle rac;
    static struct published p;
    static char pl_pem[BUNDLE_TEXT_MAX], ul_pem[BUNDLE_TEXT_MAX];
    struct x509_info rac_info;
    char id[2 * X509_CONTENT_ID_LEN + 1], rights[GRANT_TEXT_MAX];
    size_t pl_len = 0, ul_len = 0;

    if (grants_into_request(a) != 0 || load_rac(a->val[OPT_RAC], &rac, &rac_info) != 0 ||
        publish(c, a, &rac, &rac_info, &p) != 0)
        return 1;
    if (bundle_pem(&p.pl, pl_pem, sizeof(pl_pem), &pl_len) != 0 ||
        bundle_pem(&p.ul, ul_pem, sizeof(ul_pem), &ul_len) != 0)
        return error("the licenses do not fit in PEM");
    if (write_pair(a->val[OPT_PL], pl_pem, pl_len, a->val[OPT_UL], ul_pem, ul_len) != 0)
        return 1;
    hex_text(p.pl_info.content.id, X509_CONTENT_ID_LEN, id, sizeof(id));
    rights_text(p.ul_info.content.grants[0].rights, rights);
    printf("published content %s: wrote %s and %s (your rights: %s)\n", id, a->val[OPT_PL],
           a->val[OPT_UL], rights);
    return 0;
}

/* Ask for the RAC holder's use license for the PL; the UL checked against both. */
static int license(const struct client *c, const char *rac_path, const struct bundle *rac,
                   const struct x509_info *rac_info, const struct bundle *pl,
                   const struct x509_info *pl_info, struct bundle *ul, struct x509_info *ul_info)
{
    doc_out.kind = DOC_LICENSE_REQUEST;
    if (verify_received(c, rac, rac_path) != 0 || rac_chain_into_request(rac, rac_path) != 0)
        return 1;
    memcpy(doc_out.pl, pl->der[0], pl->len[0]);
    doc_out.pl_len = pl->len[0];
    if (exchange(c, "/v1/license", DOC_LICENSE_RESPONSE) != 0)
        return 1;
    if (bundle_set(ul, doc_in.ul, doc_in.ul_len, doc_in.chain, doc_in.chain_len,
                   doc_in.chain_count) != 0)
        return error("the server's answer holds no usable use license");
    if (read_leaf(ul->der[0], ul->len[0], X509_KIND_USE, "the use license", ul_info) != 0 ||
        verify_received(c, ul, "the use license") != 0 ||
        check_use_license(ul_info, rac_info, pl_info) != 0)
        return 1;
    return 0;
}

/* A PL from a file comes from whoever sent it: with --anchor it is judged like one received. */
static int load_pl(const struct client *c, const char *path, struct bundle *pl,
                   struct x509_info *info)
{
    if (load_bundle(path, "publishing license", pl) != 0 ||
        read_leaf(pl->der[0], pl->len[0], X509_KIND_PUBLISHING, path, info) != 0 ||
        verify_received(c, pl, path) != 0)
        return 1;
    return 0;
}

static int cmd_license(struct client *c, const struct args *a)
{
    static struct bundle rac, pl, ul;
    static char pem[BUNDLE_TEXT_MAX];
    struct x509_info rac_info, pl_info, ul_info;
    char id[2 * X509_CONTENT_ID_LEN + 1], rights[GRANT_TEXT_MAX];
    size_t len = 0;

    if (load_rac(a->val[OPT_RAC], &rac, &rac_info) != 0 ||
        load_pl(c, a->val[OPT_PL], &pl, &pl_info) != 0 ||
        license(c, a->val[OPT_RAC], &rac, &rac_info, &pl, &pl_info, &ul, &ul_info) != 0)
        return 1;
    if (bundle_pem(&ul, pem, sizeof(pem), &len) != 0)
        return error("the use license does not fit in PEM");
    int err = file_write(a->val[OPT_UL], pem, len, 0644, false);
    if (err != 0)
        return error("cannot write %s: %s", a->val[OPT_UL], strerror(-err));
    hex_text(ul_info.content.id, X509_CONTENT_ID_LEN, id, sizeof(id));
    rights_text(ul_info.content.grants[0].rights, rights);
    printf("licensed %s for content %s: %s; wrote %s\n", ul_info.content.grants[0].user, id, rights,
           a->val[OPT_UL]);
    return 0;
}

/* The key and its RAC, which must belong together. */
static int load_identity(const struct args *a, struct userkey **key, struct bundle *rac,
                         struct x509_info *rac_info)
{
    if (load_key(a->val[OPT_KEY], key) != 0 || load_rac(a->val[OPT_RAC], rac, rac_info) != 0)
        return 1;
    if (!userkey_holds(*key, rac_info->spki, rac_info->spki_len))
        return error("the RAC %s is not for the key %s", a->val[OPT_RAC], a->val[OPT_KEY]);
    return 0;
}

static int open_document(const char *path, int *fd)
{
    struct stat st;

    *fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (*fd < 0)
        return error("cannot read %s: %s", path, strerror(errno));
    if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(*fd);
        *fd = -1;
        return error("%s is not a regular file", path);
    }
    return 0;
}

static int cmd_protect(struct client *c, const struct args *a)
{
    static struct bundle rac;
    static struct published p;
    static char pl_pem[BUNDLE_TEXT_MAX];
    char signet_path[FILES_PATH_MAX], pl_path[FILES_PATH_MAX];
    char id[2 * X509_CONTENT_ID_LEN + 1];
    uint8_t content_key[SEALED_KEY_LEN];
    struct outfile sealed = {.fd = -1}, license_file = {.fd = -1};
    struct userkey *key = NULL;
    struct x509_info rac_info;
    const char *why = "";
    size_t pem_len = 0;
    int in = -1, ret = 1, err;

    if (snprintf(signet_path, sizeof(signet_path), "%s" SIGNET_SUFFIX, a->file) >=
            (int)sizeof(signet_path) ||
        snprintf(pl_path, sizeof(pl_path), "%s" SIGNET_SUFFIX PL_SUFFIX, a->file) >=
            (int)sizeof(pl_path))
        return error("path too long");
    if (grants_into_request(a) != 0 || open_document(a->file, &in) != 0)
        return 1;
    /* Before anything is published: both names must be free. */
    err = outfile_open(&sealed, signet_path, 0644, true);
    if (err != 0) {
        error("%s: %s", signet_path, err == -EEXIST ? "exists (not overwriting)" : strerror(-err));
        goto out;
    }
    err = outfile_open(&license_file, pl_path, 0644, true);
    if (err != 0) {
        error("%s: %s", pl_path, err == -EEXIST ? "exists (not overwriting)" : strerror(-err));
        goto out;
    }
    if (load_identity(a, &key, &rac, &rac_info) != 0 || publish(c, a, &rac, &rac_info, &p) != 0)
        goto out;
    if (userkey_unwrap(key, p.ul_info.content.wrapped, p.ul_info.content.wrapped_len, content_key,
                       sizeof(content_key), &why) != 0) {
        error("the use license: %s", why);
        goto out;
    }
    if (sealed_encrypt(in, &sealed, content_key, p.pl_info.content.id, &why) != 0) {
        error("%s: %s", a->file, why);
        goto out;
    }
    if (bundle_pem(&p.pl, pl_pem, sizeof(pl_pem), &pem_len) != 0) {
        error("the publishing license does not fit in PEM");
        goto out;
    }
    err = outfile_write(&license_file, pl_pem, pem_len);
    if (err == 0)
        err = outfile_commit(&license_file);
    if (err != 0) {
        error("cannot write %s: %s", pl_path, strerror(-err));
        goto out;
    }
    /* The license first: a .signet file is never without the license that opens it. */
    err = outfile_commit(&sealed);
    if (err != 0) {
        unlink(pl_path);
        error("cannot write %s: %s", signet_path, strerror(-err));
        goto out;
    }
    hex_text(p.pl_info.content.id, X509_CONTENT_ID_LEN, id, sizeof(id));
    printf("protected %s as %s (content %s), publishing license %s\n", a->file, signet_path, id,
           pl_path);
    ret = 0;
out:
    wipe(content_key, sizeof(content_key));
    outfile_abort(&sealed);
    outfile_abort(&license_file);
    userkey_free(key);
    if (in >= 0)
        close(in);
    return ret;
}

static int cmd_open(struct client *c, const struct args *a)
{
    static struct bundle rac, pl, ul;
    char pl_path[FILES_PATH_MAX], out_path[FILES_PATH_MAX], rights[GRANT_TEXT_MAX];
    uint8_t content_key[SEALED_KEY_LEN], id[SEALED_ID_LEN];
    struct outfile plain = {.fd = -1};
    struct userkey *key = NULL;
    struct x509_info rac_info, pl_info, ul_info;
    const char *why = "";
    size_t flen = strlen(a->file), slen = strlen(SIGNET_SUFFIX);
    int in = -1, ret = 1, err;

    if (snprintf(pl_path, sizeof(pl_path), "%s" PL_SUFFIX, a->file) >= (int)sizeof(pl_path))
        return error("path too long");
    if (a->val[OPT_OUT]) {
        if (snprintf(out_path, sizeof(out_path), "%s", a->val[OPT_OUT]) >= (int)sizeof(out_path))
            return error("path too long");
    } else if (flen > slen && strcmp(a->file + flen - slen, SIGNET_SUFFIX) == 0) {
        snprintf(out_path, sizeof(out_path), "%.*s", (int)(flen - slen), a->file);
    } else {
        return error("%s does not end in " SIGNET_SUFFIX ": give --out FILE", a->file);
    }
    if (open_document(a->file, &in) != 0)
        return 1;
    if (sealed_read_id(in, id, &why) != 0) {
        error("%s: %s", a->file, why);
        goto out;
    }
    if (load_pl(c, pl_path, &pl, &pl_info) != 0)
        goto out;
    if (memcmp(id, pl_info.content.id, SEALED_ID_LEN) != 0) {
        error("%s is the license of other content than %s", pl_path, a->file);
        goto out;
    }
    err = outfile_open(&plain, out_path, 0600, true);
    if (err != 0) {
        error("%s: %s", out_path, err == -EEXIST ? "exists (not overwriting)" : strerror(-err));
        goto out;
    }
    if (load_identity(a, &key, &rac, &rac_info) != 0 ||
        license(c, a->val[OPT_RAC], &rac, &rac_info, &pl, &pl_info, &ul, &ul_info) != 0)
        goto out;
    uint32_t granted = ul_info.content.grants[0].rights;
    rights_text(granted, rights);
    /* The client honours the license, as rights-management applications do: opening shows the
     * document, which takes view (or owner, which holds every right). */
    if (!(granted & (X509_GRANT_VIEW | X509_GRANT_OWNER))) {
        error("not granted: the use license gives %s, not view", rights);
        goto out;
    }
    if (userkey_unwrap(key, ul_info.content.wrapped, ul_info.content.wrapped_len, content_key,
                       sizeof(content_key), &why) != 0) {
        error("the use license: %s", why);
        goto out;
    }
    if (sealed_decrypt(in, &plain, content_key, &why) != 0) {
        error("%s: %s", a->file, why);
        goto out;
    }
    err = outfile_commit(&plain);
    if (err != 0) {
        error("cannot write %s: %s", out_path, strerror(-err));
        goto out;
    }
    printf("opened %s into %s (your rights: %s)\n", a->file, out_path, rights);
    ret = 0;
out:
    wipe(content_key, sizeof(content_key));
    outfile_abort(&plain);
    userkey_free(key);
    if (in >= 0)
        close(in);
    return ret;
}

/* ---- show ---- */

static void show_sealed(const char *path, const uint8_t id[SEALED_ID_LEN], int fd)
{
    struct stat st;
    char hex[2 * SEALED_ID_LEN + 1];

    hex_text(id, SEALED_ID_LEN, hex, sizeof(hex));
    printf("kind:        protected file (SIGNET1)\n");
    printf("content id:  %s\n", hex);
    if (fstat(fd, &st) == 0)
        printf("content:     %llu bytes, AES-256-GCM\n",
               (unsigned long long)st.st_size - SEALED_HEADER_LEN - SEALED_TAG_LEN);
    printf("license:     %s" PL_SUFFIX "\n", path);
}

static void show_names(const uint8_t *der, size_t len)
{
    mbedtls_x509_crt crt;
    char dn[256];

    mbedtls_x509_crt_init(&crt);
    if (mbedtls_x509_crt_parse_der(&crt, der, len) == 0) {
        if (mbedtls_x509_dn_gets(dn, sizeof(dn), &crt.subject) > 0)
            printf("subject:     %s\n", dn);
        if (mbedtls_x509_dn_gets(dn, sizeof(dn), &crt.issuer) > 0)
            printf("issuer:      %s\n", dn);
    }
    mbedtls_x509_crt_free(&crt);
}

static void show_rights(uint32_t rights)
{
    static const char *const names[] = {"sub-enroll", "certify", "issue-use-licenses",
                                        "issue-publishing-licenses"};
    bool any = false;

    printf("rights:     ");
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (rights & (1u << i)) {
            printf("%s%s", any ? ", " : " ", names[i]);
            any = true;
        }
    printf("%s\n", any ? "" : " none");
}

static void show_info(const struct client *c, const struct x509_info *info, const uint8_t *der,
                      size_t len)
{
    char from[TIME_TEXT_MAX], until[TIME_TEXT_MAX], hex[2 * X509_CONTENT_ID_LEN + 1],
        rights[GRANT_TEXT_MAX];
    char serial[2 * sizeof(info->serial) + 1];

    printf("kind:        %s%s\n", kind_name(info->kind),
           info->kind == X509_KIND_NONE && info->ca ? " (CA)" : "");
    show_names(der, len);
    hex_text(info->serial, info->serial_len, serial, sizeof(serial));
    printf("serial:      %s\n", serial);
    time_text(&info->not_before, from);
    time_text(&info->not_after, until);
    printf("valid:       %s to %s%s\n", from, until,
           x509_time_cmp(&c->now, &info->not_after) > 0    ? " (expired)"
           : x509_time_cmp(&c->now, &info->not_before) < 0 ? " (not yet valid)"
                                                           : "");
    if (info->rights || info->ca)
        show_rights(info->rights);
    if (info->cluster_url[0])
        printf("cluster url: %s\n", info->cluster_url);
    if (!info->has_content)
        return;
    hex_text(info->content.id, X509_CONTENT_ID_LEN, hex, sizeof(hex));
    printf("content id:  %s\n", hex);
    printf("owner:       %s\n", info->content.owner);
    for (size_t i = 0; i < info->content.grant_count && i < X509_GRANTS_MAX; i++) {
        rights_text(info->content.grants[i].rights, rights);
        printf("grant:       %s: %s\n", info->content.grants[i].user, rights);
    }
    printf("wrapped key: %zu bytes (RSA-OAEP)\n", info->content.wrapped_len);
}

static int cmd_show(struct client *c, const struct args *a)
{
    static struct bundle b;
    static struct x509_info info, up[BUNDLE_MAX - 1];
    uint8_t id[SEALED_ID_LEN];
    const char *why = "";
    int fd = -1;

    if (open_document(a->file, &fd) != 0)
        return 1;
    bool sealed = sealed_read_id(fd, id, &why) == 0;
    if (sealed)
        show_sealed(a->file, id, fd);
    close(fd);
    if (sealed)
        return 0;
    if (load_bundle(a->file, "certificate", &b) != 0)
        return 1;
    if (x509_read(b.der[0], b.len[0], &info, &why) != 0)
        return error("%s: %s", a->file, why);
    for (size_t i = 1; i < b.count; i++)
        if (x509_read(b.der[i], b.len[i], &up[i - 1], &why) != 0)
            return error("%s: chain certificate %zu: %s", a->file, i, why);
    /* Judged before anything is printed: a refusal prints nothing but the reason. */
    if (c->has_anchor && verify_received(c, &b, a->file) != 0)
        return 1;
    show_info(c, &info, b.der[0], b.len[0]);
    for (size_t i = 1; i < b.count; i++)
        printf("chain:       CN=%s%s\n", up[i - 1].cn, up[i - 1].ca ? " (CA)" : "");
    if (c->has_anchor)
        printf("verified:    chains to the anchor %s\n", a->val[OPT_ANCHOR]);
    return 0;
}

/* ---- main ---- */

/* mbedTLS's random generator (used by the document parser) from OpenSSL's. */
static int rng_from_openssl(void *ctx, uint8_t *out, size_t len)
{
    (void)ctx;
    return random_bytes(out, len);
}

/* --id-cert/--id-key judged, and certify's name settled, before any connection: 0, or 2 (a
 * bad command line) with the error said. */
static int client_identity(struct client *c, const struct args *a)
{
    const char *cert = a->val[OPT_ID_CERT], *name = a->val[OPT_NAME];

    c->name = name;
    if (!cert)
        return 0;
    if (identity_load(cert, a->val[OPT_ID_KEY], &c->identity) != 0)
        return 2;
    c->has_identity = true;
    c->peer.id_cert = c->identity.cert_path;
    c->peer.id_key = c->identity.key_path;
    if (strcmp(commands[a->command].name, "certify") != 0)
        return 0;
    /* A certificate without a usable name is the appliance's to refuse, when --name says who. */
    if (!c->identity.has_name && !name)
        return error("--id-cert %s %s: give --name", cert, c->identity.no_name_why) + 1;
    if (name && c->identity.has_name && !x509_user_name_equal(name, c->identity.name))
        return error("--name %s is not the name in --id-cert (%s)", name, c->identity.name) + 1;
    if (!name)
        c->name = c->identity.name;
    return 0;
}

/* A test (or a user replaying a decision) sets the clock: YYYY-MM-DDTHH:MM:SSZ, UTC. */
static int parse_now(const char *s, x509_time *out)
{
    unsigned y, mo, d, h, mi, se;
    char z = 0, rest = 0;

    if (strlen(s) != 20 ||
        sscanf(s, "%4u-%2u-%2uT%2u:%2u:%2u%c%c", &y, &mo, &d, &h, &mi, &se, &z, &rest) != 7 ||
        z != 'Z' || y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
        mi > 59 || se > 59)
        return -EINVAL;
    *out = (x509_time){y, mo, d, h, mi, se};
    return 0;
}

static int client_init(struct client *c, const struct args *a)
{
    const char *why = "";

    c->now = to_x509(time(NULL));
    c->crls = &a->crls;
    const char *now = a->val[OPT_NOW] ? a->val[OPT_NOW] : getenv("SIGNET_CLIENT_NOW");
    if (now && parse_now(now, &c->now) != 0)
        return error("--now wants a UTC time as 2026-12-02T15:04:05Z, not '%.40s'", now);
    if (a->crls.count && !a->val[OPT_ANCHOR])
        return error("--crl needs --anchor (revocation is checked with the chain)");
    rng_set_source(rng_from_openssl, NULL);
    if (rng_init() != 0)
        return error("no random generator");
    if (a->val[OPT_ANCHOR]) {
        if (load_bundle(a->val[OPT_ANCHOR], "anchor", &c->anchor) != 0)
            return 1;
        c->has_anchor = true;
    }
    if (is_network(a->command) &&
        https_peer_init(&c->peer, a->val[OPT_URL], a->val[OPT_TLS_FINGERPRINT],
                        a->val[OPT_INSECURE] != NULL, &why) != 0)
        return error("%s", why);
    return client_identity(c, a);
}

int main(int argc, char **argv)
{
    static struct client c;
    struct args a;
    int ret = parse_args(argc, argv, &a);

    if (ret != 0)
        return ret == 1 ? 0 : 2;
    if (https_global_init() != 0)
        return error("cannot initialise libcurl");
    ret = client_init(&c, &a);
    if (ret == 0)
        ret = commands[a.command].run(&c, &a);
    https_global_free();
    return ret == 2 ? 2 : ret ? 1 : 0;
}
