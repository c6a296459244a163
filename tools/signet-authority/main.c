/*
 * tools/signet-authority — the Signet enrollment authority (docs/requirements.md R2-R6, R10, R11):
 * a host program whose root key lives in a PKCS#11 token. `init` makes the root, `issue` answers a
 * request file, `serve` answers requests over HTTP. README.md "signet-authority" shows the use.
 */
#define _POSIX_C_SOURCE 200809L /* fsync, getenv's friends */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit_verify.h"
#include "authority.h"
#include "lib/ipv4.h"
#include "mbedtls/platform_util.h"
#include "serve.h"

#define DEFAULT_MODULE "/usr/lib/softhsm/libsofthsm2.so"
#define PIN_ENV        "SIGNET_AUTHORITY_PIN"
#define PIN_MAX        256 /* far above any token's ulMaxPinLen */
#define PATH_MAX_LEN   4096

static const char usage[] =
    "usage: signet-authority COMMAND [OPTIONS]\n"
    "\n"
    "The Signet enrollment authority: its root key lives in a PKCS#11 token; it issues server\n"
    "licensor certificates (SLCs) to appliances, from request files or over HTTP.\n"
    "\n"
    "commands:\n"
    "  init --out FILE [--cn NAME] [--years N] [--force]\n"
    "        generate the root key pair in the token (RSA-2048, sign only, never extractable),\n"
    "        self-sign the root certificate (N years, default 20), store it in the token and\n"
    "        write it as PEM; --force replaces an existing root\n"
    "  export-root --out FILE\n"
    "        write the stored root certificate as PEM again (no PIN needed)\n"
    "  issue --in REQUEST --out RESPONSE [--days N] [--armor] [--crl-url URL]\n"
    "        issue an SLC for an enrollment or renewal request (XML or armored; '-' reads\n"
    "        stdin), valid N days (default 365, never beyond the root); write the response as\n"
    "        XML, or armored with --armor\n"
    "  serve --listen 127.0.0.1:PORT [--days N] [--crl-url URL] [--hours N]\n"
    "        online enrollment and renewal over HTTP: POST /v1/enroll, GET /health, and\n"
    "        GET /v1/crl (the current CRL, DER); stops on SIGTERM or SIGINT\n"
    "  revoke SERIAL [--reason REASON]\n"
    "        revoke an SLC this authority issued (SERIAL: 32 hex digits); REASON one of\n"
    "        keyCompromise affiliationChanged superseded cessationOfOperation\n"
    "  crl --out FILE [--hours N] [--pem]\n"
    "        sign a CRL of every SLC revoked, valid N hours (default 168), DER or PEM\n"
    "  audit-verify FILE --anchor ROOT\n"
    "        check an appliance's audit export (its `audit export`) offline against the\n"
    "        authority root ROOT (PEM): every entry there, in order, unaltered, and sealed by\n"
    "        the appliance's audit key; names the first broken entry. Needs no token\n"
    "\n"
    "  --crl-url URL (issue, serve) puts a CRL distribution point into the SLCs issued\n"
    "\n"
    "options of every command:\n"
    "  --module PATH     PKCS#11 module (default " DEFAULT_MODULE ")\n"
    "  --token LABEL     the token's label (default: the only initialised token)\n"
    "  --pin-file FILE   the user PIN, first line of FILE; otherwise $" PIN_ENV "\n"
    "  -h, --help        this text\n";

enum opt {
    OPT_MODULE,
    OPT_TOKEN,
    OPT_PIN_FILE,
    OPT_OUT,
    OPT_IN,
    OPT_CN,
    OPT_YEARS,
    OPT_FORCE,
    OPT_DAYS,
    OPT_ARMOR,
    OPT_LISTEN,
    OPT_CRL_URL,
    OPT_HOURS,
    OPT_PEM,
    OPT_REASON,
    OPT_ANCHOR,
    OPT_COUNT
};

