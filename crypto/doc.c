/*
 * crypto/doc — the enrollment documents: our serializer, the hardened expat parsers, the armor.
 *
 * Parsing is schema-driven: each document is a small table of elements (name, parent, how many
 * times, what its content is), and one set of expat handlers walks any document against its
 * table, with a per-document hook for attributes, destinations and field checks. A handler that
 * refuses something records one reason and stops the parser; every later callback of that parse
 * returns at once. Text goes straight into the caller's struct, base64 is decoded four characters
 * at a time into it, so nothing is ever buffered beyond a field's own bound.
 */
#include "crypto/doc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <expat.h>

#include "crypto/heap.h"
#include "crypto/rng.h"
#include "crypto/x509.h"
#include "crypto/x509_user.h"

#define DOC_STR_(x) #x
#define DOC_STR(x)  DOC_STR_(x)

/* XML 1.0 §2.8: the declaration; §4.3.3: we write UTF-8 and say so. */
#define DOC_XML_DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

/* RFC 7468 §2: encapsulation boundaries; §3: generators wrap base64 at 64 columns. */
#define DOC_ARMOR_COLS   64
#define DOC_ARMOR_LINE   76 /* RFC 2045 §6.8's limit, which lax PEM writers use */
#define DOC_ARMOR_BEGIN  "-----BEGIN "
#define DOC_ARMOR_END    "-----END "
#define DOC_ARMOR_DASHES "-----"
#define DOC_LABEL_MAX    40

/* ---- field checks, shared by the writers and the parsers ---- */

/* Printable ASCII (0x20..0x7e), not empty, no space at either end, NUL-terminated within cap. */
static bool doc_text_ok(const char *s, size_t cap)
{
    const char *z = memchr(s, '\0', cap);

    if (!z || z == s || s[0] == ' ' || z[-1] == ' ')
        return false;
    for (const char *p = s; p < z; p++)
        if (*p < 0x20 || *p > 0x7e)
            return false;
    return true;
}

static bool doc_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A printable URL without spaces whose scheme is http or https and that names something after
 * "//" (RFC 3986 §3.2: the authority follows at once). */
static bool doc_url_ok(const char *s, size_t cap)
{
    const char *rest;

    if (!doc_text_ok(s, cap) || strchr(s, ' '))
        return false;
    if (doc_prefix(s, "https://"))
        rest = s + 8;
    else if (doc_prefix(s, "http://"))
        rest = s + 7;
    else
        return false;
    return rest[0] != '\0' && rest[0] != '/';
}

/*
 * The DER fields are only length-checked here (x509 parses them): exactly one SEQUENCE in
 * definite form (X.690 §8.1.3), with the shortest length encoding (§10.1), whose contents end
 * where the field ends. Two length octets cover every bound in doc.h.
 */
static bool doc_der_ok(const uint8_t *p, size_t len)
{
    const uint8_t *end = p + len;
    size_t n = 0;

    if (len < 2 || *p++ != 0x30)
        return false;
    uint8_t first = *p++;
    if (first < 0x80) {
        n = first;
    } else {
        size_t k = first & 0x7fu;
        if (k == 0 || k > 2 || (size_t)(end - p) < k)
            return false;
        for (size_t i = 0; i < k; i++)
            n = n << 8 | *p++;
        if (n < 0x80 || (k == 2 && n < 0x100))
            return false;
    }
    return n == (size_t)(end - p);
}

static bool doc_binary_ok(const uint8_t *p, size_t len, size_t max)
{
    return len > 0 && len <= max && doc_der_ok(p, len);
}

static const char *const doc_kind_names[] = {"enrollment", "renewal", "subenrollment"};

/* The one verdict on a request, whether we are about to write it or have just read it. */
static int doc_request_check(const struct doc_request *r, const char **why)
{
    int ret = -EINVAL;

    if ((unsigned)r->kind > DOC_SUBENROLLMENT)
        *why = "unknown request kind";
    else if (!doc_text_ok(r->server_name, sizeof(r->server_name)))
        *why = "bad server name";
    else if (!doc_url_ok(r->cluster_url, sizeof(r->cluster_url)))
        *why = "bad cluster URL";
    else if (!doc_text_ok(r->sku, sizeof(r->sku)))
        *why = "bad SKU";
    else if (!doc_text_ok(r->version, sizeof(r->version)))
        *why = "bad version";
    else if ((unsigned)r->revocation > DOC_REVOCATION_CUSTOM)
        *why = "unknown revocation type";
    else if (r->revocation == DOC_REVOCATION_CUSTOM &&
             !doc_binary_ok(r->revoker_key, r->revoker_key_len, DOC_KEY_MAX))
        *why = "custom revocation without a valid revoker key";
    else if (r->revocation == DOC_REVOCATION_STANDARD && r->revoker_key_len != 0)
        *why = "standard revocation with a revoker key";
    else if (!doc_binary_ok(r->public_key, r->public_key_len, DOC_KEY_MAX))
        *why = "bad public key";
    else if (!doc_binary_ok(r->pop, r->pop_len, DOC_CSR_MAX))
        *why = "bad proof of possession";
    else
        ret = 0;
    return ret;
}

static int doc_request_verdict(const void *out, const char **why)
{
    return doc_request_check(out, why);
}

static int doc_response_check(const struct doc_response *r, const char **why)
{
    if (!doc_binary_ok(r->slc, r->slc_len, DOC_CERT_MAX)) {
        *why = "bad server licensor certificate";
        return -EINVAL;
    }
    if (r->chain_count < 1 || r->chain_count > DOC_CHAIN_MAX) {
        *why = "chain must hold 1 to " DOC_STR(DOC_CHAIN_MAX) " certificates";
        return -EINVAL;
    }
    for (size_t i = 0; i < r->chain_count; i++) {
        if (!doc_binary_ok(r->chain[i], r->chain_len[i], DOC_CERT_MAX)) {
            *why = "bad certificate in the chain";
            return -EINVAL;
        }
    }
    return 0;
}

static int doc_response_verdict(const void *out, const char **why)
{
    return doc_response_check(out, why);
}

/* ---- the bounded writer ---- */

struct doc_out {
    char *buf;
    size_t cap; /* > 0: one byte is always kept for the NUL */
    size_t len;
    bool full;
};

