/*
 * tests/unit/test_doc.c — crypto/doc: the enrollment and license documents and the armor.
 *
 * Known-good and known-bad documents live as data in tests/unit/vectors/doc/ (request.txt,
 * response.txt, license.txt, armor.txt: one case per line, the expected result and a piece of the
 * reason); the cases that need size (an entity bomb, 1 MB, every prefix of a document, every bound)
 * are generated here. Every parse goes through a buffer exactly as long as the input, so ASan sees
 * any read past it, and must leave the crypto heap as it found it.
 */
#include "crypto/doc.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "crypto/heap.h"
#include "crypto/x509.h"
#include "mbedtls/base64.h"
#include "signet_config.h"
#include "unit.h"

#ifndef DOC_VECTORS
#define DOC_VECTORS "tests/unit/vectors/doc"
#endif

/* ---- the RNG crypto/doc salts expat with: a fake that counts calls ---- */

enum fake_rng_mode { RNG_UNSEEDED, RNG_ZEROS, RNG_COUNTER };
static enum fake_rng_mode rng_mode = RNG_COUNTER;
static unsigned rng_calls;
static uint8_t rng_next = 1;

int rng_random(void *p_rng, unsigned char *out, size_t len);
int rng_random(void *p_rng, unsigned char *out, size_t len)
{
    (void)p_rng;
    rng_calls++;
    if (rng_mode == RNG_UNSEEDED)
        return -1;
    for (size_t i = 0; i < len; i++)
        out[i] = rng_mode == RNG_ZEROS ? 0 : rng_next++;
    return 0;
}

/* ---- helpers ---- */

static size_t heap_in_use(void)
{
    struct crypto_heap_stats st;
    crypto_heap_stats(&st);
    return st.in_use;
}

/* A minimal DER SEQUENCE of exactly total bytes (total 2..129 or 131..), contents from seed. */
static size_t make_der(uint8_t *buf, size_t total, uint8_t seed)
{
    size_t h = total - 2 < 0x80 ? 2 : total - 3 < 0x100 ? 3 : 4;
    size_t n = total - h;

    buf[0] = 0x30;
    if (h == 2) {
        buf[1] = (uint8_t)n;
    } else if (h == 3) {
        buf[1] = 0x81;
        buf[2] = (uint8_t)n;
    } else {
        buf[1] = 0x82;
        buf[2] = (uint8_t)(n >> 8);
        buf[3] = (uint8_t)n;
    }
    for (size_t i = 0; i < n; i++)
        buf[h + i] = (uint8_t)(seed + i * 7);
    return total;
}

static void fill_text(char *s, size_t n, char c)
{
    memset(s, c, n);
    s[n] = '\0';
}

static void sample_request(struct doc_request *r, enum doc_revocation rev)
{
    memset(r, 0, sizeof(*r));
    r->kind = DOC_ENROLLMENT;
    strcpy(r->server_name, "root1.example.com");
    strcpy(r->cluster_url, "https://rms.example.com/_wmcs");
    strcpy(r->sku, "SIGNET-ROOT");
    strcpy(r->version, "1.0.0");
    r->revocation = rev;
    if (rev == DOC_REVOCATION_CUSTOM)
        r->revoker_key_len = make_der(r->revoker_key, 91, 3);
    r->public_key_len = make_der(r->public_key, 294, 1);
    r->pop_len = make_der(r->pop, 600, 2);
}

static void sample_response(struct doc_response *r, size_t chain)
{
    memset(r, 0, sizeof(*r));
    r->slc_len = make_der(r->slc, 700, 9);
    r->chain_count = chain;
    for (size_t i = 0; i < chain; i++)
        r->chain_len[i] = make_der(r->chain[i], 500 + 40 * i, (uint8_t)(20 + i));
}

static int request_equal(const struct doc_request *a, const struct doc_request *b)
{
    return a->kind == b->kind && strcmp(a->server_name, b->server_name) == 0 &&
           strcmp(a->cluster_url, b->cluster_url) == 0 && strcmp(a->sku, b->sku) == 0 &&
           strcmp(a->version, b->version) == 0 && a->revocation == b->revocation &&
           a->revoker_key_len == b->revoker_key_len &&
           memcmp(a->revoker_key, b->revoker_key, a->revoker_key_len) == 0 &&
           a->public_key_len == b->public_key_len &&
           memcmp(a->public_key, b->public_key, a->public_key_len) == 0 &&
           a->pop_len == b->pop_len && memcmp(a->pop, b->pop, a->pop_len) == 0;
}

static int response_equal(const struct doc_response *a, const struct doc_response *b)
{
    if (a->slc_len != b->slc_len || memcmp(a->slc, b->slc, a->slc_len) != 0 ||
        a->chain_count != b->chain_count)
        return 0;
    for (size_t i = 0; i < a->chain_count; i++)
        if (a->chain_len[i] != b->chain_len[i] ||
            memcmp(a->chain[i], b->chain[i], a->chain_len[i]) != 0)
            return 0;
    return 1;
}

static int all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return 0;
    return 1;
}

static int one_line(const char *why)
{
    return why && why[0] && !strchr(why, '\n') && strlen(why) < 120;
}

/* Parse a copy of xml[len] held in a buffer of exactly len bytes. */
static int parse_request(const void *xml, size_t len, struct doc_request *r, const char **why)
{
    char *copy = malloc(len ? len : 1);
    memcpy(copy, xml, len);
    int ret = doc_request_parse(copy, len, r, why);
    free(copy);
    return ret;
}

static int parse_response(const void *xml, size_t len, struct doc_response *r, const char **why)
{
    char *copy = malloc(len ? len : 1);
    memcpy(copy, xml, len);
    int ret = doc_response_parse(copy, len, r, why);
    free(copy);
    return ret;
}

/* ---- the vector files ---- */

struct subst {
    const char *key, *value;
};