static const struct {
    const char *name;
    bool value;
    const char *commands; /* NULL: every command */
} opts[OPT_COUNT] = {
    [OPT_MODULE] = {"--module", true, NULL},
    [OPT_TOKEN] = {"--token", true, NULL},
    [OPT_PIN_FILE] = {"--pin-file", true, NULL},
    [OPT_OUT] = {"--out", true, " init export-root issue crl "},
    [OPT_IN] = {"--in", true, " issue "},
    [OPT_CN] = {"--cn", true, " init "},
    [OPT_YEARS] = {"--years", true, " init "},
    [OPT_FORCE] = {"--force", false, " init "},
    [OPT_DAYS] = {"--days", true, " issue serve "},
    [OPT_ARMOR] = {"--armor", false, " issue "},
    [OPT_LISTEN] = {"--listen", true, " serve "},
    [OPT_CRL_URL] = {"--crl-url", true, " issue serve "},
    [OPT_HOURS] = {"--hours", true, " crl serve "},
    [OPT_PEM] = {"--pem", false, " crl "},
    [OPT_REASON] = {"--reason", true, " revoke "},
    [OPT_ANCHOR] = {"--anchor", true, " audit-verify "},
};

struct args {
    size_t command;
    const char *val[OPT_COUNT]; /* "" for a given flag, NULL when absent */
    const char *operand;        /* revoke's SERIAL, audit-verify's FILE */
};

static int error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("signet-authority: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

static int cmd_init(struct authority *au, struct hsm *h, const struct args *a);
static int cmd_export_root(struct authority *au, struct hsm *h, const struct args *a);
static int cmd_issue(struct authority *au, struct hsm *h, const struct args *a);
static int cmd_serve(struct authority *au, struct hsm *h, const struct args *a);
static int cmd_revoke(struct authority *au, struct hsm *h, const struct args *a);
static int cmd_crl(struct authority *au, struct hsm *h, const struct args *a);
static int cmd_audit_verify(struct authority *au, struct hsm *h, const struct args *a);

static const struct {
    const char *name;
    int (*run)(struct authority *au, struct hsm *h, const struct args *a);
    bool needs_pin;
    enum opt required[2]; /* OPT_COUNT: none */
    bool operand;         /* takes one argument */
    bool offline;         /* needs no token */
} commands[] = {
    {"init", cmd_init, true, {OPT_OUT, OPT_COUNT}, false, false},
    {"export-root", cmd_export_root, false, {OPT_OUT, OPT_COUNT}, false, false},
    {"issue", cmd_issue, true, {OPT_IN, OPT_OUT}, false, false},
    {"serve", cmd_serve, true, {OPT_LISTEN, OPT_COUNT}, false, false},
    {"revoke", cmd_revoke, true, {OPT_COUNT, OPT_COUNT}, true, false},
    {"crl", cmd_crl, true, {OPT_OUT, OPT_COUNT}, false, false},
    {"audit-verify", cmd_audit_verify, false, {OPT_ANCHOR, OPT_COUNT}, true, true},
};
#define COMMANDS (sizeof(commands) / sizeof(commands[0]))

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
        if (s[0] != '-') {
            if (command && !a->operand &&
                (strcmp(command, "revoke") == 0 || strcmp(command, "audit-verify") == 0))
                a->operand = s;
            else if (command)
                return error("unexpected argument '%.64s' (see --help)", s) + 1;
            else
                command = s;
            continue;
        }
        int o = 0;
        while (o < OPT_COUNT && strcmp(opts[o].name, s) != 0)
            o++;
        if (o == OPT_COUNT)
            return error("unknown option '%.64s' (see --help)", s) + 1;
        if (a->val[o])
            return error("%s given twice", s) + 1;
        if (opts[o].value && i + 1 >= argc)
            return error("%s needs a value", s) + 1;
        a->val[o] = opts[o].value ? argv[++i] : "";
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
        if (a->val[o] && opts[o].commands && !strstr(opts[o].commands, padded))
            return error("%s does not apply to %s", opts[o].name, command) + 1;
    if (commands[a->command].operand && !a->operand)
        return error("%s needs %s", command,
                     commands[a->command].offline ? "a FILE" : "a SERIAL (32 hex digits)") +
               1;
    for (int r = 0; r < 2; r++) {
        enum opt o = commands[a->command].required[r];
        if (o != OPT_COUNT && (!a->val[o] || !a->val[o][0]))
            return error("%s needs %s", command, opts[o].name) + 1;
    }
    return 0;
}