static void doc_put(struct doc_out *w, const char *s, size_t n)
{
    if (w->full || n > w->cap - 1 - w->len) {
        w->full = true;
        return;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void doc_puts(struct doc_out *w, const char *s)
{
    doc_put(w, s, strlen(s)); /* our own literals and checked, NUL-terminated fields only */
}

/* XML 1.0 §2.4: '<' and '&' must be escaped in text, and '>' too where it could close "]]>". */
static void doc_put_escaped_char(struct doc_out *w, char c)
{
    if (c == '<')
        doc_puts(w, "&lt;");
    else if (c == '&')
        doc_puts(w, "&amp;");
    else if (c == '>')
        doc_puts(w, "&gt;");
    else
        doc_put(w, &c, 1);
}

static void doc_put_escaped(struct doc_out *w, const char *s)
{
    for (; *s; s++)
        doc_put_escaped_char(w, *s);
}

/*
 * RFC 4648 §4, written in place (room kept for the NUL that ends the document). By table, not
 * mbedTLS's constant-time coder: documents carry certificates, keys' public halves, requests and
 * wrapped keys, nothing secret, and every response re-encodes its issuing chain (a third of a
 * sub-enrollment's CPU went to base64 before, docs/performance.md).
 */
static const char doc_b64_digits[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void doc_put_base64(struct doc_out *w, const uint8_t *data, size_t len)
{
    size_t n = (len + 2) / 3 * 4;

    if (w->full)
        return;
    if (len > SIZE_MAX / 2 || n + 1 > w->cap - w->len) {
        w->full = true;
        return;
    }
    char *o = w->buf + w->len;
    size_t i = 0;
    for (; i + 3 <= len; i += 3, o += 4) {
        uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
        o[0] = doc_b64_digits[v >> 18];
        o[1] = doc_b64_digits[(v >> 12) & 63];
        o[2] = doc_b64_digits[(v >> 6) & 63];
        o[3] = doc_b64_digits[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)data[i] << 16 | (i + 1 < len ? (uint32_t)data[i + 1] << 8 : 0);
        o[0] = doc_b64_digits[v >> 18];
        o[1] = doc_b64_digits[(v >> 12) & 63];
        o[2] = i + 1 < len ? doc_b64_digits[(v >> 6) & 63] : '=';
        o[3] = '=';
    }
    w->len += n;
    w->buf[w->len] = '\0';
}

static void doc_put_text_elem(struct doc_out *w, const char *indent, const char *name,
                              const char *text)
{
    doc_puts(w, indent);
    doc_puts(w, "<");
    doc_puts(w, name);
    doc_puts(w, ">");
    doc_put_escaped(w, text);
    doc_puts(w, "</");
    doc_puts(w, name);
    doc_puts(w, ">\n");
}

static void doc_put_binary_elem(struct doc_out *w, const char *indent, const char *name,
                                const uint8_t *data, size_t len)
{
    doc_puts(w, indent);
    doc_puts(w, "<");
    doc_puts(w, name);
    doc_puts(w, ">");
    doc_put_base64(w, data, len);
    doc_puts(w, "</");
    doc_puts(w, name);
    doc_puts(w, ">\n");
}

/* Start writing: out is an empty string from here on, whatever happens. */
static int doc_out_begin(struct doc_out *w, char *out, size_t cap, size_t *len)
{
    if (!out || !len)
        return -EINVAL;
    *len = 0;
    if (cap == 0)
        return -ENOSPC;
    out[0] = '\0';
    *w = (struct doc_out){.buf = out, .cap = cap};
    return 0;
}

static int doc_out_end(struct doc_out *w, size_t *len)
{
    if (w->full) {
        w->buf[0] = '\0';
        return -ENOSPC;
    }
    w->buf[w->len] = '\0';
    *len = w->len;
    return 0;
}

int doc_request_write(const struct doc_request *r, char *out, size_t cap, size_t *len)
{
    struct doc_out w;
    const char *why;
    int ret = doc_out_begin(&w, out, cap, len);

    if (ret)
        goto out;
    ret = -EINVAL;
    if (!r || doc_request_check(r, &why) != 0)
        goto out;
    doc_puts(&w, DOC_XML_DECL "<SignetRequest version=\"1\" kind=\"");
    doc_puts(&w, doc_kind_names[r->kind]);
    doc_puts(&w, "\">\n");
    doc_put_text_elem(&w, "  ", "ServerName", r->server_name);
    doc_put_text_elem(&w, "  ", "ClusterUrl", r->cluster_url);
    doc_put_text_elem(&w, "  ", "Sku", r->sku);
    doc_put_text_elem(&w, "  ", "Version", r->version);
    if (r->revocation == DOC_REVOCATION_CUSTOM) {
        doc_puts(&w, "  <Revocation type=\"custom\">\n");
        doc_put_binary_elem(&w, "    ", "RevokerPublicKey", r->revoker_key, r->revoker_key_len);
        doc_puts(&w, "  </Revocation>\n");
    } else {
        doc_puts(&w, "  <Revocation type=\"standard\"/>\n");
    }
    doc_put_binary_elem(&w, "  ", "PublicKey", r->public_key, r->public_key_len);
    doc_put_binary_elem(&w, "  ", "ProofOfPossession", r->pop, r->pop_len);
    doc_puts(&w, "</SignetRequest>\n");
    ret = doc_out_end(&w, len);
out:
    return ret;
}

int doc_response_write(const struct doc_response *r, char *out, size_t cap, size_t *len)
{
    struct doc_out w;
    const char *why;
    int ret = doc_out_begin(&w, out, cap, len);

    if (ret)
        goto out;
    ret = -EINVAL;
    if (!r || doc_response_check(r, &why) != 0)
        goto out;
    doc_puts(&w, DOC_XML_DECL "<SignetResponse version=\"1\">\n");
    doc_put_binary_elem(&w, "  ", "ServerLicensorCertificate", r->slc, r->slc_len);
    doc_puts(&w, "  <Chain>\n");
    for (size_t i = 0; i < r->chain_count; i++)
        doc_put_binary_elem(&w, "    ", "Certificate", r->chain[i], r->chain_len[i]);
    doc_puts(&w, "  </Chain>\n");
    doc_puts(&w, "</SignetResponse>\n");
    ret = doc_out_end(&w, len);
out:
    return ret;
}

/* ---- base64 decoded as it arrives, four characters at a time, into a bounded field ---- */

struct doc_b64 {
    uint8_t *out;
    size_t cap;
    size_t *len;
    char quad[4];
    size_t n;    /* characters in quad */
    bool padded; /* a quantum with '=' ended the data (RFC 4648 §3.2) */
};

static void doc_b64_start(struct doc_b64 *b, uint8_t *out, size_t cap, size_t *len)
{
    *b = (struct doc_b64){.out = out, .cap = cap, .len = len};
    *len = 0;
}

static bool doc_b64_alphabet(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/' || c == '=';
}

/* A digit's value; 64 for '=' (doc_b64_alphabet has let only digits and '=' through). */
static unsigned doc_b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return (unsigned)(c - 'A');
    if (c >= 'a' && c <= 'z')
        return (unsigned)(c - 'a') + 26;
    if (c >= '0' && c <= '9')
        return (unsigned)(c - '0') + 52;
    return c == '+' ? 62 : c == '/' ? 63 : 64;
}

/* One quantum of four characters into 1-3 bytes (*got); -EINVAL when '=' stands anywhere but in
 * the last one or two places (RFC 4648 §4). Public data only: see doc_put_base64. */
static int doc_b64_quad(const char q[4], uint8_t out[3], size_t *got)
{
    unsigned v[4];

    for (int i = 0; i < 4; i++)
        v[i] = doc_b64_value(q[i]);
    if (v[0] == 64 || v[1] == 64 || (v[2] == 64 && v[3] != 64))
        return -EINVAL;
    *got = v[2] == 64 ? 1 : v[3] == 64 ? 2 : 3;
    uint32_t x = v[0] << 18 | v[1] << 12 | (v[2] & 63) << 6 | (v[3] & 63);
    out[0] = (uint8_t)(x >> 16);
    out[1] = (uint8_t)(x >> 8);
    out[2] = (uint8_t)x;
    return 0;
}

/* One character of RFC 4648 §4 base64; 0, -EINVAL (not base64, or data after the padding) or
 * -E2BIG (decodes past cap). */
static int doc_b64_put(struct doc_b64 *b, char c)
{
    uint8_t bytes[3];
    size_t got = 0;

    if (b->padded || !doc_b64_alphabet(c))
        return -EINVAL;
    b->quad[b->n++] = c;
    if (b->n < sizeof(b->quad))
        return 0;
    b->n = 0;
    if (doc_b64_quad(b->quad, bytes, &got) != 0)
        return -EINVAL;
    if (got > b->cap - *b->len)
        return -E2BIG;
    memcpy(b->out + *b->len, bytes, got);
    *b->len += got;
    b->padded = got < sizeof(bytes);
    return 0;
}

/* The data ended: a partial quantum means it was cut short. */
static int doc_b64_finish(const struct doc_b64 *b)
{
    return b->n == 0 ? 0 : -EINVAL;
}

/* ---- the schema-driven expat walk ---- */

enum doc_content { DOC_CONTAINER, DOC_TEXT, DOC_BINARY };

struct doc_elem {
    const char *name;
    int parent; /* index in the same table; -1 for the root */
    enum doc_content content;
    unsigned min, max; /* occurrences */
    const char *why_repeated, *why_missing, *why_attr, *why_inside;
    const char *why_text;                            /* container: text inside it */
    const char *why_long, *why_form;                 /* text and binary */
    const char *why_empty, *why_der, *why_truncated; /* binary */
};

/* Every reason names its element; the literals are built here so *why stays a static string. */
#define DOC_TAG(n) "<" n ">"
#define DOC_ELEM(n, par, kind, mn, mx, repeated)                                                   \
    .name = n, .parent = (par), .content = (kind), .min = (mn), .max = (mx),                       \
    .why_repeated = repeated, .why_missing = "missing " DOC_TAG(n),                                \
    .why_attr = "unknown attribute on " DOC_TAG(n),                                                \
    .why_inside = "unexpected element inside " DOC_TAG(n)
#define DOC_ONCE(n) DOC_TAG(n) " appears more than once"
#define DOC_CONTAINER_ELEM(n, par)                                                                 \
    {                                                                                              \
        DOC_ELEM(n, par, DOC_CONTAINER, 1, 1, DOC_ONCE(n)), .why_text = "text inside " DOC_TAG(n)  \
    }
/* A container that may be left out (the writer leaves it out when it would be empty). */
#define DOC_OPTIONAL_CONTAINER_ELEM(n, par)                                                        \
    {                                                                                              \
        DOC_ELEM(n, par, DOC_CONTAINER, 0, 1, DOC_ONCE(n)), .why_text = "text inside " DOC_TAG(n)  \
    }
#define DOC_TEXT_ELEM(n, par, bound, form)                                                         \
    {                                                                                              \
        DOC_ELEM(n, par, DOC_TEXT, 1, 1, DOC_ONCE(n)),                                             \
            .why_long = DOC_TAG(n) " longer than " DOC_STR(bound) " characters",                   \
            .why_form = DOC_TAG(n) " " form                                                        \
    }
#define DOC_BINARY_ELEM(n, par, mn, mx, repeated, bound)                                           \
    {                                                                                              \
        DOC_ELEM(n, par, DOC_BINARY, mn, mx, repeated),                                            \
            .why_long = DOC_TAG(n) " decodes to more than " DOC_STR(bound) " bytes",               \
            .why_form = DOC_TAG(n) " is not base64", .why_empty = DOC_TAG(n) " is empty",          \
            .why_der = DOC_TAG(n) " is not one DER SEQUENCE",                                      \
            .why_truncated = DOC_TAG(n) " ends inside a base64 quantum"                            \
    }
#define DOC_PRINTABLE "must be printable ASCII without spaces at the ends"

struct doc_parse;

struct doc_schema {
    const struct doc_elem *elems;
    size_t count;
    const char *why_root;
    size_t max_len; /* the whole document, bytes */
    const char *why_big;
    int kind;                /* which document of a family this table reads (license kinds) */
    const char *why_version; /* the root's version="1", where the family's handler checks it */
    int (*open)(struct doc_parse *x, int id, const XML_Char **atts);
    int (*close)(struct doc_parse *x, int id);
    /* The single verdict on what the handlers built (they gave the precise reasons). */
    int (*check)(const void *out, const char **why);
};

#define DOC_ELEMS_MAX 12

struct doc_parse {
    XML_Parser parser;
    const struct doc_schema *schema;
    void *out;
    int err;
    const char *why;
    int depth;
    int stack[DOC_DEPTH_MAX];
    unsigned seen[DOC_ELEMS_MAX];
    /* the open text element's destination */
    char *text;
    size_t text_len, text_cap;
    /* the open binary element's destination */
    struct doc_b64 b64;
};

/* Record the first refusal and stop expat; returns err for the caller's convenience. */
static int doc_fail(struct doc_parse *x, int err, const char *why)
{
    if (!x->err) {
        x->err = err;
        x->why = why;
        XML_StopParser(x->parser, XML_FALSE);
    }
    return err;
}

static const struct doc_elem *doc_top(const struct doc_parse *x)
{
    return &x->schema->elems[x->stack[x->depth - 1]];
}

static int doc_find(const struct doc_schema *s, int parent, const XML_Char *name)
{
    for (size_t i = 0; i < s->count; i++)
        if (s->elems[i].parent == parent && strcmp(s->elems[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* XML 1.0 §2.3 S: the only characters allowed between elements. */
static bool doc_xml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Pick the attributes named in names[n] out of expat's list (name, value, ..., NULL) into vals[]
 * (NULL when absent); any other attribute is refused. expat has already refused a repeated one
 * (XML 1.0 §3.1, WFC: Unique Att Spec).
 */
static int doc_attrs(struct doc_parse *x, int id, const XML_Char **atts, const char *const *names,
                     const char **vals, size_t n)
{
    for (size_t i = 0; i < n; i++)
        vals[i] = NULL;
    for (; atts[0]; atts += 2) {
        size_t i = 0;
        while (i < n && strcmp(atts[0], names[i]) != 0)
            i++;
        if (i == n)
            return doc_fail(x, -EINVAL, x->schema->elems[id].why_attr);
        vals[i] = atts[1];
    }
    return 0;
}

/* Elements other than the two with attributes take none. */
static int doc_no_attrs(struct doc_parse *x, int id, const XML_Char **atts)
{
    return atts[0] ? doc_fail(x, -EINVAL, x->schema->elems[id].why_attr) : 0;
}

static void doc_sink_text(struct doc_parse *x, char *buf, size_t cap)
{
    x->text = buf;
    x->text_len = 0;
    x->text_cap = cap;
    buf[0] = '\0';
}

static void XMLCALL doc_on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct doc_parse *x = ud;
    int parent = -1;

    if (x->err)
        return;
    /* Checked first, so it holds whatever the schema becomes. */
    if (x->depth >= DOC_DEPTH_MAX) {
        doc_fail(x, -EINVAL, "elements nested deeper than " DOC_STR(DOC_DEPTH_MAX));
        return;
    }
    if (x->depth > 0) {
        parent = x->stack[x->depth - 1];
        if (x->schema->elems[parent].content != DOC_CONTAINER) {
            doc_fail(x, -EINVAL, x->schema->elems[parent].why_inside);
            return;
        }
    }
    int id = doc_find(x->schema, parent, name);
    if (id < 0) {
        doc_fail(x, -EINVAL,
                 parent < 0 ? x->schema->why_root : x->schema->elems[parent].why_inside);
        return;
    }
    const struct doc_elem *e = &x->schema->elems[id];
    if (x->seen[id] >= e->max) {
        doc_fail(x, e->max > 1 ? -E2BIG : -EINVAL, e->why_repeated);
        return;
    }
    x->seen[id]++;
    x->stack[x->depth++] = id;
    x->text = NULL;
    (void)x->schema->open(x, id, atts);
}

static void doc_text_chars(struct doc_parse *x, const struct doc_elem *e, const XML_Char *s,
                           size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (x->text_len >= x->text_cap) {
            doc_fail(x, -E2BIG, e->why_long);
            return;
        }
        x->text[x->text_len++] = s[i];
    }
}

static void doc_binary_chars(struct doc_parse *x, const struct doc_elem *e, const XML_Char *s,
                             size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (doc_xml_space(s[i]))
            continue; /* doc.h: base64 may be wrapped or indented */
        int rc = doc_b64_put(&x->b64, s[i]);
        if (rc) {
            doc_fail(x, rc, rc == -E2BIG ? e->why_long : e->why_form);
            return;
        }
    }
}

static void XMLCALL doc_on_chars(void *ud, const XML_Char *s, int len)
{
    struct doc_parse *x = ud;

    if (x->err || x->depth == 0 || len <= 0)
        return;
    const struct doc_elem *e = doc_top(x);
    switch (e->content) {
    case DOC_CONTAINER:
        /* No mixed content: only the whitespace of indentation between elements. */
        for (int i = 0; i < len; i++) {
            if (!doc_xml_space(s[i])) {
                doc_fail(x, -EINVAL, e->why_text);
                return;
            }
        }
        break;
    case DOC_TEXT:
        doc_text_chars(x, e, s, (size_t)len);
        break;
    case DOC_BINARY:
        doc_binary_chars(x, e, s, (size_t)len);
        break;
    }
}

/* A container closes: every child it needs must have appeared. */
static int doc_close_container(struct doc_parse *x, int id)
{
    const struct doc_schema *s = x->schema;

    for (size_t i = 0; i < s->count; i++)
        if (s->elems[i].parent == id && x->seen[i] < s->elems[i].min)
            return doc_fail(x, -EINVAL, s->elems[i].why_missing);
    return 0;
}

static int doc_close_binary(struct doc_parse *x, const struct doc_elem *e)
{
    if (doc_b64_finish(&x->b64) != 0)
        return doc_fail(x, -EINVAL, e->why_truncated);
    if (*x->b64.len == 0)
        return doc_fail(x, -EINVAL, e->why_empty);
    if (!doc_der_ok(x->b64.out, *x->b64.len))
        return doc_fail(x, -EINVAL, e->why_der);
    return 0;
}

static void XMLCALL doc_on_end(void *ud, const XML_Char *name)
{
    struct doc_parse *x = ud;
    int rc = 0;

    (void)name; /* expat has matched it with its start tag */
    if (x->err || x->depth == 0)
        return;
    int id = x->stack[x->depth - 1];
    const struct doc_elem *e = doc_top(x);
    if (e->content == DOC_TEXT)
        x->text[x->text_len] = '\0';
    else if (e->content == DOC_BINARY)
        rc = doc_close_binary(x, e);
    else
        rc = doc_close_container(x, id);
    if (rc == 0)
        rc = x->schema->close(x, id);
    if (rc == 0)
        x->depth--;
}

/* XML 1.0 §2.8: version 1.0; §4.3.3: the only encoding we take is UTF-8. The parser was
 * created for UTF-8, which makes expat ignore a declared encoding, so refuse it here instead. */
static bool doc_ascii_caseeq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char ca = (*a >= 'a' && *a <= 'z') ? (char)(*a - 'a' + 'A') : *a;
        if (ca != *b)
            return false;
    }
    return *a == *b;
}

static void XMLCALL doc_on_xmldecl(void *ud, const XML_Char *version, const XML_Char *encoding,
                                   int standalone)
{
    struct doc_parse *x = ud;

    (void)standalone;
    if (x->err)
        return;
    if (!version || strcmp(version, "1.0") != 0)
        doc_fail(x, -EINVAL, "XML version must be 1.0");
    else if (encoding && !doc_ascii_caseeq(encoding, "UTF-8"))
        doc_fail(x, -EINVAL, "encoding must be UTF-8");
}

static void XMLCALL doc_on_pi(void *ud, const XML_Char *target, const XML_Char *data)
{
    (void)target;
    (void)data;
    doc_fail(ud, -EINVAL, "processing instruction");
}

/* No DTD at all: refused where it starts, before expat reads any declaration in it. */
static void XMLCALL doc_on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                                   const XML_Char *pubid, int has_internal_subset)
{
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal_subset;
    doc_fail(ud, -EINVAL, "DOCTYPE (DTDs are refused)");
}