static const struct subst request_subst[] = {
    {"{decl}", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"},
    {"{req}", "<SignetRequest version=\"1\" kind=\"enrollment\">"},
    {"{/req}", "</SignetRequest>"},
    {"{name}", "<ServerName>root1.example.com</ServerName>"},
    {"{url}", "<ClusterUrl>https://rms.example.com/_wmcs</ClusterUrl>"},
    {"{sku}", "<Sku>SIGNET-ROOT</Sku>"},
    {"{ver}", "<Version>1.0.0</Version>"},
    {"{rev}", "<Revocation type=\"standard\"/>"},
    {"{key}", "<PublicKey>MAMCAQE=</PublicKey>"},
    {"{pop}", "<ProofOfPossession>MAMCAQI=</ProofOfPossession>"},
    {"{body}", "<ServerName>root1.example.com</ServerName>"
               "<ClusterUrl>https://rms.example.com/_wmcs</ClusterUrl><Sku>SIGNET-ROOT</Sku>"
               "<Version>1.0.0</Version><Revocation type=\"standard\"/>"
               "<PublicKey>MAMCAQE=</PublicKey><ProofOfPossession>MAMCAQI=</ProofOfPossession>"},
    {NULL, NULL},
};

static const struct subst response_subst[] = {
    {"{decl}", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"},
    {"{resp}", "<SignetResponse version=\"1\">"},
    {"{/resp}", "</SignetResponse>"},
    {"{slc}", "<ServerLicensorCertificate>MAMCAQE=</ServerLicensorCertificate>"},
    {"{cert}", "<Certificate>MAMCAQI=</Certificate>"},
    {"{chain}", "<Chain><Certificate>MAMCAQI=</Certificate></Chain>"},
    {NULL, NULL},
};

static const struct subst armor_subst[] = {
    {"{B}", "-----BEGIN "},
    {"{E}", "-----END "},
    {"{D}", "-----"},
    {NULL, NULL},
};

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Expand placeholders and C escapes of src[n] into out (cap bytes); the length, or -1. */
static long expand(const char *src, size_t n, const struct subst *subst, char *out, size_t cap)
{
    size_t o = 0;

    for (size_t i = 0; i < n;) {
        const struct subst *s = subst;
        for (; s->key; s++)
            if (strncmp(src + i, s->key, strlen(s->key)) == 0 && strlen(s->key) <= n - i)
                break;
        if (s->key) {
            size_t v = strlen(s->value);
            if (o + v > cap)
                return -1;
            memcpy(out + o, s->value, v);
            o += v;
            i += strlen(s->key);
            continue;
        }
        char c = src[i++];
        if (c == '\\' && i < n) {
            char e = src[i++];
            if (e == 'n')
                c = '\n';
            else if (e == 'r')
                c = '\r';
            else if (e == 't')
                c = '\t';
            else if (e == 'x' && i + 1 < n && hexval(src[i]) >= 0 && hexval(src[i + 1]) >= 0) {
                c = (char)(hexval(src[i]) << 4 | hexval(src[i + 1]));
                i += 2;
            } else
                c = e;
        }
        if (o >= cap)
            return -1;
        out[o++] = c;
    }
    return (long)o;
}

static char *read_file(const char *name, size_t *len)
{
    char path[512];
    const char *dir = getenv("SIGNET_DOC_VECTORS");
    snprintf(path, sizeof(path), "%s/%s", dir ? dir : DOC_VECTORS, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(1 << 20);
    *len = fread(buf, 1, (1 << 20) - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static char *trim(char *s)
{
    while (*s == ' ')
        s++;
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ')
        s[--n] = '\0';
    return s;
}

/* One vector line split at its first fields-1 '|' (the last field is the rest, after one space). */
static int split(char *line, char **f, int fields)
{
    for (int i = 0; i < fields - 1; i++) {
        char *bar = strchr(line, '|');
        if (!bar)
            return -1;
        *bar = '\0';
        f[i] = trim(line);
        line = bar + 1;
    }
    if (*line == ' ')
        line++;
    f[fields - 1] = line;
    return 0;
}

static int expect_code(const char *s)
{
    if (strcmp(s, "OK") == 0)
        return 0;
    if (strcmp(s, "EINVAL") == 0)
        return -EINVAL;
    if (strcmp(s, "E2BIG") == 0)
        return -E2BIG;
    return 1; /* never returned by crypto/doc: the vector is malformed */
}

/* Run each line of a document vector file; the number of cases, or -1 after a failure. */
static int run_doc_vectors(const char *file, const struct subst *subst, int response)
{
    size_t len;
    char *text = read_file(file, &len);
    int cases = 0, lineno = 0, failed = 0;
    static char doc[8192];

    if (!text) {
        printf("# cannot read %s/%s\n", DOC_VECTORS, file);
        return -1;
    }
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *f[3];
        long n;
        if (split(line, f, 3) != 0 ||
            (n = expand(f[2], strlen(f[2]), subst, doc, sizeof(doc))) < 0) {
            printf("# %s:%d: malformed vector\n", file, lineno);
            free(text);
            return -1;
        }
        int want = expect_code(f[0]);
        const char *why = NULL;
        size_t before = heap_in_use();
        static struct doc_request rq;
        static struct doc_response rs;
        memset(&rq, 0xa5, sizeof(rq));
        memset(&rs, 0xa5, sizeof(rs));
        int got = response ? parse_response(doc, (size_t)n, &rs, &why)
                           : parse_request(doc, (size_t)n, &rq, &why);
        int ok = got == want && heap_in_use() == before;
        if (ok && want != 0)
            ok = one_line(why) && strstr(why, f[1]) &&
                 (response ? all_zero(&rs, sizeof(rs)) : all_zero(&rq, sizeof(rq)));
        if (!ok) {
            printf("# %s:%d: got %d (%s), want %s (%s)\n", file, lineno, got, why ? why : "-", f[0],
                   f[1]);
            failed = 1;
        }
        cases++;
    }
    free(text);
    return failed ? -1 : cases;
}

TEST(request_vectors)
{
    int n = run_doc_vectors("request.txt", request_subst, 0);
    CHECK(n > 100);
}

TEST(response_vectors)
{
    int n = run_doc_vectors("response.txt", response_subst, 1);
    CHECK(n > 30);
}

TEST(armor_vectors)
{
    size_t len;
    char *text = read_file("armor.txt", &len);
    static char doc[8192];
    int cases = 0, lineno = 0;

    CHECK(text != NULL);
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *f[4];
        long n;
        if (split(line, f, 4) != 0 ||
            (n = expand(f[3], strlen(f[3]), armor_subst, doc, sizeof(doc))) < 0) {
            printf("# armor.txt:%d: malformed vector\n", lineno);
            cases = -1;
            break;
        }
        uint8_t out[64], want[64] = {0};
        size_t olen = 99, wlen = 0;
        const char *why = NULL;
        int code = expect_code(f[0]);
        char *copy = malloc((size_t)n + 1);
        memcpy(copy, doc, (size_t)n);
        memset(out, 0x5a, sizeof(out));
        int got = doc_unarmor(copy, (size_t)n, f[2], out, sizeof(out), &olen, &why);
        free(copy);
        int ok = got == code;
        if (ok && code == 0) {
            for (const char *h = f[1]; h[0] && h[1] && wlen < sizeof(want); h += 2)
                want[wlen++] = (uint8_t)(hexval(h[0]) << 4 | hexval(h[1]));
            ok = olen == wlen && memcmp(out, want, wlen) == 0;
        } else if (ok) {
            /* nothing usable is left behind: no length, and what was written is wiped */
            ok = olen == 0 && one_line(why) && strstr(why, f[1]);
            for (size_t i = 0; ok && i < sizeof(out); i++)
                ok = out[i] == 0 || out[i] == 0x5a;
        }
        if (!ok) {
            printf("# armor.txt:%d: got %d (%s) olen %zu\n", lineno, got, why ? why : "-", olen);
            cases = -1;
            break;
        }
        cases++;
    }
    free(text);
    CHECK(cases > 40);
}

/* ---- round trips and the canonical form ---- */

TEST(request_round_trip)
{
    static const char *names[] = {"root1.example.com", "a", "<&>\"' ]]> & x",
                                  "Contoso Root Cluster #1"};
    static char xml[DOC_XML_MAX + 1];
    struct doc_request in, out;
    const char *why;
    size_t len;

    for (int kind = DOC_ENROLLMENT; kind <= DOC_SUBENROLLMENT; kind++) {
        for (int rev = DOC_REVOCATION_STANDARD; rev <= DOC_REVOCATION_CUSTOM; rev++) {
            for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
                sample_request(&in, (enum doc_revocation)rev);
                in.kind = (enum doc_request_kind)kind;
                strcpy(in.server_name, names[k]);
                CHECK_EQ(doc_request_write(&in, xml, sizeof(xml), &len), 0);
                CHECK_EQ(strlen(xml), len);
                CHECK_EQ(parse_request(xml, len, &out, &why), 0);
                CHECK(request_equal(&in, &out));
            }
        }
    }
    /* Every field at its bound: the largest request still fits a document with room to spare. */
    sample_request(&in, DOC_REVOCATION_CUSTOM);
    fill_text(in.server_name, DOC_NAME_MAX, '&');
    strcpy(in.cluster_url, "https://");
    fill_text(in.cluster_url + 8, DOC_URL_MAX - 8, '<');
    fill_text(in.sku, DOC_SKU_MAX, '>');
    fill_text(in.version, DOC_VERSION_MAX, '9');
    in.revoker_key_len = make_der(in.revoker_key, DOC_KEY_MAX, 5);
    in.public_key_len = make_der(in.public_key, DOC_KEY_MAX, 6);
    in.pop_len = make_der(in.pop, DOC_CSR_MAX, 7);
    CHECK_EQ(doc_request_write(&in, xml, sizeof(xml), &len), 0);
    CHECK(len < DOC_XML_MAX / 2);
    CHECK_EQ(parse_request(xml, len, &out, &why), 0);
    CHECK(request_equal(&in, &out));
}

TEST(response_round_trip)
{
    static char xml[DOC_XML_MAX + 1];
    static struct doc_response in, out;
    const char *why;
    size_t len;

    for (size_t n = 1; n <= DOC_CHAIN_MAX; n++) {
        sample_response(&in, n);
        CHECK_EQ(doc_response_write(&in, xml, sizeof(xml), &len), 0);
        CHECK_EQ(parse_response(xml, len, &out, &why), 0);
        CHECK(response_equal(&in, &out));
    }
    /* Five certificates of DOC_CERT_MAX bytes: the largest response fits DOC_XML_MAX. */
    in.slc_len = make_der(in.slc, DOC_CERT_MAX, 1);
    for (size_t i = 0; i < DOC_CHAIN_MAX; i++)
        in.chain_len[i] = make_der(in.chain[i], DOC_CERT_MAX, (uint8_t)i);
    CHECK_EQ(doc_response_write(&in, xml, sizeof(xml), &len), 0);
    CHECK(len <= DOC_XML_MAX);
    printf("# largest response: %zu bytes of %d\n", len, DOC_XML_MAX);
    CHECK_EQ(parse_response(xml, len, &out, &why), 0);
    CHECK(response_equal(&in, &out));
}

/* The files docs/protocol.md shows: reading one and writing it back gives the same bytes. */
TEST(canonical_form)
{
    static const char *const files[] = {"request-enrollment.xml", "request-custom.xml",
                                        "response.xml"};
    static char xml[DOC_XML_MAX + 1];
    static struct doc_request rq;
    static struct doc_response rs;
    const char *why;
    size_t len, n;

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char *text = read_file(files[i], &len);
        CHECK(text != NULL);
        int is_response = strncmp(files[i], "response", 8) == 0;
        int rc = is_response ? parse_response(text, len, &rs, &why)
                             : parse_request(text, len, &rq, &why);
        if (rc)
            printf("# %s: %s\n", files[i], why);
        CHECK_EQ(rc, 0);
        rc = is_response ? doc_response_write(&rs, xml, sizeof(xml), &n)
                         : doc_request_write(&rq, xml, sizeof(xml), &n);
        CHECK_EQ(rc, 0);
        CHECK_EQ(n, len);
        CHECK(memcmp(xml, text, len) == 0);
        free(text);
    }
    CHECK_EQ(rq.revocation, DOC_REVOCATION_CUSTOM);
    CHECK_STR(rq.server_name, "root1.contoso.example");
}

/* The same documents armored as the console shows them: both directions, byte for byte. */
TEST(canonical_armor)
{
    static const char *const files[][3] = {
        {"request-enrollment.xml", "request-enrollment.armor", "SIGNET ENROLLMENT REQUEST"},
        {"request-custom.xml", "request-custom.armor", "SIGNET RENEWAL REQUEST"},
        {"response.xml", "response.armor", "SIGNET ENROLLMENT RESPONSE"},
    };
    static char text[DOC_ARMOR_TEXT_MAX];
    static uint8_t back[DOC_XML_MAX];

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        size_t xlen, alen, n;
        const char *why;
        char *xml = read_file(files[i][0], &xlen);
        char *armor = read_file(files[i][1], &alen);
        int ok = xml && armor &&
                 doc_armor(files[i][2], (const uint8_t *)xml, xlen, text, sizeof(text), &n) == 0 &&
                 n == alen && memcmp(text, armor, n) == 0 &&
                 doc_unarmor(armor, alen, files[i][2], back, sizeof(back), &n, &why) == 0 &&
                 n == xlen && memcmp(back, xml, n) == 0;
        free(xml);
        free(armor);
        CHECK(ok);
    }
}