/* A decimal number in [min, max], digits only. */
static int number(const char *s, const char *what, unsigned min, unsigned max, unsigned *out)
{
    unsigned long v = 0;
    size_t i = 0;

    for (; s[i] >= '0' && s[i] <= '9' && i < 6; i++)
        v = v * 10 + (unsigned long)(s[i] - '0');
    if (i == 0 || s[i] || v < min || v > max)
        return error("%s must be a number from %u to %u", what, min, max);
    *out = (unsigned)v;
    return 0;
}

/* Up to cap bytes of path ("-": stdin) into buf; more is an error. */
static int read_file(const char *path, uint8_t *buf, size_t cap, size_t *len, const char *what)
{
    bool is_stdin = strcmp(path, "-") == 0;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    int ret = 1;

    *len = 0;
    if (fd < 0)
        return error("cannot read %s %s: %s", what, path, strerror(errno));
    for (;;) {
        ssize_t n = read(fd, buf + *len, cap - *len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            error("cannot read %s %s: %s", what, path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        *len += (size_t)n;
        if (*len == cap) {
            uint8_t extra;
            if (read(fd, &extra, 1) > 0) {
                error("%s %s is larger than %zu bytes", what, path, cap);
                goto out;
            }
            break;
        }
    }
    ret = 0;
out:
    if (!is_stdin)
        close(fd);
    return ret;
}

/* Write data to path through path.tmp and a rename, so no half-written file is ever seen. */
static int write_file(const char *path, const char *data, size_t len)
{
    char tmp[PATH_MAX_LEN];
    int ret = 1, fd = -1;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return error("output path too long");
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return error("cannot write %s: %s", tmp, strerror(errno));
    for (size_t done = 0; done < len;) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto out;
        done += (size_t)n;
    }
    if (fsync(fd) != 0)
        goto out;
    if (close(fd) != 0) {
        fd = -1;
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) == 0)
        ret = 0;
out:
    if (fd >= 0)
        close(fd);
    if (ret != 0) {
        error("cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
    }
    return ret;
}

/* The user PIN from --pin-file (its first line) or the environment; never from argv. */
static int read_pin(const struct args *a, uint8_t pin[PIN_MAX + 1], size_t *len)
{
    if (a->val[OPT_PIN_FILE]) {
        if (read_file(a->val[OPT_PIN_FILE], pin, PIN_MAX, len, "PIN file") != 0)
            return 1;
        uint8_t *nl = memchr(pin, '\n', *len);
        if (nl)
            *len = (size_t)(nl - pin);
        if (*len && pin[*len - 1] == '\r')
            (*len)--;
    } else {
        const char *env = getenv(PIN_ENV);
        if (!env)
            env = "";
        *len = strnlen(env, PIN_MAX + 1);
        if (*len > PIN_MAX)
            return error("$%s is too long", PIN_ENV);
        memcpy(pin, env, *len);
    }
    if (*len == 0)
        return error("no PIN: give --pin-file FILE or set %s", PIN_ENV);
    return 0;
}

/* --crl-url: an http(s) URL short enough for the certificate profile, printable, no spaces. */
static int crl_url_ok(const char *url)
{
    if (!url)
        return 0;
    size_t len = strlen(url);
    bool scheme = strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0;
    bool clean = true;
    for (size_t i = 0; i < len; i++)
        clean = clean && url[i] > ' ' && url[i] < 0x7f;
    if (!scheme || !clean || len <= 8 || len > X509_URL_MAX)
        return error("--crl-url wants an http:// or https:// URL of at most %d characters",
                     X509_URL_MAX);
    return 0;
}

static int cmd_init(struct authority *au, struct hsm *h, const struct args *a)
{
    unsigned years = AUTHORITY_ROOT_YEARS;
    struct authority_issued res;
    char pem[2 * DOC_CERT_MAX];
    size_t pem_len = 0;
    const char *why = "";

    if (a->val[OPT_YEARS] &&
        number(a->val[OPT_YEARS], "--years", 1, AUTHORITY_YEARS_MAX, &years) != 0)
        return 1;
    if (authority_create(au, h, a->val[OPT_CN] ? a->val[OPT_CN] : AUTHORITY_CN, years,
                         a->val[OPT_FORCE] != NULL, &res, &why) != 0)
        return error("init: %s", why);
    if (authority_root_pem(au, pem, sizeof(pem), &pem_len) != 0 ||
        write_file(a->val[OPT_OUT], pem, pem_len) != 0)
        return error("the root is in the token; 'export-root --out FILE' writes it again");
    printf("authority root created: CN=%s, O=%s serial %s notAfter %s; wrote %s\n", res.cn,
           AUTHORITY_ORG, res.serial, res.not_after, a->val[OPT_OUT]);
    return 0;
}

static int cmd_export_root(struct authority *au, struct hsm *h, const struct args *a)
{
    char pem[2 * DOC_CERT_MAX];
    size_t pem_len = 0;
    const char *why = "";

    if (authority_load(au, h, false, &why) != 0)
        return error("%s", why);
    if (authority_root_pem(au, pem, sizeof(pem), &pem_len) != 0)
        return error("the stored root does not fit in PEM");
    return write_file(a->val[OPT_OUT], pem, pem_len);
}

static int cmd_issue(struct authority *au, struct hsm *h, const struct args *a)
{
    static uint8_t in[AUTHORITY_REQUEST_MAX];
    static char out[AUTHORITY_RESPONSE_MAX + 1];
    unsigned days = AUTHORITY_SLC_DAYS;
    size_t in_len = 0, out_len = 0;
    struct authority_issued res;
    const char *why = "";

    if (a->val[OPT_DAYS] && number(a->val[OPT_DAYS], "--days", 1, AUTHORITY_DAYS_MAX, &days) != 0)
        return 1;
    if (read_file(a->val[OPT_IN], in, sizeof(in), &in_len, "request") != 0)
        return 1;
    if (crl_url_ok(a->val[OPT_CRL_URL]) != 0)
        return 1;
    if (authority_load(au, h, true, &why) != 0)
        return error("%s", why);
    au->crl_url = a->val[OPT_CRL_URL];
    if (authority_issue(au, (const char *)in, in_len, days, a->val[OPT_ARMOR] != NULL, out,
                        sizeof(out), &out_len, &res, &why) != 0)
        return error("request refused: %s", why);
    if (write_file(a->val[OPT_OUT], out, out_len) != 0)
        return 1;
    printf("issued %s SLC: CN=%s, O=%s serial %s notAfter %s%s\n",
           res.kind == DOC_RENEWAL ? "renewal" : "enrollment", res.cn, AUTHORITY_SLC_ORG,
           res.serial, res.not_after, res.clamped ? " (clamped to the authority root)" : "");
    return 0;
}

static int cmd_serve(struct authority *au, struct hsm *h, const struct args *a)
{
    unsigned days = AUTHORITY_SLC_DAYS, port = 0, hours = AUTHORITY_CRL_HOURS;
    uint32_t addr = 0;
    char host[IPV4_TEXT_MAX + 1];
    const char *why = "";

    if (a->val[OPT_DAYS] && number(a->val[OPT_DAYS], "--days", 1, AUTHORITY_DAYS_MAX, &days) != 0)
        return 1;
    const char *colon = strrchr(a->val[OPT_LISTEN], ':');
    size_t host_len = colon ? (size_t)(colon - a->val[OPT_LISTEN]) : 0;
    if (!colon || host_len >= sizeof(host))
        return error("--listen wants an IPv4 address and a port, like 127.0.0.1:8480");
    memcpy(host, a->val[OPT_LISTEN], host_len);
    host[host_len] = '\0';
    if (ipv4_parse(host, &addr) != 0)
        return error("--listen wants an IPv4 address and a port, like 127.0.0.1:8480");
    if (number(colon + 1, "the --listen port", 0, 65535, &port) != 0)
        return 1;
    if (a->val[OPT_HOURS] &&
        number(a->val[OPT_HOURS], "--hours", 1, AUTHORITY_CRL_HOURS_MAX, &hours) != 0)
        return 1;
    if (crl_url_ok(a->val[OPT_CRL_URL]) != 0)
        return 1;
    if (authority_load(au, h, true, &why) != 0)
        return error("%s", why);
    au->crl_url = a->val[OPT_CRL_URL];
    int ret = serve_run(au, addr, (uint16_t)port, days, hours);
    if (ret != 0)
        return error("cannot listen on %s: %s", a->val[OPT_LISTEN], strerror(-ret));
    return 0;
}

/* 32 hex digits, as `signet-authority issue` prints serials. */
static int parse_serial(const char *s, uint8_t serial[X509_SERIAL_LEN])
{
    if (strlen(s) != 2 * X509_SERIAL_LEN)
        return -1;
    for (size_t i = 0; i < 2 * X509_SERIAL_LEN; i++) {
        char c = s[i];
        int v = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (v < 0)
            return -1;
        if (i % 2 == 0)
            serial[i / 2] = (uint8_t)(v << 4);
        else
            serial[i / 2] |= (uint8_t)v;
    }
    return 0;
}

static int cmd_revoke(struct authority *au, struct hsm *h, const struct args *a)
{
    uint8_t serial[X509_SERIAL_LEN];
    enum x509_crl_reason reason = X509_CRL_REASON_UNSPECIFIED;
    const char *why = "";

    if (parse_serial(a->operand, serial) != 0)
        return error("SERIAL must be 32 hex digits");
    if (a->val[OPT_REASON] && x509_crl_reason_parse(a->val[OPT_REASON], &reason, &why) != 0)
        return error("--reason: %s", why);
    if (authority_load(au, h, true, &why) != 0)
        return error("%s", why);
    if (authority_revoke(au, serial, reason, &why) != 0)
        return error("revoke %s: %s", a->operand, why);
    printf("revoked %s (%s); 'crl --out FILE' signs a CRL that says so\n", a->operand,
           x509_crl_reason_name(reason));
    return 0;
}

static int cmd_crl(struct authority *au, struct hsm *h, const struct args *a)
{
    static uint8_t der[X509_CRL_DER_MAX];
    static char pem[X509_CRL_DER_MAX * 4 / 3 + X509_CRL_DER_MAX / 32 + 128];
    unsigned hours = AUTHORITY_CRL_HOURS;
    struct authority_crl_info info;
    size_t len = 0, pem_len = 0;
    const char *why = "";

    if (a->val[OPT_HOURS] &&
        number(a->val[OPT_HOURS], "--hours", 1, AUTHORITY_CRL_HOURS_MAX, &hours) != 0)
        return 1;
    if (authority_load(au, h, true, &why) != 0)
        return error("%s", why);
    if (authority_crl(au, hours, der, sizeof(der), &len, &info, &why) != 0)
        return error("crl: %s", why);
    if (a->val[OPT_PEM]) {
        if (x509_crl_pem_write(der, len, pem, sizeof(pem), &pem_len) != 0)
            return error("the CRL does not fit in PEM");
        if (write_file(a->val[OPT_OUT], pem, pem_len) != 0)
            return 1;
    } else if (write_file(a->val[OPT_OUT], (const char *)der, len) != 0)
        return 1;
    printf("CRL number %llu: %zu revoked, nextUpdate %s; wrote %s\n",
           (unsigned long long)info.number, info.entries, info.next_update, a->val[OPT_OUT]);
    return 0;
}

static int cmd_audit_verify(struct authority *au, struct hsm *h, const struct args *a)
{
    (void)au;
    (void)h;
    return audit_verify_export(a->operand, a->val[OPT_ANCHOR], stdout) ? 1 : 0;
}

int main(int argc, char **argv)
{
    static struct authority au;
    struct hsm h = {0};
    struct args a;
    uint8_t pin[PIN_MAX + 1];
    size_t pin_len = 0;
    int ret = parse_args(argc, argv, &a);

    if (ret != 0)
        return ret == 1 ? 0 : 2;
    if (commands[a.command].offline)
        return commands[a.command].run(&au, &h, &a) ? 1 : 0;
    if (commands[a.command].needs_pin) {
        ret = read_pin(&a, pin, &pin_len);
        if (ret != 0)
            goto out;
    }
    ret = hsm_open(&h, a.val[OPT_MODULE] ? a.val[OPT_MODULE] : DEFAULT_MODULE, a.val[OPT_TOKEN]);
    if (ret != 0) {
        error("token: %s", h.why);
        goto out;
    }
    if (pin_len && hsm_login(&h, pin, pin_len) != 0) {
        ret = error("token login failed: %s", h.why);
        goto out;
    }
    mbedtls_platform_zeroize(pin, sizeof(pin));
    /* After login: a token may serve its RNG to logged-in sessions only. */
    if (authority_rng_bind(&h) != 0) {
        ret = error("the token's random generator does not answer");
        goto out;
    }
    ret = commands[a.command].run(&au, &h, &a);
out:
    mbedtls_platform_zeroize(pin, sizeof(pin));
    hsm_close(&h);
    return ret ? 1 : 0;
}