/* Unreachable behind the DOCTYPE refusal; kept so that no entity survives a future change. */
static void XMLCALL doc_on_entity_decl(void *ud, const XML_Char *name, int is_param,
                                       const XML_Char *value, int value_len, const XML_Char *base,
                                       const XML_Char *sysid, const XML_Char *pubid,
                                       const XML_Char *notation)
{
    (void)name;
    (void)is_param;
    (void)value;
    (void)value_len;
    (void)base;
    (void)sysid;
    (void)pubid;
    (void)notation;
    doc_fail(ud, -EINVAL, "entity declaration");
}

static int XMLCALL doc_on_external_entity(XML_Parser parser, const XML_Char *context,
                                          const XML_Char *base, const XML_Char *sysid,
                                          const XML_Char *pubid)
{
    (void)context;
    (void)base;
    (void)sysid;
    (void)pubid;
    doc_fail(XML_GetUserData(parser), -EINVAL, "external entity");
    return XML_STATUS_ERROR;
}

static void XMLCALL doc_on_skipped_entity(void *ud, const XML_Char *name, int is_param)
{
    (void)name;
    (void)is_param;
    doc_fail(ud, -EINVAL, "entity reference");
}

/* expat allocates through the counted, capped crypto heap like mbedTLS. */
static void *doc_malloc(size_t size)
{
    return crypto_calloc(1, size);
}