TEST(writer_layout)
{
    static char xml[DOC_XML_MAX + 1];
    struct doc_request r;
    size_t len;

    sample_request(&r, DOC_REVOCATION_STANDARD);
    strcpy(r.server_name, "a<b&c>d");
    r.kind = DOC_RENEWAL;
    CHECK_EQ(doc_request_write(&r, xml, sizeof(xml), &len), 0);
    /* XML 1.0 §2.8 declaration first; 2-space indentation; one element per line. */
    static const char head[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                               "<SignetRequest version=\"1\" kind=\"renewal\">\n"
                               "  <ServerName>a&lt;b&amp;c&gt;d</ServerName>\n"
                               "  <ClusterUrl>https://rms.example.com/_wmcs</ClusterUrl>\n"
                               "  <Sku>SIGNET-ROOT</Sku>\n"
                               "  <Version>1.0.0</Version>\n"
                               "  <Revocation type=\"standard\"/>\n"
                               "  <PublicKey>";
    static const char tail[] = "</ProofOfPossession>\n</SignetRequest>\n";
    CHECK(memcmp(xml, head, sizeof(head) - 1) == 0);
    CHECK(len > sizeof(tail) &&
          memcmp(xml + len - (sizeof(tail) - 1), tail, sizeof(tail) - 1) == 0);
    /* base64 on the key's own line, nothing else */
    const char *key_end = strstr(xml + sizeof(head) - 1, "</PublicKey>\n  <ProofOfPossession>");
    CHECK(key_end != NULL && (size_t)(key_end - xml) - (sizeof(head) - 1) == (294 + 2) / 3 * 4);
}

/* ---- the writers refuse what the parsers would refuse, and never overrun ---- */

TEST(writer_refuses_bad_requests)
{
    static char xml[DOC_XML_MAX];
    struct doc_request r;
    size_t len = 7;

    for (int c = 0; c < 16; c++) {
        sample_request(&r, DOC_REVOCATION_STANDARD);
        switch (c) {
        case 0:
            r.kind = (enum doc_request_kind)3;
            break;
        case 1:
            memset(r.server_name, 'a', sizeof(r.server_name));
            break; /* no NUL */
        case 2:
            r.server_name[0] = '\0';
            break;
        case 3:
            strcpy(r.server_name, "trailing ");
            break;
        case 4:
            strcpy(r.server_name, "tab\there");
            break;
        case 5:
            strcpy(r.cluster_url, "ftp://x");
            break;
        case 6:
            strcpy(r.sku, "\x7f");
            break;
        case 7:
            strcpy(r.version, "\xc3\xa9");
            break;
        case 8:
            r.revocation = DOC_REVOCATION_CUSTOM;
            break; /* no key */
        case 9:
            r.revoker_key_len = make_der(r.revoker_key, 10, 1);
            break;
        case 10:
            r.public_key_len = 0;
            break;
        case 11:
            r.public_key_len = DOC_KEY_MAX + 1;
            break;
        case 12:
            r.public_key[0] = 0x31;
            break;
        case 13:
            r.pop_len--;
            break;
        case 14:
            r.revocation = (enum doc_revocation)2;
            break;
        case 15:
            memset(r.cluster_url, 'h', sizeof(r.cluster_url));
            break;
        }
        xml[0] = 'x';
        CHECK_EQ(doc_request_write(&r, xml, sizeof(xml), &len), -EINVAL);
        CHECK(xml[0] == '\0' && len == 0);
    }
    CHECK_EQ(doc_request_write(NULL, xml, sizeof(xml), &len), -EINVAL);
    CHECK_EQ(doc_request_write(&r, NULL, sizeof(xml), &len), -EINVAL);
}

TEST(writer_refuses_bad_responses)
{
    static char xml[DOC_XML_MAX];
    static struct doc_response r;
    size_t len = 7;

    for (int c = 0; c < 6; c++) {
        sample_response(&r, 2);
        switch (c) {
        case 0:
            r.chain_count = 0;
            break;
        case 1:
            r.chain_count = DOC_CHAIN_MAX + 1;
            break;
        case 2:
            r.slc_len = 0;
            break;
        case 3:
            r.chain_len[1] = DOC_CERT_MAX + 1;
            break;
        case 4:
            r.chain[0][1] ^= 1;
            break;
        case 5:
            r.slc_len = DOC_CERT_MAX + 1;
            break;
        }
        CHECK_EQ(doc_response_write(&r, xml, sizeof(xml), &len), -EINVAL);
        CHECK(xml[0] == '\0' && len == 0);
    }
}

/* Every capacity short of the document's own size: -ENOSPC, an empty string, no overrun. */
TEST(writer_small_buffers)
{
    static char full[DOC_XML_MAX];
    struct doc_request r;
    static struct doc_response rs;
    size_t need, len;

    sample_request(&r, DOC_REVOCATION_CUSTOM);
    CHECK_EQ(doc_request_write(&r, full, sizeof(full), &need), 0);
    for (size_t cap = 0; cap <= need + 1; cap++) {
        char *buf = malloc(cap ? cap : 1);
        int rc = doc_request_write(&r, buf, cap, &len);
        if (cap <= need) {
            CHECK_EQ(rc, -ENOSPC);
            CHECK(len == 0 && (cap == 0 || buf[0] == '\0'));
        } else {
            CHECK_EQ(rc, 0);
            CHECK(len == need && memcmp(buf, full, need + 1) == 0);
        }
        free(buf);
    }
    sample_response(&rs, 3);
    CHECK_EQ(doc_response_write(&rs, full, sizeof(full), &need), 0);
    for (size_t cap = need - 200; cap <= need + 1; cap++) {
        char *buf = malloc(cap);
        int rc = doc_response_write(&rs, buf, cap, &len);
        CHECK_EQ(rc, cap <= need ? -ENOSPC : 0);
        free(buf);
    }
}

/* ---- bounds, exactly at and one past each ---- */

/* A request document with one element's text replaced. */
static size_t request_with(char *xml, size_t cap, const char *name, const char *url,
                           const char *sku, const char *ver, const char *key, const char *pop)
{
    int n = snprintf(xml, cap,
                     "<SignetRequest version=\"1\" kind=\"enrollment\"><ServerName>%s</ServerName>"
                     "<ClusterUrl>%s</ClusterUrl><Sku>%s</Sku><Version>%s</Version>"
                     "<Revocation type=\"standard\"/><PublicKey>%s</PublicKey>"
                     "<ProofOfPossession>%s</ProofOfPossession></SignetRequest>",
                     name ? name : "n", url ? url : "http://u", sku ? sku : "s", ver ? ver : "v",
                     key ? key : "MAA=", pop ? pop : "MAA=");
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static void b64_of_der(char *out, size_t cap, size_t total)
{
    uint8_t der[4096];
    size_t n = make_der(der, total, 1);
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < cap; i += 3) {
        uint32_t v = (uint32_t)der[i] << 16 | (i + 1 < n ? (uint32_t)der[i + 1] << 8 : 0) |
                     (i + 2 < n ? der[i + 2] : 0);
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
        out[o++] = i + 1 < n ? a[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? a[v & 63] : '=';
    }
    out[o] = '\0';
}

/* doc.c's own base64 (by table) against mbedTLS's, both ways, at every length of a key from 2 to
 * 300 bytes (each padding case many times); '=' anywhere but at the end refused. */
TEST(base64_agrees_with_mbedtls)
{
    static char xml[DOC_XML_MAX + 1], want[1024];
    struct doc_request in, out;
    const char *why;
    size_t len, wlen, written = 0;

    for (size_t total = 2; total <= 300; total++) {
        sample_request(&in, DOC_REVOCATION_STANDARD);
        in.public_key_len = make_der(in.public_key, total, (uint8_t)total);
        if (doc_request_write(&in, xml, sizeof(xml), &len) != 0)
            continue; /* a key the request check refuses (too short to be one) */
        written++;
        CHECK_EQ(mbedtls_base64_encode((unsigned char *)want, sizeof(want), &wlen, in.public_key,
                                       in.public_key_len),
                 0);
        char *at = strstr(xml, "<PublicKey>");
        CHECK(at && strncmp(at + strlen("<PublicKey>"), want, wlen) == 0 &&
              at[strlen("<PublicKey>") + wlen] == '<');
        CHECK_EQ(parse_request(xml, len, &out, &why), 0);
        CHECK(out.public_key_len == in.public_key_len &&
              memcmp(out.public_key, in.public_key, in.public_key_len) == 0);
    }
    CHECK(written >= 250);
    static const char *bad[] = {"MA=A", "M===", "====", "MAA=MAA=", "=MAA"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        len = request_with(xml, sizeof(xml), NULL, NULL, NULL, NULL, bad[i], NULL);
        CHECK(len && parse_request(xml, len, &out, &why) == -EINVAL);
    }
    len = request_with(xml, sizeof(xml), NULL, NULL, NULL, NULL, "MAA=", NULL);
    CHECK(len && parse_request(xml, len, &out, &why) == 0 && out.public_key_len == 2);
}

TEST(field_bounds)
{
    static char xml[DOC_XML_MAX], text[DOC_URL_MAX + 8], b64[4096];
    struct doc_request r;
    const char *why;
    size_t n;

    fill_text(text, DOC_NAME_MAX, 'n');
    n = request_with(xml, sizeof(xml), text, NULL, NULL, NULL, NULL, NULL);
    CHECK_EQ(parse_request(xml, n, &r, &why), 0);
    CHECK_EQ(strlen(r.server_name), DOC_NAME_MAX);
    fill_text(text, DOC_NAME_MAX + 1, 'n');
    n = request_with(xml, sizeof(xml), text, NULL, NULL, NULL, NULL, NULL);
    CHECK_EQ(parse_request(xml, n, &r, &why), -E2BIG);

    strcpy(text, "https://");
    fill_text(text + 8, DOC_URL_MAX - 8, 'u');
    n = request_with(xml, sizeof(xml), NULL, text, NULL, NULL, NULL, NULL);
    CHECK_EQ(parse_request(xml, n, &r, &why), 0);
    fill_text(text + 8, DOC_URL_MAX - 7, 'u');
    n = request_with(xml, sizeof(xml), NULL, text, NULL, NULL, NULL, NULL);
    CHECK_EQ(parse_request(xml, n, &r, &why), -E2BIG);

    fill_text(text, DOC_SKU_MAX, 's');
    n = request_with(xml, sizeof(xml), NULL, NULL, text, NULL, NULL, NULL);
    CHECK_EQ(parse_request(xml, n, &r, &why), 0);
    fill_text(text, DOC_SKU_MAX + 1, 's');
    n = request_with(xml, sizeof(xml), NULL, NULL, text, NULL, NULL, NULL);
    CHECK_EQ(parse_request(xml, n, &r, &why), -E2BIG);

    fill_text(text, DOC_VERSION_MAX, 'v');
    n = request_with(xml, sizeof(xml), NULL, NULL, NULL, text, NULL, NULL);
    CHECK_EQ(parse_request(xml, n, &r, &why), 0);
    fill_text(text, DOC_VERSION_MAX + 1, 'v');
    n = request_with(xml, sizeof(xml), NULL, NULL, NULL, text, NULL, NULL);
    CHECK_EQ(parse_request(xml, n, &r, &why), -E2BIG);

    b64_of_der(b64, sizeof(b64), DOC_KEY_MAX);
    n = request_with(xml, sizeof(xml), NULL, NULL, NULL, NULL, b64, NULL);
    CHECK_EQ(parse_request(xml, n, &r, &why), 0);
    CHECK_EQ(r.public_key_len, DOC_KEY_MAX);
    b64_of_der(b64, sizeof(b64), DOC_KEY_MAX + 1);
    n = request_with(xml, sizeof(xml), NULL, NULL, NULL, NULL, b64, NULL);
    CHECK_EQ(parse_request(xml, n, &r, &why), -E2BIG);
    CHECK(strstr(why, "<PublicKey> decodes to more than 600 bytes"));

    b64_of_der(b64, sizeof(b64), DOC_CSR_MAX);
    n = request_with(xml, sizeof(xml), NULL, NULL, NULL, NULL, NULL, b64);
    CHECK_EQ(parse_request(xml, n, &r, &why), 0);
    b64_of_der(b64, sizeof(b64), DOC_CSR_MAX + 1);
    n = request_with(xml, sizeof(xml), NULL, NULL, NULL, NULL, NULL, b64);
    CHECK_EQ(parse_request(xml, n, &r, &why), -E2BIG);

    /* Certificates: DOC_CERT_MAX taken, one byte more refused. */
    struct doc_response *rs = malloc(sizeof(*rs));
    for (size_t total = DOC_CERT_MAX; total <= DOC_CERT_MAX + 1; total++) {
        b64_of_der(b64, sizeof(b64), total);
        int k = snprintf(xml, sizeof(xml),
                         "<SignetResponse version=\"1\"><ServerLicensorCertificate>%s"
                         "</ServerLicensorCertificate><Chain><Certificate>%s</Certificate>"
                         "</Chain></SignetResponse>",
                         b64, b64);
        CHECK_EQ(parse_response(xml, (size_t)k, rs, &why), total == DOC_CERT_MAX ? 0 : -E2BIG);
    }
    free(rs);
}

/* ---- hostile documents ---- */

/* The classic entity bomb: ten levels of ten references, a 3 GB expansion of a 1 KB document. */
TEST(billion_laughs)
{
    static char xml[4096];
    struct doc_request r;
    const char *why;
    size_t o = 0;

    o += (size_t)snprintf(xml + o, sizeof(xml) - o,
                          "<?xml version=\"1.0\"?>\n<!DOCTYPE SignetRequest [\n"
                          "  <!ENTITY lol \"lol\">\n");
    for (int i = 1; i <= 9; i++) {
        o += (size_t)snprintf(xml + o, sizeof(xml) - o, "  <!ENTITY lol%d \"", i);
        for (int j = 0; j < 10; j++)
            o += (size_t)snprintf(xml + o, sizeof(xml) - o, "&lol%.0d;", i - 1);
        o += (size_t)snprintf(xml + o, sizeof(xml) - o, "\">\n");
    }
    o += (size_t)snprintf(xml + o, sizeof(xml) - o,
                          "]>\n<SignetRequest version=\"1\" kind=\"enrollment\">"
                          "<ServerName>&lol9;</ServerName></SignetRequest>\n");
    CHECK(o < sizeof(xml) - 1);
    size_t before = heap_in_use();
    CHECK_EQ(parse_request(xml, o, &r, &why), -EINVAL);
    CHECK(strstr(why, "DOCTYPE"));
    CHECK_EQ(heap_in_use(), before);
}

/* One large entity used many times (quadratic blowup) and an external one. */
TEST(entity_expansion_and_external_entities)
{
    static char xml[DOC_XML_MAX];
    struct doc_request r;
    const char *why;
    size_t o = 0;

    o += (size_t)snprintf(xml + o, sizeof(xml) - o, "<!DOCTYPE r [<!ENTITY a \"");
    for (int i = 0; i < 4000; i++)
        xml[o++] = 'a';
    o += (size_t)snprintf(xml + o, sizeof(xml) - o, "\">]><SignetRequest><ServerName>");
    for (int i = 0; i < 2000; i++)
        o += (size_t)snprintf(xml + o, sizeof(xml) - o, "&a;");
    o += (size_t)snprintf(xml + o, sizeof(xml) - o, "</ServerName></SignetRequest>");
    CHECK(o <= DOC_XML_MAX);
    CHECK_EQ(parse_request(xml, o, &r, &why), -EINVAL);
    CHECK(strstr(why, "DOCTYPE"));

    static const char ext[] =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE SignetRequest [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"
        "<SignetRequest version=\"1\" kind=\"enrollment\">"
        "<ServerName>&x;</ServerName></SignetRequest>\n";
    CHECK_EQ(parse_request(ext, sizeof(ext) - 1, &r, &why), -EINVAL);
    CHECK(strstr(why, "DOCTYPE"));
    /* Without the DOCTYPE the reference names nothing. */
    static const char undeclared[] = "<SignetRequest version=\"1\" kind=\"enrollment\">"
                                     "<ServerName>&x;</ServerName></SignetRequest>";
    CHECK_EQ(parse_request(undeclared, sizeof(undeclared) - 1, &r, &why), -EINVAL);
    CHECK(strstr(why, "undefined entity"));
}

/* Over DOC_XML_MAX is refused from the length alone: no parser is made (so no salt drawn). */
TEST(oversize_refused_before_parsing)
{
    static char xml[DOC_XML_MAX + 1];
    struct doc_request in, r;
    const char *why;
    size_t len;

    sample_request(&in, DOC_REVOCATION_STANDARD);
    CHECK_EQ(doc_request_write(&in, xml, sizeof(xml), &len), 0);
    /* Pad a valid request with trailing whitespace: exactly DOC_XML_MAX parses, one more not. */
    memset(xml + len, '\n', sizeof(xml) - len);
    CHECK_EQ(parse_request(xml, DOC_XML_MAX, &r, &why), 0);
    unsigned calls = rng_calls;
    CHECK_EQ(parse_request(xml, DOC_XML_MAX + 1, &r, &why), -E2BIG);
    CHECK(strstr(why, "larger than 16384 bytes"));
    CHECK_EQ(rng_calls, calls);

    size_t mb = 1u << 20;
    char *big = malloc(mb);
    memset(big, ' ', mb);
    memcpy(big, xml, len);
    static struct doc_response rs;
    CHECK_EQ(doc_request_parse(big, mb, &r, &why), -E2BIG);
    CHECK_EQ(doc_response_parse(big, mb, &rs, &why), -E2BIG);
    CHECK_EQ(rng_calls, calls);
    free(big);
}

TEST(deep_nesting)
{
    size_t depth = 100000, o = 0;
    char *xml = malloc(depth * 7 + 64);
    struct doc_request r;
    const char *why;

    for (size_t i = 0; i < depth; i++, o += 3)
        memcpy(xml + o, "<a>", 3);
    for (size_t i = 0; i < depth; i++, o += 4)
        memcpy(xml + o, "</a>", 4);
    /* Over DOC_XML_MAX: refused by size. */
    CHECK_EQ(parse_request(xml, o, &r, &why), -E2BIG);
    /* As deep as fits in DOC_XML_MAX, under our root: refused at the first unknown child. */
    o = (size_t)snprintf(xml, 64, "<SignetRequest version=\"1\" kind=\"enrollment\">");
    for (; o + 12 < DOC_XML_MAX; o += 12)
        memcpy(xml + o, "<Revocation>", 12);
    size_t before = heap_in_use();
    CHECK_EQ(parse_request(xml, o, &r, &why), -EINVAL);
    CHECK(one_line(why));
    CHECK_EQ(heap_in_use(), before);
    free(xml);
}

/* The same valid request in UTF-16 and UTF-32, with and without a byte-order mark. */
TEST(utf16_and_utf32_refused)
{
    static char xml[DOC_XML_MAX], wide[4 * DOC_XML_MAX];
    struct doc_request in, r;
    const char *why;
    size_t len;

    sample_request(&in, DOC_REVOCATION_STANDARD);
    CHECK_EQ(doc_request_write(&in, xml, sizeof(xml), &len), 0);
    for (int form = 0; form < 6; form++) {
        size_t o = 0, width = form < 4 ? 2 : 4;
        int big_endian = form == 1 || form == 3 || form == 5;
        if (form < 2) { /* with a BOM */
            wide[o++] = big_endian ? '\xfe' : '\xff';
            wide[o++] = big_endian ? '\xff' : '\xfe';
        }
        for (size_t i = 0; i < len && o + width <= sizeof(wide); i++) {
            memset(wide + o, 0, width);
            wide[o + (big_endian ? width - 1 : 0)] = xml[i];
            o += width;
        }
        CHECK(o <= DOC_XML_MAX);
        int rc = parse_request(wide, o, &r, &why);
        CHECK_EQ(rc, -EINVAL);
        CHECK(strstr(why, "UTF-16") || strstr(why, "NUL byte"));
    }
    /* A UTF-8 document that claims to be UTF-16 is refused too, not silently reread. */
    static const char claims[] = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><SignetRequest/>";
    CHECK_EQ(parse_request(claims, sizeof(claims) - 1, &r, &why), -EINVAL);
    CHECK(strstr(why, "encoding must be UTF-8"));
}

/* Every prefix of a valid document fails cleanly; only the whole root element parses. */
static void check_prefixes(const char *xml, size_t len, int response, int *bad)
{
    static struct doc_request rq;
    static struct doc_response rs;
    const char *end_tag = response ? "</SignetResponse>" : "</SignetRequest>";
    size_t complete = (size_t)(strstr(xml, end_tag) - xml) + strlen(end_tag);
    size_t before = heap_in_use();

    for (size_t n = 0; n <= len; n++) {
        const char *why = NULL;
        int rc = response ? parse_response(xml, n, &rs, &why) : parse_request(xml, n, &rq, &why);
        int ok = n >= complete
                     ? rc == 0
                     : rc < 0 && one_line(why) &&
                           (response ? all_zero(&rs, sizeof(rs)) : all_zero(&rq, sizeof(rq)));
        if (!ok || heap_in_use() != before) {
            printf("# prefix %zu of %zu: %d (%s)\n", n, len, rc, why ? why : "-");
            *bad = 1;
            return;
        }
    }
}

TEST(truncated_at_every_length)
{
    static char xml[DOC_XML_MAX];
    struct doc_request r;
    static struct doc_response rs;
    size_t len;
    int bad = 0;

    sample_request(&r, DOC_REVOCATION_CUSTOM);
    CHECK_EQ(doc_request_write(&r, xml, sizeof(xml), &len), 0);
    check_prefixes(xml, len, 0, &bad);
    CHECK(!bad);
    sample_response(&rs, 3);
    CHECK_EQ(doc_response_write(&rs, xml, sizeof(xml), &len), 0);
    check_prefixes(xml, len, 1, &bad);
    CHECK(!bad);
}

/* Each byte of a valid request replaced by a few others: never a crash, never a leak, and
 * whatever parses still satisfies the writer's checks. */
TEST(every_byte_mutated)
{
    static const uint8_t subs[] = {0x00, ' ', '<', '>', '&', '"', '=', '/', 'A', 0x80, 0xff};
    static char xml[DOC_XML_MAX], again[DOC_XML_MAX];
    struct doc_request in, r;
    const char *why;
    size_t len, n;

    sample_request(&in, DOC_REVOCATION_CUSTOM);
    in.public_key_len = make_der(in.public_key, 20, 1);
    in.pop_len = make_der(in.pop, 30, 1);
    in.revoker_key_len = make_der(in.revoker_key, 10, 1);
    CHECK_EQ(doc_request_write(&in, xml, sizeof(xml), &len), 0);
    size_t before = heap_in_use();
    for (size_t i = 0; i < len; i++) {
        char keep = xml[i];
        for (size_t s = 0; s < sizeof(subs); s++) {
            xml[i] = (char)subs[s];
            int rc = parse_request(xml, len, &r, &why);
            if (rc == 0)
                CHECK_EQ(doc_request_write(&r, again, sizeof(again), &n), 0);
            else
                CHECK(one_line(why) && all_zero(&r, sizeof(r)));
        }
        xml[i] = keep;
    }
    CHECK_EQ(heap_in_use(), before);
}

/* ---- expat as built ---- */

/* The choices of crypto/expat/expat_config.h, as the library reports them: a host's own
 * expat_config.h (libexpat1-dev) picked up instead would bring DTDs, namespaces and a copy
 * buffer back without anyone noticing. */
TEST(expat_configuration)
{
    int min_size = 0, utf8 = 0;

    for (const XML_Feature *f = XML_GetFeatureList(); f->feature != XML_FEATURE_END; f++) {
        printf("# expat feature %s %ld\n", f->name, f->value);
        CHECK(f->feature != XML_FEATURE_DTD && f->feature != XML_FEATURE_NS &&
              f->feature != XML_FEATURE_CONTEXT_BYTES && f->feature != XML_FEATURE_LARGE_SIZE &&
              f->feature != XML_FEATURE_UNICODE && f->feature != XML_FEATURE_ATTR_INFO);
        min_size |= f->feature == XML_FEATURE_MIN_SIZE;
        utf8 |= f->feature == XML_FEATURE_SIZEOF_XML_CHAR && f->value == 1;
    }
    CHECK(min_size && utf8);
    CHECK_EQ(XML_MAJOR_VERSION, 2);
}

/* ---- the hash salt ---- */

TEST(salt_sources)
{
    static char xml[DOC_XML_MAX];
    struct doc_request in, r;
    const char *why;
    size_t len;

    sample_request(&in, DOC_REVOCATION_STANDARD);
    CHECK_EQ(doc_request_write(&in, xml, sizeof(xml), &len), 0);
    /* Seeded: one draw per parse. Unseeded: the fallback. All zeros: never handed to expat as
     * 0, which would make it gather entropy itself (and trip its clock assertion here). */
    enum fake_rng_mode modes[] = {RNG_COUNTER, RNG_UNSEEDED, RNG_ZEROS};
    for (size_t m = 0; m < 3; m++) {
        rng_mode = modes[m];
        unsigned calls = rng_calls;
        CHECK_EQ(parse_request(xml, len, &r, &why), 0);
        CHECK_EQ(parse_request(xml, len, &r, &why), 0);
        CHECK_EQ(rng_calls, calls + 2);
    }
    rng_mode = RNG_COUNTER;
}

/* ---- the license documents ---- */

static const char *const license_roots[] = {"SignetCertifyRequest", "SignetCertifyResponse",
                                            "SignetPublishRequest", "SignetPublishResponse",
                                            "SignetLicenseRequest", "SignetLicenseResponse"};
static const char *const license_kind_names[] = {"certify-request", "certify-response",
                                                 "publish-request", "publish-response",
                                                 "license-request", "license-response"};
#define LICENSE_KINDS 6

/* A document of kind k with every field it carries, sized from scale (1: small). */
static void sample_license(struct doc_license *d, enum doc_license_kind k, size_t chain,
                           size_t grants)
{
    memset(d, 0, sizeof(*d));
    d->kind = k;
    if (k == DOC_CERTIFY_REQUEST) {
        d->csr_len = make_der(d->csr, 400, 1);
        return;
    }
    if (k == DOC_CERTIFY_RESPONSE || k == DOC_PUBLISH_REQUEST || k == DOC_LICENSE_REQUEST)
        d->rac_len = make_der(d->rac, 800, 2);
    if (k == DOC_PUBLISH_RESPONSE || k == DOC_LICENSE_REQUEST)
        d->pl_len = make_der(d->pl, 1200, 3);
    if (k == DOC_PUBLISH_RESPONSE || k == DOC_LICENSE_RESPONSE)
        d->ul_len = make_der(d->ul, 1100, 4);
    d->chain_count = chain;
    for (size_t i = 0; i < chain; i++)
        d->chain_len[i] = make_der(d->chain[i], 600 + 10 * i, (uint8_t)(30 + i));
    if (k == DOC_PUBLISH_REQUEST) {
        d->grant_count = grants;
        for (size_t i = 0; i < grants; i++) {
            snprintf(d->grants[i].user, sizeof(d->grants[i].user), "user%zu@contoso.example", i);
            d->grants[i].rights = (uint32_t)(i % 63 + 1);
        }
    }
}

/* A UserChain of n certificates of about size bytes each (SignetCertifyRequest only). */
static void add_user_chain(struct doc_license *d, size_t n, size_t size)
{
    d->user_chain_count = n;
    for (size_t i = 0; i < n; i++)
        d->user_chain_len[i] = make_der(d->user_chain[i], size - i, (uint8_t)(60 + i));
}

static int license_equal(const struct doc_license *a, const struct doc_license *b)
{
    if (a->user_chain_count != b->user_chain_count)
        return 0;
    for (size_t i = 0; i < a->user_chain_count; i++)
        if (a->user_chain_len[i] != b->user_chain_len[i] ||
            memcmp(a->user_chain[i], b->user_chain[i], a->user_chain_len[i]) != 0)
            return 0;
    if (a->kind != b->kind || a->csr_len != b->csr_len || a->rac_len != b->rac_len ||
        a->pl_len != b->pl_len || a->ul_len != b->ul_len || a->grant_count != b->grant_count ||
        a->chain_count != b->chain_count || memcmp(a->csr, b->csr, a->csr_len) != 0 ||
        memcmp(a->rac, b->rac, a->rac_len) != 0 || memcmp(a->pl, b->pl, a->pl_len) != 0 ||
        memcmp(a->ul, b->ul, a->ul_len) != 0)
        return 0;
    for (size_t i = 0; i < a->grant_count; i++)
        if (strcmp(a->grants[i].user, b->grants[i].user) != 0 ||
            a->grants[i].rights != b->grants[i].rights)
            return 0;
    for (size_t i = 0; i < a->chain_count; i++)
        if (a->chain_len[i] != b->chain_len[i] ||
            memcmp(a->chain[i], b->chain[i], a->chain_len[i]) != 0)
            return 0;
    return 1;
}

static int parse_license(const void *xml, size_t len, enum doc_license_kind k,
                         struct doc_license *d, const char **why)
{
    char *copy = malloc(len ? len : 1);
    memcpy(copy, xml, len);
    int ret = doc_license_parse(copy, len, k, d, why);
    free(copy);
    return ret;
}

static const struct subst license_subst[] = {
    {"{decl}", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"},
    {"{cr}", "<SignetCertifyRequest version=\"1\">"},
    {"{/cr}", "</SignetCertifyRequest>"},
    {"{cs}", "<SignetCertifyResponse version=\"1\">"},
    {"{/cs}", "</SignetCertifyResponse>"},
    {"{pr}", "<SignetPublishRequest version=\"1\">"},
    {"{/pr}", "</SignetPublishRequest>"},
    {"{ps}", "<SignetPublishResponse version=\"1\">"},
    {"{/ps}", "</SignetPublishResponse>"},
    {"{lr}", "<SignetLicenseRequest version=\"1\">"},
    {"{/lr}", "</SignetLicenseRequest>"},
    {"{ls}", "<SignetLicenseResponse version=\"1\">"},
    {"{/ls}", "</SignetLicenseResponse>"},
    {"{csr}", "<CertificateRequest>MAMCAQE=</CertificateRequest>"},
    {"{rac}", "<RightsAccountCertificate>MAMCAQI=</RightsAccountCertificate>"},
    {"{pl}", "<PublishingLicense>MAMCAQM=</PublishingLicense>"},
    {"{ul}", "<UseLicense>MAMCAQQ=</UseLicense>"},
    {"{cert}", "<Certificate>MAMCAQU=</Certificate>"},
    {"{chain}", "<Chain><Certificate>MAMCAQU=</Certificate></Chain>"},
    {"{ucert}", "<Certificate>MAMCAQY=</Certificate>"},
    {"{grant}", "<Grant user=\"alice@contoso.example\" rights=\"view,print\"/>"},
    {"{policy}", "<Policy><Grant user=\"alice@contoso.example\" rights=\"view,print\"/></Policy>"},
    {NULL, NULL},
};

static int license_kind_of(const char *name)
{
    for (int k = 0; k < LICENSE_KINDS; k++)
        if (strcmp(name, license_kind_names[k]) == 0)
            return k;
    return -1;
}

/* One vector line: parse as its kind; a valid one must also survive write and reparse. */
static int license_vector(const char *doc, size_t n, int kind, int want, const char *reason)
{
    static struct doc_license d, again;
    static char xml[DOC_LICENSE_XML_MAX + 1];
    const char *why = NULL;
    size_t before = heap_in_use(), len;

    memset(&d, 0xa5, sizeof(d));
    int got = parse_license(doc, n, (enum doc_license_kind)kind, &d, &why);
    int ok = got == want && heap_in_use() == before;
    if (ok && want != 0)
        ok = one_line(why) && strstr(why, reason) && all_zero(&d, sizeof(d));
    if (ok && want == 0)
        ok = d.kind == (enum doc_license_kind)kind &&
             doc_license_write(&d, xml, sizeof(xml), &len) == 0 &&
             parse_license(xml, len, d.kind, &again, &why) == 0 && license_equal(&d, &again);
    if (!ok)
        printf("# got %d (%s), want %d (%s)\n", got, why ? why : "-", want, reason);
    return ok;
}

TEST(license_vectors)
{
    size_t len;
    char *text = read_file("license.txt", &len);
    static char doc[8192];
    int cases = 0, lineno = 0, failed = 0;
    unsigned kinds_ok = 0, kinds_bad = 0;

    CHECK(text != NULL);
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *f[4];
        long n;
        int kind;
        if (split(line, f, 4) != 0 || (kind = license_kind_of(f[1])) < 0 ||
            (n = expand(f[3], strlen(f[3]), license_subst, doc, sizeof(doc))) < 0) {
            printf("# license.txt:%d: malformed vector\n", lineno);
            failed = 1;
            break;
        }
        int want = expect_code(f[0]);
        if (!license_vector(doc, (size_t)n, kind, want, f[2])) {
            printf("# license.txt:%d failed\n", lineno);
            failed = 1;
        }
        if (want == 0)
            kinds_ok |= 1u << kind;
        else
            kinds_bad |= 1u << kind;
        cases++;
    }
    free(text);
    CHECK(!failed);
    CHECK(cases > 80);
    /* every kind has valid and invalid cases */
    CHECK_EQ(kinds_ok, 0x3f);
    CHECK_EQ(kinds_bad, 0x3f);
}

TEST(license_round_trip)
{
    static char xml[DOC_LICENSE_XML_MAX + 1];
    static struct doc_license in, out;
    const char *why;
    size_t len;

    for (int k = 0; k < LICENSE_KINDS; k++) {
        for (size_t chain = 1; chain <= DOC_CHAIN_MAX; chain++) {
            size_t grants = k == DOC_PUBLISH_REQUEST ? chain * 4 : 0;
            sample_license(&in, (enum doc_license_kind)k, k == DOC_CERTIFY_REQUEST ? 0 : chain,
                           grants);
            CHECK_EQ(doc_license_write(&in, xml, sizeof(xml), &len), 0);
            CHECK_EQ(strlen(xml), len);
            CHECK(strstr(xml, license_roots[k]) != NULL);
            CHECK_EQ(parse_license(xml, len, (enum doc_license_kind)k, &out, &why), 0);
            CHECK(license_equal(&in, &out));
        }
    }
    /* A certify request a licensing server forwards: a UserChain of 1 and of 4, after the CSR. */
    for (size_t n = 1; n <= DOC_USER_CHAIN_MAX; n += DOC_USER_CHAIN_MAX - 1) {
        sample_license(&in, DOC_CERTIFY_REQUEST, 0, 0);
        add_user_chain(&in, n, 900);
        CHECK_EQ(doc_license_write(&in, xml, sizeof(xml), &len), 0);
        CHECK(strstr(xml, "</CertificateRequest>\n  <UserChain>\n    <Certificate>") != NULL);
        CHECK(strstr(xml, "</Certificate>\n  </UserChain>\n</SignetCertifyRequest>\n") != NULL);
        CHECK_EQ(parse_license(xml, len, DOC_CERTIFY_REQUEST, &out, &why), 0);
        CHECK_EQ(out.user_chain_count, n);
        CHECK(license_equal(&in, &out));
    }
    /* Without one, none is written. */
    sample_license(&in, DOC_CERTIFY_REQUEST, 0, 0);
    CHECK_EQ(doc_license_write(&in, xml, sizeof(xml), &len), 0);
    CHECK(strstr(xml, "UserChain") == NULL);
    /* Users that need escaping in an attribute, and every single right and all of them. */
    sample_license(&in, DOC_PUBLISH_REQUEST, 1, 8);
    strcpy(in.grants[0].user, "a\"b<c>d&e'f");
    for (size_t i = 1; i < 7; i++)
        in.grants[i].rights = 1u << (i - 1);
    in.grants[7].rights = 0x3f;
    CHECK_EQ(doc_license_write(&in, xml, sizeof(xml), &len), 0);
    CHECK(strstr(xml, "user=\"a&quot;b&lt;c&gt;d&amp;e'f\" rights=\"view\"") != NULL);
    CHECK(strstr(xml, "rights=\"view,edit,print,export,forward,owner\"") != NULL);
    CHECK_EQ(parse_license(xml, len, DOC_PUBLISH_REQUEST, &out, &why), 0);
    CHECK(license_equal(&in, &out));
}

/* Every field at its bound, for every kind: the largest documents fit DOC_LICENSE_XML_MAX, and
 * the ones over DOC_XML_MAX show that the license bound, not the enrollment one, applies. */
static void largest_license(struct doc_license *d, enum doc_license_kind k)
{
    sample_license(d, k, k == DOC_CERTIFY_REQUEST ? 0 : DOC_CHAIN_MAX,
                   k == DOC_PUBLISH_REQUEST ? DOC_GRANTS_MAX : 0);
    if (d->csr_len)
        d->csr_len = make_der(d->csr, DOC_CSR_MAX, 1);
    if (d->rac_len)
        d->rac_len = make_der(d->rac, DOC_CERT_MAX, 2);
    if (d->pl_len)
        d->pl_len = make_der(d->pl, DOC_LICENSE_MAX, 3);
    if (d->ul_len)
        d->ul_len = make_der(d->ul, DOC_LICENSE_MAX, 4);
    for (size_t i = 0; i < d->chain_count; i++)
        d->chain_len[i] = make_der(d->chain[i], DOC_CERT_MAX, (uint8_t)i);
    if (k == DOC_CERTIFY_REQUEST) {
        add_user_chain(d, DOC_USER_CHAIN_MAX, DOC_CERT_MAX);
        for (size_t i = 0; i < d->user_chain_count; i++)
            d->user_chain_len[i] = make_der(d->user_chain[i], DOC_CERT_MAX, (uint8_t)(70 + i));
    }
    for (size_t i = 0; i < d->grant_count; i++) {
        /* 64 characters that each take 6 to write: the longest attribute there is */
        fill_text(d->grants[i].user, DOC_USER_MAX, '"');
        d->grants[i].user[0] = (char)('A' + i);
        d->grants[i].rights = X509_GRANTS_ALL;
    }
}

TEST(license_largest_documents)
{
    static char xml[DOC_LICENSE_XML_MAX + 1];
    static struct doc_license in, out;
    const char *why;
    size_t len, biggest = 0;

    for (int k = 0; k < LICENSE_KINDS; k++) {
        largest_license(&in, (enum doc_license_kind)k);
        CHECK_EQ(doc_license_write(&in, xml, sizeof(xml), &len), 0);
        CHECK(len <= DOC_LICENSE_XML_MAX);
        biggest = len > biggest ? len : biggest;
        CHECK_EQ(parse_license(xml, len, (enum doc_license_kind)k, &out, &why), 0);
        CHECK(license_equal(&in, &out));
    }
    printf("# largest license document: %zu bytes of %d\n", biggest, DOC_LICENSE_XML_MAX);
    CHECK(biggest > DOC_XML_MAX);
    /* One byte over the bound, whatever it holds: refused from its length. */
    memset(xml, ' ', DOC_LICENSE_XML_MAX + 1);
    CHECK_EQ(parse_license(xml, DOC_LICENSE_XML_MAX + 1, DOC_LICENSE_REQUEST, &out, &why), -E2BIG);
    CHECK(strstr(why, "larger than 32768"));
    /* A field one byte over its bound. */
    largest_license(&in, DOC_PUBLISH_RESPONSE);
    in.chain_count = 1;
    in.pl_len = make_der(in.pl, DOC_LICENSE_MAX - 1, 3); /* a multiple of 3: no padding */
    CHECK_EQ(doc_license_write(&in, xml, sizeof(xml), &len), 0);
    char *at = strstr(xml, "</PublishingLicense>");
    CHECK(at != NULL);
    /* four more characters are three more bytes */
    static char grown[DOC_LICENSE_XML_MAX + 8];
    size_t head = (size_t)(at - xml);
    memcpy(grown, xml, head);
    memcpy(grown + head, "AAAA", 4);
    memcpy(grown + head + 4, at, len - head);
    CHECK_EQ(parse_license(grown, len + 4, DOC_PUBLISH_RESPONSE, &out, &why), -E2BIG);
    CHECK(strstr(why, "<PublishingLicense> decodes to more than 4096 bytes"));
    /* A user's certificate one quantum over its bound. */
    sample_license(&in, DOC_CERTIFY_REQUEST, 0, 0);
    add_user_chain(&in, 1, 10);
    in.user_chain_len[0] = make_der(in.user_chain[0], DOC_CERT_MAX - 2, 9); /* a multiple of 3 */
    CHECK_EQ(doc_license_write(&in, xml, sizeof(xml), &len), 0);
    at = strstr(xml, "</Certificate>\n  </UserChain>");
    CHECK(at != NULL);
    head = (size_t)(at - xml);
    memcpy(grown, xml, head);
    memcpy(grown + head, "AAAA", 4);
    memcpy(grown + head + 4, at, len - head);
    CHECK_EQ(parse_license(grown, len + 4, DOC_CERTIFY_REQUEST, &out, &why), -E2BIG);
    CHECK(strstr(why, "<Certificate> decodes to more than 2048 bytes"));
    CHECK(all_zero(&out, sizeof(out)));
}

TEST(license_wrong_root)
{
    static char xml[DOC_LICENSE_XML_MAX + 1];
    static struct doc_license in, out;
    char want[80];
    const char *why;
    size_t len;

    for (int k = 0; k < LICENSE_KINDS; k++) {
        sample_license(&in, (enum doc_license_kind)k, k == DOC_CERTIFY_REQUEST ? 0 : 2, 3);
        CHECK_EQ(doc_license_write(&in, xml, sizeof(xml), &len), 0);
        for (int e = 0; e < LICENSE_KINDS; e++) {
            int rc = parse_license(xml, len, (enum doc_license_kind)e, &out, &why);
            if (e == k) {
                CHECK_EQ(rc, 0);
                continue;
            }
            snprintf(want, sizeof(want), "expected %s", license_roots[e]);
            CHECK_EQ(rc, -EINVAL);
            CHECK(strstr(why, want) != NULL && all_zero(&out, sizeof(out)));
        }
        /* neither are the enrollment documents' roots, nor an unknown expected kind */
        CHECK_EQ(parse_license(xml, len, (enum doc_license_kind)6, &out, &why), -EINVAL);
        CHECK(all_zero(&out, sizeof(out)) && one_line(why));
    }
    static struct doc_request rq;
    sample_request(&rq, DOC_REVOCATION_STANDARD);
    CHECK_EQ(doc_request_write(&rq, xml, sizeof(xml), &len), 0);
    CHECK_EQ(parse_license(xml, len, DOC_CERTIFY_REQUEST, &out, &why), -EINVAL);
    CHECK(strstr(why, "expected SignetCertifyRequest"));
    /* and the enrollment parsers keep their own bound */
    sample_license(&in, DOC_LICENSE_REQUEST, 1, 0);
    CHECK_EQ(doc_license_write(&in, xml, sizeof(xml), &len), 0);
    CHECK_EQ(parse_request(xml, len, &rq, &why), -EINVAL);
    CHECK(strstr(why, "root element is not <SignetRequest>"));
}

TEST(license_writer_refuses)
{
    static char xml[DOC_LICENSE_XML_MAX + 1];
    static struct doc_license d;
    size_t len = 7;

    for (int c = 0; c < 30; c++) {
        enum doc_license_kind k = c < 12   ? DOC_PUBLISH_REQUEST
                                  : c < 24 ? (enum doc_license_kind)(c % 6)
                                           : DOC_CERTIFY_REQUEST;
        sample_license(&d, k, k == DOC_CERTIFY_REQUEST ? 0 : 2, 3);
        switch (c) {
        case 0:
            d.grant_count = 0;
            break;
        case 1:
            d.grant_count = DOC_GRANTS_MAX + 1;
            break;
        case 2:
            strcpy(d.grants[2].user, d.grants[0].user);
            break;
        case 3:
            d.grants[1].rights = 0;
            break;
        case 4:
            d.grants[1].rights = 0x40;
            break;
        case 5:
            d.grants[0].user[0] = '\0';
            break;
        case 6:
            strcpy(d.grants[0].user, " lead");
            break;
        case 7:
            strcpy(d.grants[0].user, "tab\tin");
            break;
        case 8:
            memset(d.grants[0].user, 'u', sizeof(d.grants[0].user));
            break; /* no NUL */
        case 9:
            d.rac_len = 0;
            break;
        case 10:
            d.pl_len = make_der(d.pl, 10, 1);
            break; /* a field it does not carry */
        case 11:
            d.chain_count = 0;
            break;
        case 12:
            d.kind = (enum doc_license_kind)6;
            break;
        case 13:
            d.csr_len = 0;
            d.rac_len = 5;
            break;
        case 14:
            d.csr_len = make_der(d.csr, 10, 1);
            break; /* publish request: no CSR */
        case 15:
            d.pl[0] = 0x31;
            break;
        case 16:
            d.pl_len = DOC_LICENSE_MAX + 1;
            break;
        case 17:
            d.ul_len--;
            break;
        case 18:
            d.chain_count = 1;
            break; /* certify request: no chain */
        case 19:
            d.chain_count = DOC_CHAIN_MAX + 1;
            break;
        case 20:
            d.chain_len[1] = 0;
            break;
        case 21:
            d.pl_len = 0;
            break;
        case 22:
            d.grant_count = 1;
            break; /* license request: no policy */
        case 23:
            d.ul_len = 0;
            break;
        case 24: /* a certify request's UserChain: more than 4, a bad certificate */
            add_user_chain(&d, DOC_USER_CHAIN_MAX, 100);
            d.user_chain_count = DOC_USER_CHAIN_MAX + 1;
            break;
        case 25:
            add_user_chain(&d, 2, 100);
            d.user_chain_len[1] = 0;
            break;
        case 26:
            add_user_chain(&d, 1, 100);
            d.user_chain[0][0] = 0x31;
            break;
        case 27:
            add_user_chain(&d, 1, 100);
            d.user_chain_len[0] = DOC_CERT_MAX + 1;
            break;
        case 28: /* any other kind: no UserChain */
        case 29:
            d.kind = c == 28 ? DOC_CERTIFY_RESPONSE : DOC_LICENSE_REQUEST;
            sample_license(&d, d.kind, 2, 0);
            add_user_chain(&d, 1, 100);
            break;
        }
        xml[0] = 'x';
        if (doc_license_write(&d, xml, sizeof(xml), &len) != -EINVAL) {
            printf("# case %d\n", c);
            CHECK(0);
        }
        CHECK(xml[0] == '\0' && len == 0);
    }
    CHECK_EQ(doc_license_write(NULL, xml, sizeof(xml), &len), -EINVAL);
    /* every capacity short of the document: -ENOSPC and an empty string */
    size_t need;
    sample_license(&d, DOC_PUBLISH_REQUEST, 1, 2);
    CHECK_EQ(doc_license_write(&d, xml, sizeof(xml), &need), 0);
    for (size_t cap = 0; cap <= need + 1; cap++) {
        char *buf = malloc(cap ? cap : 1);
        int rc = doc_license_write(&d, buf, cap, &len);
        CHECK_EQ(rc, cap <= need ? -ENOSPC : 0);
        CHECK(rc == 0 ? len == need : len == 0 && (cap == 0 || buf[0] == '\0'));
        free(buf);
    }
}

/* Every prefix of each kind fails cleanly; each byte of a publish request mutated never
 * crashes or leaks, and what still parses satisfies the writer. */
TEST(license_truncated_and_mutated)
{
    static const uint8_t subs[] = {0x00, ' ', '<', '>', '&', '"', '=', ',', '/', 'A', 0x80};
    static char xml[DOC_LICENSE_XML_MAX + 1], again[DOC_LICENSE_XML_MAX + 1];
    static struct doc_license in, d;
    const char *why;
    size_t len, n, before = heap_in_use();

    for (int k = 0; k < LICENSE_KINDS; k++) {
        sample_license(&in, (enum doc_license_kind)k, k == DOC_CERTIFY_REQUEST ? 0 : 1, 2);
        in.csr_len = in.csr_len ? make_der(in.csr, 20, 1) : 0;
        in.rac_len = in.rac_len ? make_der(in.rac, 20, 2) : 0;
        in.pl_len = in.pl_len ? make_der(in.pl, 20, 3) : 0;
        in.ul_len = in.ul_len ? make_der(in.ul, 20, 4) : 0;
        if (in.chain_count)
            in.chain_len[0] = make_der(in.chain[0], 20, 5);
        if (k == DOC_CERTIFY_REQUEST)
            add_user_chain(&in, 2, 20);
        CHECK_EQ(doc_license_write(&in, xml, sizeof(xml), &len), 0);
        size_t complete = (size_t)(strstr(xml, "</Signet") - xml);
        complete += strlen(license_roots[k]) + 3;
        for (size_t p = 0; p <= len; p++) {
            int rc = parse_license(xml, p, (enum doc_license_kind)k, &d, &why);
            CHECK(p >= complete ? rc == 0 : rc < 0 && one_line(why) && all_zero(&d, sizeof(d)));
        }
        for (size_t i = 0; i < len; i++) {
            char keep = xml[i];
            for (size_t s = 0; s < sizeof(subs); s++) {
                xml[i] = (char)subs[s];
                int rc = parse_license(xml, len, (enum doc_license_kind)k, &d, &why);
                if (rc == 0)
                    CHECK_EQ(doc_license_write(&d, again, sizeof(again), &n), 0);
                else
                    CHECK(one_line(why) && all_zero(&d, sizeof(d)));
            }
            xml[i] = keep;
        }
    }
    CHECK_EQ(heap_in_use(), before);
}

/* The files docs/protocol.md shows: reading one and writing it back gives the same bytes. */
TEST(license_canonical_form)
{
    static char xml[DOC_LICENSE_XML_MAX + 1];
    static struct doc_license d;
    char name[64];
    const char *why;
    size_t len, n;

    for (int k = 0; k < LICENSE_KINDS; k++) {
        snprintf(name, sizeof(name), "%s.xml", license_kind_names[k]);
        char *text = read_file(name, &len);
        CHECK(text != NULL);
        int rc = parse_license(text, len, (enum doc_license_kind)k, &d, &why);
        if (rc)
            printf("# %s: %s\n", name, why);
        CHECK_EQ(rc, 0);
        CHECK_EQ(doc_license_write(&d, xml, sizeof(xml), &n), 0);
        CHECK_EQ(n, len);
        CHECK(memcmp(xml, text, len) == 0);
        free(text);
    }
    /* What a licensing server forwards for bob (tests/unit/vectors/identity): his identity
     * certificate and its issuing CA as a UserChain. */
    char *text = read_file("certify-request-userchain.xml", &len);
    CHECK(text != NULL);
    CHECK_EQ(parse_license(text, len, DOC_CERTIFY_REQUEST, &d, &why), 0);
    CHECK_EQ(d.user_chain_count, 2);
    CHECK_EQ(doc_license_write(&d, xml, sizeof(xml), &n), 0);
    CHECK_EQ(n, len);
    CHECK(memcmp(xml, text, len) == 0);
    free(text);
}

/* ---- memory ---- */

/* Run first, while the heap's peak is still this test's: what one worst-case parse holds. */
TEST(parse_memory_is_bounded)
{
    static char xml[DOC_XML_MAX + 1];
    static struct doc_response r;
    struct crypto_heap_stats st;
    const char *why;
    size_t len, o;

    sample_response(&r, DOC_CHAIN_MAX);
    CHECK_EQ(doc_response_write(&r, xml, sizeof(xml), &len), 0);
    CHECK_EQ(heap_in_use(), 0);
    CHECK_EQ(parse_response(xml, len, &r, &why), 0);
    /* A start tag with as many distinct attributes as fit: expat stores them all before our
     * handler sees the first. */
    o = (size_t)snprintf(xml, sizeof(xml), "<SignetResponse");
    for (int i = 0; o + 16 < DOC_XML_MAX; i++)
        o += (size_t)snprintf(xml + o, sizeof(xml) - o, " a%x=''", i);
    o += (size_t)snprintf(xml + o, sizeof(xml) - o, "/>");
    CHECK(o <= DOC_XML_MAX);
    crypto_heap_stats(&st);
    printf("# largest valid response: %zu bytes of heap\n", st.peak);
    CHECK(st.peak < DOC_PARSE_HEAP_MAX / 2);
    /* The license documents are twice as long and a policy has 32 attributes: still far from
     * the bound (the parse reads the caller's buffer in place, so the length costs nothing). */
    static struct doc_license lic;
    static char big[DOC_LICENSE_XML_MAX + 1];
    size_t g;
    for (int k = 0; k < LICENSE_KINDS; k++) {
        largest_license(&lic, (enum doc_license_kind)k);
        CHECK_EQ(doc_license_write(&lic, big, sizeof(big), &len), 0);
        CHECK_EQ(parse_license(big, len, (enum doc_license_kind)k, &lic, &why), 0);
    }
    crypto_heap_stats(&st);
    printf("# largest valid license document: %zu bytes of heap\n", st.peak);
    CHECK(st.peak < DOC_PARSE_HEAP_MAX / 2);
    /* 32 KiB of distinct attributes on a Grant: refused by the heap bound, not parsed */
    g = (size_t)snprintf(big, sizeof(big),
                         "<SignetPublishRequest version='1'><Policy><Grant user='u' rights='view'");
    for (int i = 0; g + 16 < DOC_LICENSE_XML_MAX; i++)
        g += (size_t)snprintf(big + g, sizeof(big) - g, " a%x=''", i);
    g += (size_t)snprintf(big + g, sizeof(big) - g, "/>");
    CHECK(g <= DOC_LICENSE_XML_MAX);
    CHECK_EQ(parse_license(big, g, DOC_PUBLISH_REQUEST, &lic, &why), -E2BIG);
    CHECK(strstr(why, "needs more than 32768 bytes to parse"));
    CHECK_EQ(parse_response(xml, o, &r, &why), -E2BIG);
    CHECK(strstr(why, "needs more than 32768 bytes to parse"));
    /* A 16 KiB element name and a 16 KiB attribute value. */
    memset(xml, 'a', DOC_XML_MAX);
    xml[0] = '<';
    memcpy(xml + DOC_XML_MAX - 2, "/>", 2);
    CHECK(parse_response(xml, DOC_XML_MAX, &r, &why) < 0);
    o = (size_t)snprintf(xml, sizeof(xml), "<SignetResponse version='");
    memset(xml + o, '1', DOC_XML_MAX - o);
    memcpy(xml + DOC_XML_MAX - 3, "'/>", 3);
    CHECK(parse_response(xml, DOC_XML_MAX, &r, &why) < 0);
    crypto_heap_stats(&st);
    printf("# heap peak over hostile parses: %zu bytes\n", st.peak);
    CHECK(st.peak <= DOC_PARSE_HEAP_MAX);
    CHECK_EQ(st.in_use, 0);
}

TEST(heap_realloc_counts)
{
    struct crypto_heap_stats st;
    size_t base = heap_in_use();

    uint8_t *p = crypto_realloc(NULL, 100);
    CHECK(p != NULL && all_zero(p, 100));
    CHECK_EQ(heap_in_use(), base + 100);
    memset(p, 7, 100);
    p = crypto_realloc(p, 5000);
    CHECK(p != NULL && p[99] == 7);
    CHECK_EQ(heap_in_use(), base + 5000);
    p = crypto_realloc(p, 10);
    CHECK(p != NULL && p[9] == 7);
    CHECK_EQ(heap_in_use(), base + 10);
    /* size 0 fails and leaves the block alone */
    CHECK(crypto_realloc(p, 0) == NULL);
    CHECK_EQ(heap_in_use(), base + 10);
    /* the ceiling holds for growth too */
    crypto_heap_stats(&st);
    uint32_t refused = st.refused;
    CHECK(crypto_realloc(p, CRYPTO_HEAP_MAX - base + 1) == NULL);
    crypto_heap_stats(&st);
    CHECK_EQ(st.refused, refused + 1);
    CHECK_EQ(st.in_use, base + 10);
    CHECK(crypto_realloc(p, (size_t)-1) == NULL);
    /* a bounded operation's own ceiling, for growth and for new blocks */
    CHECK(crypto_heap_limit(1000));
    CHECK(crypto_calloc(1, 1001) == NULL);
    CHECK(crypto_realloc(p, 1011) == NULL);
    uint8_t *q = crypto_realloc(p, 1010);
    CHECK(q != NULL);
    p = q;
    CHECK(crypto_calloc(1, 1) == NULL);
    crypto_heap_unlimit();
    q = crypto_calloc(1, 5000);
    CHECK(q != NULL);
    crypto_free(q);
    CHECK(!crypto_heap_limit(CRYPTO_HEAP_MAX));
    crypto_heap_unlimit();
    crypto_free(p);
    CHECK_EQ(heap_in_use(), base);
}

/* ---- armor ---- */

static const char *const labels[] = {"SIGNET ENROLLMENT REQUEST", "SIGNET RENEWAL REQUEST",
                                     "SIGNET ENROLLMENT RESPONSE", "CERTIFICATE", "PUBLIC KEY"};

/* The layout RFC 7468 §2-3 and docs/protocol.md ask for: BEGIN, 64-column lines, END, all "\n". */
static int armor_layout_ok(const char *t, size_t n, const char *label, size_t data_len)
{
    char line[128];
    size_t b64 = (data_len + 2) / 3 * 4, lines = (b64 + 63) / 64;
    const char *p = t;

    snprintf(line, sizeof(line), "-----BEGIN %s-----\n", label);
    if (strncmp(p, line, strlen(line)) != 0)
        return 0;
    p += strlen(line);
    for (size_t i = 0; i < lines; i++) {
        const char *nl = strchr(p, '\n');
        size_t want = i + 1 < lines ? 64 : b64 - 64 * i;
        if (!nl || (size_t)(nl - p) != want)
            return 0;
        p = nl + 1;
    }
    snprintf(line, sizeof(line), "-----END %s-----\n", label);
    return strcmp(p, line) == 0 && (size_t)(p + strlen(line) - t) == n;
}

TEST(armor_round_trip)
{
    uint8_t data[200], back[200];
    char text[512], crlf[1024];

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 37 + 11);
    for (size_t l = 0; l < sizeof(labels) / sizeof(labels[0]); l++) {
        for (size_t len = 0; len <= 200; len++) {
            size_t n, got;
            const char *why;
            CHECK_EQ(doc_armor(labels[l], data, len, text, sizeof(text), &n), 0);
            CHECK_EQ(strlen(text), n);
            CHECK(armor_layout_ok(text, n, labels[l], len));
            char *copy = malloc(n);
            memcpy(copy, text, n);
            CHECK_EQ(doc_unarmor(copy, n, labels[l], back, len, &got, &why), 0);
            CHECK(got == len && memcmp(back, data, len) == 0);
            if (len > 0)
                CHECK_EQ(doc_unarmor(copy, n, labels[l], back, len - 1, &got, &why), -E2BIG);
            free(copy);
            /* The same with CRLF line ends and trailing spaces, as a terminal may paste it. */
            size_t c = 0;
            for (size_t i = 0; i < n; i++) {
                if (text[i] == '\n') {
                    crlf[c++] = ' ';
                    crlf[c++] = '\r';
                }
                crlf[c++] = text[i];
            }
            CHECK_EQ(doc_unarmor(crlf, c, labels[l], back, sizeof(back), &got, &why), 0);
            CHECK(got == len && memcmp(back, data, len) == 0);
        }
    }
}

TEST(armor_bad_arguments_and_small_buffers)
{
    static const char *const bad_labels[] = {"",
                                             "signet request",
                                             " CERTIFICATE",
                                             "CERTIFICATE ",
                                             "A  B",
                                             "X-509",
                                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDE"};
    uint8_t data[100];
    char text[512];
    size_t n = 5, need;
    const char *why;

    memset(data, 0x42, sizeof(data));
    for (size_t i = 0; i < sizeof(bad_labels) / sizeof(bad_labels[0]); i++) {
        CHECK_EQ(doc_armor(bad_labels[i], data, 3, text, sizeof(text), &n), -EINVAL);
        CHECK(n == 0 && text[0] == '\0');
        CHECK_EQ(doc_unarmor("x", 1, bad_labels[i], data, sizeof(data), &n, &why), -EINVAL);
    }
    CHECK_EQ(doc_armor(NULL, data, 3, text, sizeof(text), &n), -EINVAL);
    CHECK_EQ(doc_armor("CERTIFICATE", NULL, 3, text, sizeof(text), &n), -EINVAL);
    CHECK_EQ(doc_armor("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCD", data, 3, text, sizeof(text), &n),
             0);
    CHECK_EQ(doc_armor("CERTIFICATE", data, sizeof(data), text, sizeof(text), &need), 0);
    for (size_t cap = 0; cap <= need; cap++) {
        char *buf = malloc(cap ? cap : 1);
        CHECK_EQ(doc_armor("CERTIFICATE", data, sizeof(data), buf, cap, &n), -ENOSPC);
        CHECK(n == 0 && (cap == 0 || buf[0] == '\0'));
        free(buf);
    }
}

/* A megabyte pasted at the console: refused from its length, without a scan. */
TEST(armor_huge_paste)
{
    size_t mb = 1u << 20, n;
    char *text = malloc(mb);
    uint8_t out[64];
    const char *why;

    memset(text, 'A', mb);
    memcpy(text, "-----BEGIN CERTIFICATE-----\n", 28);
    CHECK_EQ(doc_unarmor(text, mb, "CERTIFICATE", out, sizeof(out), &n, &why), -E2BIG);
    CHECK(strstr(why, "larger than 65536"));
    /* Just under the limit, long lines: refused at the first line over 76 characters. */
    CHECK_EQ(doc_unarmor(text, DOC_ARMOR_TEXT_MAX, "CERTIFICATE", out, sizeof(out), &n, &why),
             -EINVAL);
    CHECK(strstr(why, "longer than 76"));
    /* Well-formed 64-column lines, more than the buffer: refused once it would overflow. */
    size_t o = 28;
    while (o + 65 < DOC_ARMOR_TEXT_MAX) {
        memset(text + o, 'A', 64);
        text[o + 64] = '\n';
        o += 65;
    }
    CHECK_EQ(doc_unarmor(text, o, "CERTIFICATE", out, sizeof(out), &n, &why), -E2BIG);
    CHECK(n == 0 && all_zero(out, sizeof(out)));
    free(text);
}

int main(void)
{
    RUN(parse_memory_is_bounded);
    RUN(base64_agrees_with_mbedtls);
    RUN(request_vectors);
    RUN(response_vectors);
    RUN(armor_vectors);
    RUN(request_round_trip);
    RUN(response_round_trip);
    RUN(canonical_form);
    RUN(canonical_armor);
    RUN(writer_layout);
    RUN(writer_refuses_bad_requests);
    RUN(writer_refuses_bad_responses);
    RUN(writer_small_buffers);
    RUN(field_bounds);
    RUN(billion_laughs);
    RUN(entity_expansion_and_external_entities);
    RUN(oversize_refused_before_parsing);
    RUN(deep_nesting);
    RUN(utf16_and_utf32_refused);
    RUN(truncated_at_every_length);
    RUN(every_byte_mutated);
    RUN(expat_configuration);
    RUN(salt_sources);
    RUN(heap_realloc_counts);
    RUN(license_vectors);
    RUN(license_round_trip);
    RUN(license_largest_documents);
    RUN(license_wrong_root);
    RUN(license_writer_refuses);
    RUN(license_truncated_and_mutated);
    RUN(license_canonical_form);
    RUN(armor_round_trip);
    RUN(armor_bad_arguments_and_small_buffers);
    RUN(armor_huge_paste);
    return unit_summary();
}