static const XML_Memory_Handling_Suite doc_mem = {doc_malloc, crypto_realloc, crypto_free};

/*
 * The salt of expat's SipHash tables (the only one an attacker fills before our handlers run
 * holds the attribute names of one start tag). From the token-seeded RNG when it is seeded.
 * Before that, a per-parse counter mixed with the length: predictable, but what it protects is
 * bounded anyway — a document is at most DOC_LICENSE_XML_MAX bytes and a parse at most
 * DOC_PARSE_HEAP_MAX of memory, so one tag holds at most a few thousand distinct names, and even
 * all of them colliding costs a few million short comparisons, not a hang. Never 0, which would
 * make expat gather entropy itself (crypto/expat/expat_config.h).
 */
static unsigned long doc_salt(size_t len)
{
    static unsigned long counter;
    unsigned long salt = 0;

    if (rng_random(NULL, (unsigned char *)&salt, sizeof(salt)) != 0) {
        counter++;
        salt = (counter * 2654435761ul) ^ ((unsigned long)len << 7) ^ 0x5167u;
    }
    return salt ? salt : 1;
}

/* What can be decided from the bytes alone, before any parser exists. */
static int doc_precheck(const char *xml, size_t len, const struct doc_schema *schema,
                        const char **why)
{
    if (len > schema->max_len) {
        *why = schema->why_big;
        return -E2BIG;
    }
    if (len == 0) {
        *why = "empty document";
        return -EINVAL;
    }
    /* Created for UTF-8, expat still detects UTF-16 from a byte-order mark or from "<" next to
     * a zero byte (XML 1.0 Appendix F) and reads the document as such: refuse both here. */
    if (len >= 2 && (((uint8_t)xml[0] == 0xfe && (uint8_t)xml[1] == 0xff) ||
                     ((uint8_t)xml[0] == 0xff && (uint8_t)xml[1] == 0xfe))) {
        *why = "UTF-16 document (only UTF-8 is accepted)";
        return -EINVAL;
    }
    /* XML 1.0 §2.2 excludes U+0000; a NUL here means UTF-16/32 or garbage. */
    if (memchr(xml, '\0', len)) {
        *why = "NUL byte (only UTF-8 is accepted)";
        return -EINVAL;
    }
    return 0;
}

static XML_Parser doc_parser_new(struct doc_parse *x, size_t len)
{
    XML_Parser p = XML_ParserCreate_MM("UTF-8", &doc_mem, NULL);

    if (!p)
        return NULL;
    x->parser = p;
    (void)XML_SetHashSalt(p, doc_salt(len)); /* cannot fail before XML_Parse */
    XML_SetUserData(p, x);
    XML_SetElementHandler(p, doc_on_start, doc_on_end);
    XML_SetCharacterDataHandler(p, doc_on_chars);
    XML_SetXmlDeclHandler(p, doc_on_xmldecl);
    XML_SetProcessingInstructionHandler(p, doc_on_pi);
    XML_SetStartDoctypeDeclHandler(p, doc_on_doctype);
    XML_SetEntityDeclHandler(p, doc_on_entity_decl);
    XML_SetExternalEntityRefHandler(p, doc_on_external_entity);
    XML_SetSkippedEntityHandler(p, doc_on_skipped_entity);
    return p;
}

/* Parse xml against the schema into out (size bytes); on failure out is wiped. */
static int doc_parse_xml(const char *xml, size_t len, const struct doc_schema *schema, void *out,
                         size_t size, const char **why)
{
    struct doc_parse x = {.schema = schema, .out = out};
    XML_Parser p = NULL;
    const char *reason = "bad arguments";
    int ret = -EINVAL;
    bool budget = false;

    if (!xml || !out)
        goto out;
    memset(out, 0, size);
    ret = doc_precheck(xml, len, schema, &reason);
    if (ret)
        goto out;
    /* Out of memory means out of this parse's budget when that was the tighter limit. */
    budget = crypto_heap_limit(DOC_PARSE_HEAP_MAX);
    ret = budget ? -E2BIG : -ENOMEM;
    reason = budget ? "document needs more than " DOC_STR(DOC_PARSE_HEAP_MAX) " bytes to parse"
                    : "out of memory";
    p = doc_parser_new(&x, len);
    if (!p)
        goto out;
    if (XML_Parse(p, xml, (int)len, XML_TRUE) != XML_STATUS_OK || x.err) {
        enum XML_Error code = XML_GetErrorCode(p);
        if (x.err) {
            ret = x.err;
            reason = x.why;
        } else if (code != XML_ERROR_NO_MEMORY) {
            ret = -EINVAL;
            reason = XML_ErrorString(code);
        }
        goto out;
    }
    ret = schema->check ? schema->check(out, &reason) : 0;
out:
    if (p)
        XML_ParserFree(p);
    crypto_heap_unlimit();
    if (ret && out)
        memset(out, 0, size);
    if (why)
        *why = ret ? reason : NULL;
    return ret;
}

/* ---- the request ---- */

enum { RQ_ROOT, RQ_NAME, RQ_URL, RQ_SKU, RQ_VERSION, RQ_REVOCATION, RQ_REVOKER, RQ_KEY, RQ_POP };

static const struct doc_elem doc_request_elems[] = {
    [RQ_ROOT] = DOC_CONTAINER_ELEM("SignetRequest", -1),
    [RQ_NAME] = DOC_TEXT_ELEM("ServerName", RQ_ROOT, DOC_NAME_MAX, DOC_PRINTABLE),
    [RQ_URL] = DOC_TEXT_ELEM("ClusterUrl", RQ_ROOT, DOC_URL_MAX,
                             "must be an http:// or https:// URL in printable ASCII"),
    [RQ_SKU] = DOC_TEXT_ELEM("Sku", RQ_ROOT, DOC_SKU_MAX, DOC_PRINTABLE),
    [RQ_VERSION] = DOC_TEXT_ELEM("Version", RQ_ROOT, DOC_VERSION_MAX, DOC_PRINTABLE),
    [RQ_REVOCATION] = DOC_CONTAINER_ELEM("Revocation", RQ_ROOT),
    [RQ_REVOKER] = DOC_BINARY_ELEM("RevokerPublicKey", RQ_REVOCATION, 0, 1,
                                   DOC_ONCE("RevokerPublicKey"), DOC_KEY_MAX),
    [RQ_KEY] = DOC_BINARY_ELEM("PublicKey", RQ_ROOT, 1, 1, DOC_ONCE("PublicKey"), DOC_KEY_MAX),
    [RQ_POP] = DOC_BINARY_ELEM("ProofOfPossession", RQ_ROOT, 1, 1, DOC_ONCE("ProofOfPossession"),
                               DOC_CSR_MAX),
};

static int doc_request_root(struct doc_parse *x, struct doc_request *r, const XML_Char **atts)
{
    static const char *const names[] = {"version", "kind"};
    const char *vals[2];

    if (doc_attrs(x, RQ_ROOT, atts, names, vals, 2))
        return x->err;
    if (!vals[0] || strcmp(vals[0], "1") != 0)
        return doc_fail(x, -EINVAL, "<SignetRequest> version must be \"1\"");
    for (size_t k = 0; vals[1] && k < sizeof(doc_kind_names) / sizeof(doc_kind_names[0]); k++) {
        if (strcmp(vals[1], doc_kind_names[k]) == 0) {
            r->kind = (enum doc_request_kind)k;
            return 0;
        }
    }
    return doc_fail(x, -EINVAL,
                    "<SignetRequest> kind must be enrollment, renewal or subenrollment");
}

static int doc_request_revocation(struct doc_parse *x, struct doc_request *r, const XML_Char **atts)
{
    static const char *const names[] = {"type"};
    const char *type;

    if (doc_attrs(x, RQ_REVOCATION, atts, names, &type, 1))
        return x->err;
    if (type && strcmp(type, "standard") == 0)
        r->revocation = DOC_REVOCATION_STANDARD;
    else if (type && strcmp(type, "custom") == 0)
        r->revocation = DOC_REVOCATION_CUSTOM;
    else
        return doc_fail(x, -EINVAL, "<Revocation> type must be standard or custom");
    return 0;
}

static int doc_request_open(struct doc_parse *x, int id, const XML_Char **atts)
{
    struct doc_request *r = x->out;

    if (id == RQ_ROOT)
        return doc_request_root(x, r, atts);
    if (id == RQ_REVOCATION)
        return doc_request_revocation(x, r, atts);
    if (doc_no_attrs(x, id, atts))
        return x->err;
    switch (id) {
    case RQ_NAME:
        doc_sink_text(x, r->server_name, DOC_NAME_MAX);
        break;
    case RQ_URL:
        doc_sink_text(x, r->cluster_url, DOC_URL_MAX);
        break;
    case RQ_SKU:
        doc_sink_text(x, r->sku, DOC_SKU_MAX);
        break;
    case RQ_VERSION:
        doc_sink_text(x, r->version, DOC_VERSION_MAX);
        break;
    case RQ_REVOKER:
        if (r->revocation != DOC_REVOCATION_CUSTOM)
            return doc_fail(x, -EINVAL, "standard revocation takes no <RevokerPublicKey>");
        doc_b64_start(&x->b64, r->revoker_key, DOC_KEY_MAX, &r->revoker_key_len);
        break;
    case RQ_KEY:
        doc_b64_start(&x->b64, r->public_key, DOC_KEY_MAX, &r->public_key_len);
        break;
    default:
        doc_b64_start(&x->b64, r->pop, DOC_CSR_MAX, &r->pop_len);
        break;
    }
    return 0;
}

static int doc_request_close(struct doc_parse *x, int id)
{
    const struct doc_request *r = x->out;
    const char *form = doc_request_elems[id].why_form;

    switch (id) {
    case RQ_NAME:
        return doc_text_ok(r->server_name, sizeof(r->server_name)) ? 0 : doc_fail(x, -EINVAL, form);
    case RQ_URL:
        return doc_url_ok(r->cluster_url, sizeof(r->cluster_url)) ? 0 : doc_fail(x, -EINVAL, form);
    case RQ_SKU:
        return doc_text_ok(r->sku, sizeof(r->sku)) ? 0 : doc_fail(x, -EINVAL, form);
    case RQ_VERSION:
        return doc_text_ok(r->version, sizeof(r->version)) ? 0 : doc_fail(x, -EINVAL, form);
    case RQ_REVOCATION:
        if (r->revocation == DOC_REVOCATION_CUSTOM && x->seen[RQ_REVOKER] == 0)
            return doc_fail(x, -EINVAL, "custom revocation needs <RevokerPublicKey>");
        return 0;
    default:
        return 0;
    }
}

static const struct doc_schema doc_request_schema = {
    .elems = doc_request_elems,
    .count = sizeof(doc_request_elems) / sizeof(doc_request_elems[0]),
    .why_root = "root element is not <SignetRequest>",
    .max_len = DOC_XML_MAX,
    .why_big = "document larger than " DOC_STR(DOC_XML_MAX) " bytes",
    .open = doc_request_open,
    .close = doc_request_close,
    .check = doc_request_verdict,
};

int doc_request_parse(const char *xml, size_t len, struct doc_request *r, const char **why)
{
    return doc_parse_xml(xml, len, &doc_request_schema, r, sizeof(*r), why);
}

/* ---- the response ---- */

enum { RS_ROOT, RS_SLC, RS_CHAIN, RS_CERT };

static const struct doc_elem doc_response_elems[] = {
    [RS_ROOT] = DOC_CONTAINER_ELEM("SignetResponse", -1),
    [RS_SLC] = DOC_BINARY_ELEM("ServerLicensorCertificate", RS_ROOT, 1, 1,
                               DOC_ONCE("ServerLicensorCertificate"), DOC_CERT_MAX),
    [RS_CHAIN] = DOC_CONTAINER_ELEM("Chain", RS_ROOT),
    [RS_CERT] = DOC_BINARY_ELEM("Certificate", RS_CHAIN, 1, DOC_CHAIN_MAX,
                                "more than " DOC_STR(DOC_CHAIN_MAX) " <Certificate> in <Chain>",
                                DOC_CERT_MAX),
};

static int doc_response_open(struct doc_parse *x, int id, const XML_Char **atts)
{
    static const char *const names[] = {"version"};
    struct doc_response *r = x->out;
    const char *version;

    if (id == RS_ROOT) {
        if (doc_attrs(x, RS_ROOT, atts, names, &version, 1))
            return x->err;
        if (!version || strcmp(version, "1") != 0)
            return doc_fail(x, -EINVAL, "<SignetResponse> version must be \"1\"");
        return 0;
    }
    if (doc_no_attrs(x, id, atts))
        return x->err;
    if (id == RS_SLC) {
        doc_b64_start(&x->b64, r->slc, DOC_CERT_MAX, &r->slc_len);
    } else if (id == RS_CERT) {
        /* The schema's max has already bounded chain_count by DOC_CHAIN_MAX. */
        size_t i = r->chain_count++;
        doc_b64_start(&x->b64, r->chain[i], DOC_CERT_MAX, &r->chain_len[i]);
    }
    return 0;
}

static int doc_response_close(struct doc_parse *x, int id)
{
    (void)x;
    (void)id;
    return 0;
}

static const struct doc_schema doc_response_schema = {
    .elems = doc_response_elems,
    .count = sizeof(doc_response_elems) / sizeof(doc_response_elems[0]),
    .why_root = "root element is not <SignetResponse>",
    .max_len = DOC_XML_MAX,
    .why_big = "document larger than " DOC_STR(DOC_XML_MAX) " bytes",
    .open = doc_response_open,
    .close = doc_response_close,
    .check = doc_response_verdict,
};

int doc_response_parse(const char *xml, size_t len, struct doc_response *r, const char **why)
{
    return doc_parse_xml(xml, len, &doc_response_schema, r, sizeof(*r), why);
}

/* ---- the license documents (certify, publish, license): one table per kind ---- */

/* The elements any of them may hold; a kind's table gives those it lacks no parent, so that
 * doc_find never matches them and they read as "unexpected element inside <root>". */
enum {
    LIC_ROOT,
    LIC_CSR,
    LIC_PL,
    LIC_UL,
    LIC_RAC,
    LIC_CHAIN,
    LIC_CERT,
    LIC_POLICY,
    LIC_GRANT,
    LIC_USER_CHAIN,
    LIC_USER_CERT,
    LIC_COUNT
};
#define LIC_NONE (-2)

/* Which fields a kind carries (doc.h's table), as bits of the element ids above. */
#define LIC_F(id)     (1u << (id))
#define LIC_IN(f, id) (((f)&LIC_F(id)) ? LIC_ROOT : LIC_NONE)
/* X(kind, root element, fields) in doc.h's order; the writer puts elements in id order. */
#define DOC_LICENSE_KINDS(X)                                                                       \
    X(DOC_CERTIFY_REQUEST, "SignetCertifyRequest", LIC_F(LIC_CSR) | LIC_F(LIC_USER_CHAIN))         \
    X(DOC_CERTIFY_RESPONSE, "SignetCertifyResponse", LIC_F(LIC_RAC) | LIC_F(LIC_CHAIN))            \
    X(DOC_PUBLISH_REQUEST, "SignetPublishRequest",                                                 \
      LIC_F(LIC_RAC) | LIC_F(LIC_CHAIN) | LIC_F(LIC_POLICY))                                       \
    X(DOC_PUBLISH_RESPONSE, "SignetPublishResponse",                                               \
      LIC_F(LIC_PL) | LIC_F(LIC_UL) | LIC_F(LIC_CHAIN))                                            \
    X(DOC_LICENSE_REQUEST, "SignetLicenseRequest",                                                 \
      LIC_F(LIC_PL) | LIC_F(LIC_RAC) | LIC_F(LIC_CHAIN))                                           \
    X(DOC_LICENSE_RESPONSE, "SignetLicenseResponse", LIC_F(LIC_UL) | LIC_F(LIC_CHAIN))

#define LIC_KINDS (DOC_LICENSE_RESPONSE + 1)

/* A Grant: an empty container whose content is its two attributes. */
#define DOC_GRANT_ELEM                                                                             \
    {                                                                                              \
        DOC_ELEM("Grant", LIC_POLICY, DOC_CONTAINER, 1, DOC_GRANTS_MAX,                            \
                 "more than " DOC_STR(DOC_GRANTS_MAX) " <Grant> in <Policy>"),                     \
            .why_text = "text inside <Grant>"                                                      \
    }

#define LIC_ELEMS(k, root, f)                                                                      \
    [k] = {                                                                                        \
        [LIC_ROOT] = DOC_CONTAINER_ELEM(root, -1),                                                 \
        [LIC_CSR] = DOC_BINARY_ELEM("CertificateRequest", LIC_IN(f, LIC_CSR), 1, 1,                \
                                    DOC_ONCE("CertificateRequest"), DOC_CSR_MAX),                  \
        [LIC_PL] = DOC_BINARY_ELEM("PublishingLicense", LIC_IN(f, LIC_PL), 1, 1,                   \
                                   DOC_ONCE("PublishingLicense"), DOC_LICENSE_MAX),                \
        [LIC_UL] = DOC_BINARY_ELEM("UseLicense", LIC_IN(f, LIC_UL), 1, 1, DOC_ONCE("UseLicense"),  \
                                   DOC_LICENSE_MAX),                                               \
        [LIC_RAC] = DOC_BINARY_ELEM("RightsAccountCertificate", LIC_IN(f, LIC_RAC), 1, 1,          \
                                    DOC_ONCE("RightsAccountCertificate"), DOC_CERT_MAX),           \
        [LIC_CHAIN] = DOC_CONTAINER_ELEM("Chain", LIC_IN(f, LIC_CHAIN)),                           \
        [LIC_CERT] = DOC_BINARY_ELEM(                                                              \
            "Certificate", LIC_CHAIN, 1, DOC_CHAIN_MAX,                                            \
            "more than " DOC_STR(DOC_CHAIN_MAX) " <Certificate> in <Chain>", DOC_CERT_MAX),        \
        [LIC_POLICY] = DOC_CONTAINER_ELEM("Policy", LIC_IN(f, LIC_POLICY)),                        \
        [LIC_GRANT] = DOC_GRANT_ELEM,                                                              \
        [LIC_USER_CHAIN] = DOC_OPTIONAL_CONTAINER_ELEM("UserChain", LIC_IN(f, LIC_USER_CHAIN)),    \
        [LIC_USER_CERT] = DOC_BINARY_ELEM(                                                         \
            "Certificate", LIC_USER_CHAIN, 1, DOC_USER_CHAIN_MAX,                                  \
            "more than " DOC_STR(DOC_USER_CHAIN_MAX) " <Certificate> in <UserChain>",              \
            DOC_CERT_MAX),                                                                         \
    },

static const struct doc_elem doc_license_elems[LIC_KINDS][LIC_COUNT] = {
    DOC_LICENSE_KINDS(LIC_ELEMS)};

#define LIC_FIELDS(k, root, f) [k] = (f),
static const unsigned doc_license_fields[LIC_KINDS] = {DOC_LICENSE_KINDS(LIC_FIELDS)};

static int doc_license_open(struct doc_parse *x, int id, const XML_Char **atts);
static int doc_license_close(struct doc_parse *x, int id);
static int doc_license_verdict(const void *out, const char **why);

#define LIC_SCHEMA(k, root, f)                                                                     \
    [k] = {                                                                                        \
        .elems = doc_license_elems[k],                                                             \
        .count = LIC_COUNT,                                                                        \
        .why_root = "expected " root " as the root element",                                       \
        .max_len = DOC_LICENSE_XML_MAX,                                                            \
        .why_big = "document larger than " DOC_STR(DOC_LICENSE_XML_MAX) " bytes",                  \
        .kind = k,                                                                                 \
        .why_version = DOC_TAG(root) " version must be \"1\"",                                     \
        .open = doc_license_open,                                                                  \
        .close = doc_license_close,                                                                \
        .check = doc_license_verdict,                                                              \
    },
static const struct doc_schema doc_license_schemas[LIC_KINDS] = {DOC_LICENSE_KINDS(LIC_SCHEMA)};

/* clang-format off */
#define DOC_GRANT_USER_FORM \
    "<Grant> user must be 1 to " DOC_STR(DOC_USER_MAX) " printable ASCII characters" \
    " without spaces at the ends"
/* clang-format on */
#define DOC_GRANT_RIGHTS_FORM                                                                      \
    "<Grant> rights must be distinct names from view, edit, print, export, forward, owner "        \
    "joined by single commas"

/* A user name, from our struct or from expat (NUL-terminated, of any length): never read past
 * its NUL nor past DOC_USER_MAX + 1 characters. */
static bool doc_user_ok(const char *s)
{
    size_t n = 0;

    while (n <= DOC_USER_MAX && s[n] != '\0')
        n++;
    return n <= DOC_USER_MAX && doc_text_ok(s, n + 1);
}

static bool doc_rights_ok(uint32_t rights)
{
    return rights != 0 && !(rights & ~X509_GRANTS_ALL);
}

static int doc_grants_check(const struct doc_license *d, const char **why)
{
    if (d->grant_count < 1 || d->grant_count > DOC_GRANTS_MAX) {
        *why = "<Policy> must hold 1 to " DOC_STR(DOC_GRANTS_MAX) " grants";
        return -EINVAL;
    }
    for (size_t i = 0; i < d->grant_count; i++) {
        const struct doc_grant *g = &d->grants[i];
        if (!doc_user_ok(g->user)) {
            *why = DOC_GRANT_USER_FORM;
            return -EINVAL;
        }
        if (!doc_rights_ok(g->rights)) {
            *why = DOC_GRANT_RIGHTS_FORM;
            return -EINVAL;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(d->grants[j].user, g->user) == 0) {
                *why = "a user has more than one <Grant> in <Policy>";
                return -EINVAL;
            }
        }
    }
    return 0;
}

static int doc_chain_check(size_t count, const uint8_t (*chain)[DOC_CERT_MAX], const size_t *lens,
                           const char **why)
{
    if (count < 1 || count > DOC_CHAIN_MAX) {
        *why = "chain must hold 1 to " DOC_STR(DOC_CHAIN_MAX) " certificates";
        return -EINVAL;
    }
    for (size_t i = 0; i < count; i++) {
        if (!doc_binary_ok(chain[i], lens[i], DOC_CERT_MAX)) {
            *why = "bad certificate in the chain";
            return -EINVAL;
        }
    }
    return 0;
}

/* The optional UserChain: none, or 1..DOC_USER_CHAIN_MAX well-formed certificates, and only in a
 * kind that carries it. */
static int doc_user_chain_check(bool carried, const struct doc_license *d, const char **why)
{
    if (!carried && d->user_chain_count != 0) {
        *why = "unexpected user chain";
        return -EINVAL;
    }
    if (d->user_chain_count > DOC_USER_CHAIN_MAX) {
        *why = "<UserChain> must hold 1 to " DOC_STR(DOC_USER_CHAIN_MAX) " certificates";
        return -EINVAL;
    }
    for (size_t i = 0; i < d->user_chain_count; i++) {
        if (!doc_binary_ok(d->user_chain[i], d->user_chain_len[i], DOC_CERT_MAX)) {
            *why = "bad certificate in the user chain";
            return -EINVAL;
        }
    }
    return 0;
}

/* A binary field: well formed when its kind carries it, empty when it does not. */
static int doc_field_check(bool carried, const uint8_t *p, size_t len, size_t max,
                           const char *why_bad, const char **why)
{
    if (carried ? doc_binary_ok(p, len, max) : len == 0)
        return 0;
    *why = why_bad;
    return -EINVAL;
}

/* The one verdict on a license document, whether we are about to write it or have just read it:
 * every field its kind carries present and in bounds, every other field empty. */
static int doc_license_check(const struct doc_license *d, const char **why)
{
    int ret;

    if ((unsigned)d->kind >= LIC_KINDS) {
        *why = "unknown license document kind";
        return -EINVAL;
    }
    unsigned f = doc_license_fields[d->kind];
    if ((ret = doc_field_check(f & LIC_F(LIC_CSR), d->csr, d->csr_len, DOC_CSR_MAX,
                               "bad or unexpected certificate request", why)) ||
        (ret = doc_field_check(f & LIC_F(LIC_PL), d->pl, d->pl_len, DOC_LICENSE_MAX,
                               "bad or unexpected publishing license", why)) ||
        (ret = doc_field_check(f & LIC_F(LIC_UL), d->ul, d->ul_len, DOC_LICENSE_MAX,
                               "bad or unexpected use license", why)) ||
        (ret = doc_field_check(f & LIC_F(LIC_RAC), d->rac, d->rac_len, DOC_CERT_MAX,
                               "bad or unexpected rights account certificate", why)))
        return ret;
    if (f & LIC_F(LIC_CHAIN)) {
        if ((ret = doc_chain_check(d->chain_count, d->chain, d->chain_len, why)) != 0)
            return ret;
    } else if (d->chain_count != 0) {
        *why = "unexpected chain";
        return -EINVAL;
    }
    if ((ret = doc_user_chain_check(f & LIC_F(LIC_USER_CHAIN), d, why)) != 0)
        return ret;
    if (f & LIC_F(LIC_POLICY))
        return doc_grants_check(d, why);
    if (d->grant_count != 0) {
        *why = "unexpected policy";
        return -EINVAL;
    }
    return 0;
}

static int doc_license_verdict(const void *out, const char **why)
{
    return doc_license_check(out, why);
}

/* XML 1.0 §3.1 AttValue: '<', '&' and the delimiting '"' must be escaped; '>' for symmetry. */
static void doc_put_attr(struct doc_out *w, const char *name, const char *value)
{
    doc_puts(w, " ");
    doc_puts(w, name);
    doc_puts(w, "=\"");
    for (const char *s = value; *s; s++) {
        if (*s == '"')
            doc_puts(w, "&quot;");
        else
            doc_put_escaped_char(w, *s);
    }
    doc_puts(w, "\"");
}

static void doc_put_policy(struct doc_out *w, const struct doc_license *d)
{
    char rights[64];

    doc_puts(w, "  <Policy>\n");
    for (size_t i = 0; i < d->grant_count; i++) {
        /* doc_license_check has bounded the rights: they always fit */
        if (x509_grant_format(d->grants[i].rights, rights, sizeof(rights)) != 0) {
            w->full = true;
            return;
        }
        doc_puts(w, "    <Grant");
        doc_put_attr(w, "user", d->grants[i].user);
        doc_put_attr(w, "rights", rights);
        doc_puts(w, "/>\n");
    }
    doc_puts(w, "  </Policy>\n");
}

int doc_license_write(const struct doc_license *d, char *out, size_t cap, size_t *len)
{
    struct doc_out w;
    const char *why;
    int ret = doc_out_begin(&w, out, cap, len);

    if (ret)
        goto out;
    ret = -EINVAL;
    if (!d || doc_license_check(d, &why) != 0)
        goto out;
    const struct doc_elem *e = doc_license_elems[d->kind];
    unsigned f = doc_license_fields[d->kind];
    doc_puts(&w, DOC_XML_DECL "<");
    doc_puts(&w, e[LIC_ROOT].name);
    doc_puts(&w, " version=\"1\">\n");
    if (f & LIC_F(LIC_CSR))
        doc_put_binary_elem(&w, "  ", e[LIC_CSR].name, d->csr, d->csr_len);
    if (f & LIC_F(LIC_PL))
        doc_put_binary_elem(&w, "  ", e[LIC_PL].name, d->pl, d->pl_len);
    if (f & LIC_F(LIC_UL))
        doc_put_binary_elem(&w, "  ", e[LIC_UL].name, d->ul, d->ul_len);
    if (f & LIC_F(LIC_RAC))
        doc_put_binary_elem(&w, "  ", e[LIC_RAC].name, d->rac, d->rac_len);
    if (f & LIC_F(LIC_CHAIN)) {
        doc_puts(&w, "  <Chain>\n");
        for (size_t i = 0; i < d->chain_count; i++)
            doc_put_binary_elem(&w, "    ", "Certificate", d->chain[i], d->chain_len[i]);
        doc_puts(&w, "  </Chain>\n");
    }
    if (f & LIC_F(LIC_POLICY))
        doc_put_policy(&w, d);
    if (d->user_chain_count) {
        doc_puts(&w, "  <UserChain>\n");
        for (size_t i = 0; i < d->user_chain_count; i++)
            doc_put_binary_elem(&w, "    ", "Certificate", d->user_chain[i], d->user_chain_len[i]);
        doc_puts(&w, "  </UserChain>\n");
    }
    doc_puts(&w, "</");
    doc_puts(&w, e[LIC_ROOT].name);
    doc_puts(&w, ">\n");
    ret = doc_out_end(&w, len);
out:
    return ret;
}

/* <Grant user="..." rights="..."/>: both attributes, checked as they arrive, users distinct. */
static int doc_license_grant(struct doc_parse *x, struct doc_license *d, const XML_Char **atts)
{
    static const char *const names[] = {"user", "rights"};
    const char *vals[2];
    uint32_t rights;

    if (doc_attrs(x, LIC_GRANT, atts, names, vals, 2))
        return x->err;
    if (!vals[0] || !vals[1])
        return doc_fail(x, -EINVAL, "<Grant> needs both user and rights");
    if (!doc_user_ok(vals[0]))
        return doc_fail(x, -EINVAL, DOC_GRANT_USER_FORM);
    if (x509_grant_parse(vals[1], &rights) != 0)
        return doc_fail(x, -EINVAL, DOC_GRANT_RIGHTS_FORM);
    for (size_t i = 0; i < d->grant_count; i++)
        if (strcmp(d->grants[i].user, vals[0]) == 0)
            return doc_fail(x, -EINVAL, "a user has more than one <Grant> in <Policy>");
    /* The schema's max has already bounded grant_count by DOC_GRANTS_MAX. */
    struct doc_grant *g = &d->grants[d->grant_count++];
    memcpy(g->user, vals[0], strlen(vals[0]) + 1);
    g->rights = rights;
    return 0;
}

static int doc_license_open(struct doc_parse *x, int id, const XML_Char **atts)
{
    static const char *const names[] = {"version"};
    struct doc_license *d = x->out;
    const char *version;

    if (id == LIC_ROOT) {
        if (doc_attrs(x, LIC_ROOT, atts, names, &version, 1))
            return x->err;
        if (!version || strcmp(version, "1") != 0)
            return doc_fail(x, -EINVAL, x->schema->why_version);
        d->kind = (enum doc_license_kind)x->schema->kind;
        return 0;
    }
    if (id == LIC_GRANT)
        return doc_license_grant(x, d, atts);
    if (doc_no_attrs(x, id, atts))
        return x->err;
    switch (id) {
    case LIC_CSR:
        doc_b64_start(&x->b64, d->csr, DOC_CSR_MAX, &d->csr_len);
        break;
    case LIC_PL:
        doc_b64_start(&x->b64, d->pl, DOC_LICENSE_MAX, &d->pl_len);
        break;
    case LIC_UL:
        doc_b64_start(&x->b64, d->ul, DOC_LICENSE_MAX, &d->ul_len);
        break;
    case LIC_RAC:
        doc_b64_start(&x->b64, d->rac, DOC_CERT_MAX, &d->rac_len);
        break;
    case LIC_CERT: {
        /* The schema's max has already bounded chain_count by DOC_CHAIN_MAX. */
        size_t i = d->chain_count++;
        doc_b64_start(&x->b64, d->chain[i], DOC_CERT_MAX, &d->chain_len[i]);
        break;
    }
    case LIC_USER_CERT: {
        /* The schema's max has already bounded user_chain_count by DOC_USER_CHAIN_MAX. */
        size_t i = d->user_chain_count++;
        doc_b64_start(&x->b64, d->user_chain[i], DOC_CERT_MAX, &d->user_chain_len[i]);
        break;
    }
    default: /* Chain, Policy, UserChain: containers, checked by the schema */
        break;
    }
    return 0;
}

static int doc_license_close(struct doc_parse *x, int id)
{
    (void)x;
    (void)id;
    return 0;
}

int doc_license_parse(const char *xml, size_t len, enum doc_license_kind expect,
                      struct doc_license *d, const char **why)
{
    const char *reason = "unknown license document kind";
    int ret = -EINVAL;

    if ((unsigned)expect >= LIC_KINDS) {
        if (d)
            memset(d, 0, sizeof(*d));
        goto out;
    }
    ret = doc_parse_xml(xml, len, &doc_license_schemas[expect], d, sizeof(*d), &reason);
out:
    if (why)
        *why = reason;
    return ret;
}

_Static_assert(LIC_COUNT <= DOC_ELEMS_MAX, "license schemas fit doc_parse.seen");
_Static_assert(DOC_LICENSE_XML_MAX <= 0x7fffffff, "XML_Parse takes an int length");
_Static_assert(DOC_USER_MAX == X509_CN_MAX, "a grant's user is a RAC's CN");
_Static_assert(DOC_GRANTS_MAX == X509_GRANTS_MAX, "a policy fits a publishing license");
_Static_assert(DOC_USER_CHAIN_MAX == X509_USER_CHAIN_MAX, "a user chain is what x509_user takes");

_Static_assert(sizeof(doc_request_elems) / sizeof(doc_request_elems[0]) <= DOC_ELEMS_MAX,
               "request schema fits doc_parse.seen");
_Static_assert(sizeof(doc_response_elems) / sizeof(doc_response_elems[0]) <= DOC_ELEMS_MAX,
               "response schema fits doc_parse.seen");
_Static_assert(DOC_XML_MAX <= 0x7fffffff, "XML_Parse takes an int length");

/* ---- armor (RFC 7468 textual encoding, our labels) ---- */

/* Labels as RFC 7468 §3 allows them, narrowed to what we use: capitals, digits, single spaces. */
static int doc_label_len(const char *label, size_t *n)
{
    const char *z = label ? memchr(label, '\0', DOC_LABEL_MAX + 1) : NULL;

    if (!z || z == label || label[0] == ' ' || z[-1] == ' ')
        return -EINVAL;
    for (const char *p = label; p < z; p++) {
        bool ok = (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == ' ';
        if (!ok || (*p == ' ' && p[1] == ' '))
            return -EINVAL;
    }
    *n = (size_t)(z - label);
    return 0;
}

int doc_armor(const char *label, const uint8_t *data, size_t len, char *out, size_t cap,
              size_t *olen)
{
    struct doc_out w;
    size_t label_len;
    int ret = doc_out_begin(&w, out, cap, olen);

    if (ret)
        goto out;
    ret = -EINVAL;
    if (doc_label_len(label, &label_len) != 0 || (!data && len))
        goto out;
    doc_puts(&w, DOC_ARMOR_BEGIN);
    doc_put(&w, label, label_len);
    doc_puts(&w, DOC_ARMOR_DASHES "\n");
    /* 48 bytes are 64 base64 characters: one full line each. */
    for (size_t off = 0; off < len && !w.full; off += DOC_ARMOR_COLS / 4 * 3) {
        size_t n = len - off < DOC_ARMOR_COLS / 4 * 3 ? len - off : DOC_ARMOR_COLS / 4 * 3;
        doc_put_base64(&w, data + off, n);
        doc_puts(&w, "\n");
    }
    doc_puts(&w, DOC_ARMOR_END);
    doc_put(&w, label, label_len);
    doc_puts(&w, DOC_ARMOR_DASHES "\n");
    ret = doc_out_end(&w, olen);
out:
    return ret;
}

/* The next line of [*p, end): its start and length without "\n", trailing "\r" and spaces. */
static void doc_next_line(const char **p, const char *end, const char **line, size_t *n)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    const char *stop = nl ? nl : end;

    *line = *p;
    *p = nl ? nl + 1 : end;
    while (stop > *line && (stop[-1] == ' ' || stop[-1] == '\r'))
        stop--;
    *n = (size_t)(stop - *line);
}

/* Is the line exactly "<head><label>-----"? */
static bool doc_boundary(const char *line, size_t n, const char *head, const char *label,
                         size_t label_len)
{
    size_t h = strlen(head), d = strlen(DOC_ARMOR_DASHES);

    return n == h + label_len + d && memcmp(line, head, h) == 0 &&
           memcmp(line + h, label, label_len) == 0 &&
           memcmp(line + h + label_len, DOC_ARMOR_DASHES, d) == 0;
}

static bool doc_starts(const char *line, size_t n, const char *head)
{
    size_t h = strlen(head);
    return n >= h && memcmp(line, head, h) == 0;
}

/* Decode the lines after BEGIN up to the matching END; *p is just past the BEGIN line. */
static int doc_unarmor_body(const char *p, const char *end, const char *label, size_t label_len,
                            struct doc_b64 *b, const char **why)
{
    const char *line;
    size_t n;

    while (p < end) {
        doc_next_line(&p, end, &line, &n);
        if (doc_boundary(line, n, DOC_ARMOR_END, label, label_len)) {
            *why = "base64 cut short (length not a multiple of 4)";
            return doc_b64_finish(b);
        }
        if (doc_starts(line, n, DOC_ARMOR_END)) {
            *why = "END line does not match the BEGIN line";
            return -EINVAL;
        }
        if (doc_starts(line, n, DOC_ARMOR_DASHES)) {
            *why = "missing END line";
            return -EINVAL;
        }
        if (n == 0) {
            *why = "empty line inside the armor";
            return -EINVAL;
        }
        if (n > DOC_ARMOR_LINE) {
            *why = "armor line longer than " DOC_STR(DOC_ARMOR_LINE) " characters";
            return -EINVAL;
        }
        for (size_t i = 0; i < n; i++) {
            int rc = doc_b64_put(b, line[i]);
            if (rc) {
                *why = rc == -E2BIG ? "armored data larger than its buffer" : "invalid base64";
                return rc;
            }
        }
    }
    *why = "missing END line";
    return -EINVAL;
}

int doc_unarmor(const char *text, size_t len, const char *label, uint8_t *out, size_t cap,
                size_t *olen, const char **why)
{
    const char *reason = "bad arguments";
    const char *p, *end;
    struct doc_b64 b;
    size_t label_len, got = 0;
    bool other = false;
    int ret = -EINVAL;

    if (!text || !olen || (!out && cap) || doc_label_len(label, &label_len) != 0)
        goto out;
    if (len > DOC_ARMOR_TEXT_MAX) {
        reason = "armored text larger than " DOC_STR(DOC_ARMOR_TEXT_MAX) " bytes";
        ret = -E2BIG;
        goto out;
    }
    doc_b64_start(&b, out, cap, &got);
    p = text;
    end = text + len;
    while (p < end) {
        const char *line;
        size_t n;
        doc_next_line(&p, end, &line, &n);
        if (doc_boundary(line, n, DOC_ARMOR_BEGIN, label, label_len)) {
            ret = doc_unarmor_body(p, end, label, label_len, &b, &reason);
            goto out;
        }
        /* A well-formed boundary for another label: say so rather than "no BEGIN". */
        other = other || (doc_starts(line, n, DOC_ARMOR_BEGIN) &&
                          n > strlen(DOC_ARMOR_BEGIN DOC_ARMOR_DASHES) &&
                          memcmp(line + n - strlen(DOC_ARMOR_DASHES), DOC_ARMOR_DASHES,
                                 strlen(DOC_ARMOR_DASHES)) == 0);
    }
    reason = other ? "armor has another label" : "no BEGIN line";
out:
    if (ret && out && got)
        memset(out, 0, got);
    if (olen)
        *olen = ret ? 0 : got;
    if (why)
        *why = ret ? reason : NULL;
    return ret;
}
