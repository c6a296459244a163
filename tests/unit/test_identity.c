/*
 * firmware/identity: the identity sources kept in the token (against a fake token object store)
 * and identity_who, the one decision of who a user request is for, against sources built from
 * tests/unit/vectors/identity (README.md there says what each certificate is; now is 2026-06-01).
 */
#include "firmware/identity/identity.h"

#include <errno.h>
#include <stdlib.h>

#include "pem_vectors.h"
#include "unit.h"

#ifndef IDENTITY_VECTORS
#define IDENTITY_VECTORS "tests/unit/vectors/identity"
#endif

/* ---- the fake token: one data object per name, a write that can fail ---- */

static struct {
    char name[32];
    uint8_t data[TOKEN_DATA_MAX];
    size_t len;
    bool used;
} objs[4];
static bool write_fails, read_fails;
static int writes;

CK_RV token_data_read(struct token *t, const char *name, uint8_t *out, size_t cap, size_t *len)
{
    (void)t;
    *len = 0;
    if (read_fails)
        return CKR_DEVICE_ERROR;
    for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++)
        if (objs[i].used && strcmp(objs[i].name, name) == 0) {
            if (objs[i].len > cap)
                return CKR_BUFFER_TOO_SMALL;
            memcpy(out, objs[i].data, objs[i].len);
            *len = objs[i].len;
        }
    return CKR_OK;
}

/* The ACL's serial prefixes (firmware/acl): any bytes do. */
CK_RV token_random(struct token *t, uint8_t *out, size_t len)
{
    (void)t;
    memset(out, 0x5a, len);
    return CKR_OK;
}

CK_RV token_data_write(struct token *t, const char *name, const uint8_t *data, size_t len)
{
    (void)t;
    if (write_fails || len > TOKEN_DATA_MAX)
        return CKR_DEVICE_ERROR;
    size_t free_slot = sizeof(objs) / sizeof(objs[0]);
    for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++) {
        if (objs[i].used && strcmp(objs[i].name, name) == 0) {
            free_slot = i;
            break;
        }
        if (!objs[i].used && free_slot == sizeof(objs) / sizeof(objs[0]))
            free_slot = i;
    }
    if (free_slot == sizeof(objs) / sizeof(objs[0]))
        return CKR_DEVICE_MEMORY;
    objs[free_slot].used = true;
    snprintf(objs[free_slot].name, sizeof(objs[free_slot].name), "%s", name);
    memcpy(objs[free_slot].data, data, len);
    objs[free_slot].len = len;
    writes++;
    return CKR_OK;
}

static struct token tok;

static void token_reset(void)
{
    memset(objs, 0, sizeof(objs));
    write_fails = read_fails = false;
    writes = 0;
}

static size_t stored_len(const char *name)
{
    for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++)
        if (objs[i].used && strcmp(objs[i].name, name) == 0)
            return objs[i].len;
    return 0;
}

/* ---- vectors ---- */

/* A vector file's certificates (tests/unit/pem_vectors.h). */
static bool load(const char *file, struct pem_vector *out)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", IDENTITY_VECTORS, file);
    return pem_vector_load(path, out) == 0;
}

static const x509_time now = {.year = 2026, .mon = 6, .day = 1, .hour = 12};

static struct identity ids;
static struct acl acl;
static const uint8_t lic_fp[X509_FP_LEN] = {0x11, 0x22, 0x33};

/* A loaded, empty store with an ACL granting lic_fp as "lic1". */
static void fresh(void)
{
    const char *why;
    token_reset();
    identity_init(&ids, &tok);
    acl_init(&acl, &tok);
    (void)identity_load(&ids, &why);
    (void)acl_load(&acl, &why);
    (void)acl_grant(&acl, lic_fp, "lic1", &why);
}

static int import_file(const char *file, const char *domains, const char **why)
{
    static struct pem_vector pf;
    if (!load(file, &pf))
        return -999;
    return identity_import(&ids, pf.certs[0].der, pf.certs[0].len, domains, &now, why);
}

/* identity_who for a user's TLS chain from a vector file. */
static int who_file(const char *file, struct identity_user *u, const char **why)
{
    static struct pem_vector pf;
    static const uint8_t fp[X509_FP_LEN] = {0xaa};
    if (!load(file, &pf))
        return -999;
    return identity_who(&ids, &acl, pf.certs, pf.n, fp, NULL, 0, &now, u, why);
}

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- domains ---- */

TEST(domains_parsed_lowercase)
{
    char d[IDENTITY_DOMAINS_MAX][IDENTITY_DOMAIN_MAX + 1];
    size_t n = 99;
    const char *why;
    CHECK_EQ(identity_parse_domains("Contoso.Example,corp.contoso.example", d, &n, &why), 0);
    CHECK_EQ(n, 2);
    CHECK_STR(d[0], "contoso.example");
    CHECK_STR(d[1], "corp.contoso.example");
    CHECK_EQ(identity_parse_domains("localhost", d, &n, &why), 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(identity_parse_domains("a-b.x1,b,c,d,e,f,g,h", d, &n, &why), 0);
    CHECK_EQ(n, 8);
}

TEST(domains_refused)
{
    static const char *bad[] = {"",
                                "contoso..example",
                                ".contoso.example",
                                "contoso.example.",
                                "-a.example",
                                "a-.example",
                                "a.-b",
                                "contoso.example,",
                                ",contoso.example",
                                "a b.example",
                                "a_b.example",
                                "alice@contoso.example",
                                "a,b,c,d,e,f,g,h,i",
                                "contoso.example,CONTOSO.example",
                                "caf\xc3\xa9.example",
                                "a;b"};
    char d[IDENTITY_DOMAINS_MAX][IDENTITY_DOMAIN_MAX + 1];
    size_t n;
    const char *why = NULL;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        n = 99;
        why = NULL;
        CHECK_EQ(identity_parse_domains(bad[i], d, &n, &why), -EINVAL);
        CHECK(why && *why && !strchr(why, '\n'));
        CHECK_EQ(n, 0);
    }
    CHECK_EQ(identity_parse_domains(NULL, d, &n, &why), -EINVAL);
    CHECK_EQ(identity_parse_domains("a,b,c,d,e,f,g,h,i", d, &n, &why), -EINVAL);
    CHECK_STR(why, "at most 8 domains per identity source");
    CHECK_EQ(identity_parse_domains("x.example,x.example", d, &n, &why), -EINVAL);
    CHECK_STR(why, "domain x.example is named twice");
}

TEST(domains_length_bounds)
{
    char d[IDENTITY_DOMAINS_MAX][IDENTITY_DOMAIN_MAX + 1];
    char text[200];
    size_t n;
    const char *why;
    /* 62 characters: the most a name of X509_CN_MAX leaves after "a@" */
    memset(text, 'a', 54);
    memcpy(text + 54, ".example", 9);
    CHECK_EQ(strlen(text), 62);
    CHECK_EQ(identity_parse_domains(text, d, &n, &why), 0);
    CHECK_STR(d[0], text);
    memset(text, 'a', 55);
    memcpy(text + 55, ".example", 9);
    CHECK_EQ(identity_parse_domains(text, d, &n, &why), -EINVAL);
    /* a label over 63 characters in a long text does not overrun anything */
    memset(text, 'b', 199);
    text[199] = '\0';
    CHECK_EQ(identity_parse_domains(text, d, &n, &why), -EINVAL);
}

/* ---- the store ---- */

TEST(import_list_reload)
{
    const char *why;
    fresh();
    CHECK_EQ(ids.count, 0);
    CHECK_EQ(import_file("contoso-root-ca.pem", "contoso.example,Corp.Contoso.Example", &why), 0);
    CHECK_EQ(import_file("fabrikam-ca.pem", "fabrikam.example", &why), 0);
    CHECK_EQ(ids.count, 2);
    CHECK_STR(ids.sources[0].subject, "CN=Contoso Users CA, O=Contoso");
    CHECK_EQ(ids.sources[0].domain_count, 2);
    CHECK_STR(ids.sources[0].domains[1], "corp.contoso.example");
    CHECK_EQ(ids.sources[0].not_after.year, 2045);

    /* what another member of the cluster reads from the same token */
    static struct identity other;
    identity_init(&other, &tok);
    CHECK_EQ(identity_load(&other, &why), 0);
    CHECK(other.loaded);
    CHECK_EQ(other.count, 2);
    for (size_t i = 0; i < 2; i++) {
        CHECK_EQ(memcmp(other.sources[i].fp, ids.sources[i].fp, X509_FP_LEN), 0);
        CHECK_STR(other.sources[i].subject, ids.sources[i].subject);
        CHECK_EQ(other.sources[i].cert_len, ids.sources[i].cert_len);
        CHECK_EQ(memcmp(&other.sources[i].not_after, &ids.sources[i].not_after, sizeof(x509_time)),
                 0);
        CHECK_EQ(other.sources[i].domain_count, ids.sources[i].domain_count);
    }
    CHECK_STR(other.sources[1].domains[0], "fabrikam.example");

    /* importing it again replaces its domains, and adds no second source */
    CHECK_EQ(import_file("contoso-root-ca.pem", "contoso.example", &why), 0);
    CHECK_EQ(ids.count, 2);
    CHECK_EQ(ids.sources[0].domain_count, 1);
}

TEST(import_refusals_change_nothing)
{
    const char *why;
    fresh();
    CHECK_EQ(import_file("contoso-root-ca.pem", "contoso.example", &why), 0);
    int w = writes;
    size_t len = stored_len("signet-identity");
    struct identity_source before = ids.sources[0];

    CHECK_EQ(import_file("user-alice.pem", "contoso.example", &why), -EINVAL); /* not a CA */
    CHECK(why && *why);
    CHECK_EQ(import_file("expired-ca.pem", "contoso.example", &why), -EINVAL);
    CHECK(why && *why);
    CHECK_EQ(import_file("fabrikam-ca.pem", "fabrikam..example", &why), -EINVAL);
    CHECK(starts(why, "domain 1 is not a DNS name"));
    CHECK_EQ(import_file("fabrikam-ca.pem", "", &why), -EINVAL);
    CHECK_EQ(import_file("contoso-root-ca.pem", "a,b,c,d,e,f,g,h,i", &why), -EINVAL);
    static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};
    CHECK_EQ(identity_import(&ids, junk, sizeof(junk), "x.example", &now, &why), -EINVAL);
    static uint8_t big[DOC_CERT_MAX + 1];
    CHECK_EQ(identity_import(&ids, big, sizeof(big), "x.example", &now, &why), -EINVAL);

    write_fails = true;
    CHECK_EQ(import_file("fabrikam-ca.pem", "fabrikam.example", &why), -EIO);
    CHECK_STR(why, "could not store the identity sources in the token");
    CHECK_EQ(identity_remove(&ids, before.fp, &why), -EIO);
    write_fails = false;

    CHECK_EQ(writes, w);
    CHECK_EQ(stored_len("signet-identity"), len);
    CHECK_EQ(ids.count, 1);
    CHECK_EQ(memcmp(&ids.sources[0], &before, sizeof(before)), 0);
}

TEST(store_full)
{
    const char *why;
    fresh();
    CHECK_EQ(import_file("contoso-root-ca.pem", "contoso.example", &why), 0);
    /* as many sources as the count allows: the ninth is refused */
    for (size_t i = 1; i < IDENTITY_SOURCES_MAX; i++) {
        ids.sources[i] = ids.sources[0];
        ids.sources[i].fp[0] ^= (uint8_t)i;
    }
    ids.count = IDENTITY_SOURCES_MAX;
    CHECK_EQ(import_file("fabrikam-ca.pem", "fabrikam.example", &why), -ENOSPC);
    CHECK(starts(why, "the identity store is full"));

    /* fewer, but too large together for the token object */
    ids.count = 1;
    for (size_t i = 1; i < 7; i++) {
        ids.sources[i].cert_len = DOC_CERT_MAX;
        ids.count++;
    }
    int w = writes;
    CHECK_EQ(import_file("fabrikam-ca.pem", "fabrikam.example", &why), -ENOSPC);
    CHECK(starts(why, "the identity store is full"));
    CHECK_EQ(writes, w);
    CHECK_EQ(ids.count, 7);
}

TEST(remove_source)
{
    const char *why;
    fresh();
    CHECK_EQ(import_file("contoso-root-ca.pem", "contoso.example", &why), 0);
    CHECK_EQ(import_file("fabrikam-ca.pem", "fabrikam.example", &why), 0);
    uint8_t fp[X509_FP_LEN] = {0};
    CHECK_EQ(identity_remove(&ids, fp, &why), -ENOENT);
    CHECK_STR(why, "no identity source has that fingerprint");
    memcpy(fp, ids.sources[0].fp, X509_FP_LEN);
    CHECK_EQ(identity_remove(&ids, fp, &why), 0);
    CHECK_EQ(ids.count, 1);
    CHECK_STR(ids.sources[0].domains[0], "fabrikam.example");
    static struct identity other;
    identity_init(&other, &tok);
    CHECK_EQ(identity_load(&other, &why), 0);
    CHECK_EQ(other.count, 1);
}

TEST(not_loaded_refuses_changes)
{
    const char *why;
    token_reset();
    identity_init(&ids, &tok);
    CHECK_EQ(import_file("contoso-root-ca.pem", "contoso.example", &why), -EIO);
    CHECK_STR(why, "the identity sources are not loaded (log in)");
    read_fails = true;
    CHECK_EQ(identity_load(&ids, &why), -EIO);
    CHECK(!ids.loaded);
    CHECK_EQ(writes, 0);
    /* loaded, then a refresh the token does not answer: what was loaded stays */
    read_fails = false;
    CHECK_EQ(identity_load(&ids, &why), 0);
    CHECK_EQ(import_file("contoso-root-ca.pem", "contoso.example", &why), 0);
    read_fails = true;
    CHECK_EQ(identity_load(&ids, &why), -EIO);
    CHECK_STR(why, "the token did not answer");
    CHECK(ids.loaded);
    CHECK_EQ(ids.count, 1);
}

TEST(damaged_record_trusts_nobody)
{
    const char *why;
    struct identity_user u;
    fresh();
    CHECK_EQ(import_file("contoso-root-ca.pem", "contoso.example", &why), 0);
    CHECK_EQ(who_file("user-alice.pem", &u, &why), 0);
    size_t len = stored_len("signet-identity");
    uint8_t saved[TOKEN_DATA_MAX];
    memcpy(saved, objs[1].data, len);
    CHECK_STR(objs[1].name, "signet-identity");

    /* cut short, a wrong length, a certificate byte changed, the domains damaged */
    size_t cuts[] = {len - 1, len / 2, 2};
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        objs[1].len = cuts[i];
        CHECK_EQ(identity_load(&ids, &why), -EINVAL);
        CHECK(starts(why, "the stored identity sources are damaged"));
        CHECK(ids.loaded && ids.damaged);
        CHECK_EQ(ids.count, 0);
        CHECK_EQ(who_file("user-alice.pem", &u, &why), -EPERM);
        CHECK_STR(why, "no identity source is trusted");
    }
    objs[1].len = len;
    objs[1].data[2] ^= 0x40; /* the source item's length */
    CHECK_EQ(identity_load(&ids, &why), -EINVAL);
    memcpy(objs[1].data, saved, len);
    objs[1].data[len - 10 - 1] = '.'; /* the domains' last two characters */
    objs[1].data[len - 10 - 2] = '.';
    CHECK_EQ(identity_load(&ids, &why), -EINVAL);
    memcpy(objs[1].data, saved, len);
    CHECK_EQ(identity_load(&ids, &why), 0);
    CHECK_EQ(ids.count, 1);
    CHECK(!ids.damaged);
    /* a second copy of the same source is damage too */
    memcpy(objs[1].data + len, saved, len);
    objs[1].len = 2 * len;
    CHECK_EQ(identity_load(&ids, &why), -EINVAL);
    /* nothing to remove; an import rewrites the record whole */
    uint8_t fp[X509_FP_LEN];
    memset(fp, 0, sizeof(fp));
    CHECK_EQ(identity_remove(&ids, fp, &why), -ENOENT);
    CHECK_EQ(import_file("fabrikam-ca.pem", "fabrikam.example", &why), 0);
    CHECK(!ids.damaged);
    CHECK_EQ(identity_load(&ids, &why), 0);
    CHECK_EQ(ids.count, 1);
    CHECK_EQ(who_file("user-alice.pem", &u, &why), -EPERM);
    CHECK_EQ(who_file("user-carol-ec.pem", &u, &why), 0);
}

/* ---- who ---- */

/* contoso's root for contoso.example, fabrikam's CA for fabrikam.example */
static void two_sources(void)
{
    const char *why;
    fresh();
    (void)import_file("contoso-root-ca.pem", "contoso.example", &why);
    (void)import_file("fabrikam-ca.pem", "fabrikam.example", &why);
}

TEST(who_no_source_no_certificate)
{
    struct identity_user u;
    const char *why;
    static const uint8_t fp[X509_FP_LEN];
    fresh();
    CHECK_EQ(who_file("user-alice.pem", &u, &why), -EPERM);
    CHECK_STR(why, "no identity source is trusted");
    CHECK_EQ(identity_who(&ids, &acl, NULL, 0, fp, NULL, 0, &now, &u, &why), -EPERM);
    CHECK_STR(why, "no identity source is trusted");
    two_sources();
    CHECK_EQ(identity_who(&ids, &acl, NULL, 0, fp, NULL, 0, &now, &u, &why), -EACCES);
    CHECK_STR(why, "authenticate with your identity certificate (a TLS client certificate from "
                   "your organisation's user CA)");
}

TEST(who_accepted)
{
    static const struct {
        const char *file, *name;
    } ok[] = {
        {"user-alice.pem", "alice@contoso.example"},
        {"user-bob-upn-chain.pem", "bob@contoso.example"},
        {"user-carol-ec.pem", "carol@fabrikam.example"},
        {"user-no-eku.pem", "noeku@contoso.example"},
        {"user-any-eku.pem", "anyeku@contoso.example"},
        {"user-email-and-same-upn.pem", "alice@contoso.example"},
        {"user-mixed-case.pem", "Alice.Smith@contoso.example"},
    };
    struct identity_user u;
    const char *why;
    two_sources();
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        why = NULL;
        int ret = who_file(ok[i].file, &u, &why);
        if (ret != 0)
            printf("# %s: %s\n", ok[i].file, why ? why : "?");
        CHECK_EQ(ret, 0);
        CHECK_STR(u.cert.name, ok[i].name);
        CHECK_STR(u.via, "");
    }
    CHECK_EQ(who_file("user-alice.pem", &u, &why), 0);
    CHECK(starts(u.cert.subject, "CN=alice"));
}

TEST(who_refused)
{
    static const struct {
        const char *file, *why; /* why: exact, or a prefix when it ends in '*' */
    } bad[] = {
        {"user-evil-alice.pem", "not issued by a trusted identity source"},
        {"user-bob-upn.pem", "not issued by a trusted identity source"}, /* no intermediate */
        {"user-expired.pem", "identity certificate expired on 2021-01-01"},
        {"user-not-yet-valid.pem", "identity certificate not valid before 2040-01-01"},
        {"user-eku-serverauth.pem",
         "identity certificate not meant for client authentication (extendedKeyUsage)"},
        {"user-ku-keyencipherment.pem",
         "identity certificate not meant for client authentication (keyUsage)"},
        {"user-no-san.pem",
         "identity certificate names no user (no rfc822Name or UPN in subjectAltName)"},
        {"user-two-emails.pem", "identity certificate names more than one user"},
        {"user-email-and-upn.pem", "identity certificate names more than one user"},
        {"user-is-ca.pem", "identity certificate *"},
        {"user-sha1.pem", "identity certificate *"},
        {"user-name-space.pem", "identity certificate *"},
        {"user-name-nonascii.pem", "identity certificate *"},
        {"user-name-long.pem", "identity certificate *"},
    };
    struct identity_user u;
    const char *why;
    two_sources();
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why = NULL;
        int ret = who_file(bad[i].file, &u, &why);
        if (ret != -EPERM || !why)
            printf("# %s: %d %s\n", bad[i].file, ret, why ? why : "?");
        CHECK_EQ(ret, -EPERM);
        CHECK(why && !strchr(why, '\n'));
        size_t n = strlen(bad[i].why);
        if (bad[i].why[n - 1] == '*') {
            CHECK(strncmp(why, bad[i].why, n - 1) == 0 && strlen(why) > n);
        } else {
            if (strcmp(why, bad[i].why) != 0)
                printf("# %s: %s\n", bad[i].file, why);
            CHECK_STR(why, bad[i].why);
        }
        CHECK_STR(u.cert.name, "");
        CHECK_STR(u.via, "");
    }
}

TEST(who_domains)
{
    struct identity_user u;
    const char *why;
    fresh();
    /* a subdomain does not cover its parent, nor the other way round */
    CHECK_EQ(import_file("contoso-root-ca.pem", "corp.contoso.example,contoso.test", &why), 0);
    CHECK_EQ(who_file("user-alice.pem", &u, &why), -EPERM);
    CHECK_STR(why, "alice@contoso.example is outside the domains its identity source vouches for");
    /* another organisation's CA cannot vouch for contoso's names */
    CHECK_EQ(import_file("fabrikam-ca.pem", "contoso.example", &why), 0);
    CHECK_EQ(who_file("user-alice.pem", &u, &why), -EPERM);
    CHECK_STR(why, "alice@contoso.example is outside the domains its identity source vouches for");
    CHECK_EQ(who_file("user-carol-ec.pem", &u, &why), -EPERM);
    CHECK_STR(why, "carol@fabrikam.example is outside the domains its identity source vouches for");
    CHECK_EQ(import_file("contoso-root-ca.pem", "contoso.example", &why), 0);
    CHECK_EQ(who_file("user-alice.pem", &u, &why), 0);
}

TEST(who_issuing_ca_as_source)
{
    struct identity_user u;
    const char *why;
    fresh();
    CHECK_EQ(import_file("contoso-issuing-ca.pem", "contoso.example", &why), 0);
    /* the leaf alone, and the leaf with the issuing CA it was sent with */
    CHECK_EQ(who_file("user-bob-upn.pem", &u, &why), 0);
    CHECK_STR(u.cert.name, "bob@contoso.example");
    CHECK_EQ(who_file("user-bob-upn-chain.pem", &u, &why), 0);
    /* the root's own users are not the issuing CA's */
    CHECK_EQ(who_file("user-alice.pem", &u, &why), -EPERM);
    CHECK_STR(why, "not issued by a trusted identity source");
}

TEST(who_forwarded)
{
    static struct pem_vector user, evil, server;
    struct identity_user u;
    const char *why;
    static const uint8_t other_fp[X509_FP_LEN] = {0x99};
    two_sources();
    CHECK(load("user-bob-upn-chain.pem", &user));
    CHECK(load("user-evil-alice.pem", &evil));
    CHECK(load("user-carol-ec.pem", &server)); /* the licensing server's TLS certificate */

    /* from the granted licensing server: the forwarded chain is the user */
    CHECK_EQ(identity_who(&ids, &acl, server.certs, 1, lic_fp, user.certs, user.n, &now, &u, &why),
             0);
    CHECK_STR(u.cert.name, "bob@contoso.example");
    CHECK_STR(u.via, "lic1");
    /* and verified here: an untrusted one is refused even from it */
    CHECK_EQ(identity_who(&ids, &acl, server.certs, 1, lic_fp, evil.certs, 1, &now, &u, &why),
             -EPERM);
    CHECK_STR(why, "not issued by a trusted identity source");
    CHECK_STR(u.via, "");
    /* from anyone else, or without a TLS client certificate: refused */
    CHECK_EQ(
        identity_who(&ids, &acl, server.certs, 1, other_fp, user.certs, user.n, &now, &u, &why),
        -EPERM);
    CHECK_STR(why, "a user chain is taken only from a granted licensing server");
    CHECK_EQ(identity_who(&ids, &acl, NULL, 0, lic_fp, user.certs, user.n, &now, &u, &why), -EPERM);
    CHECK_STR(why, "a user chain is taken only from a granted licensing server");
    /* once the grant is revoked, the server's forwarding is no longer honoured */
    CHECK_EQ(acl_revoke(&acl, lic_fp, &why), 0);
    CHECK_EQ(identity_who(&ids, &acl, server.certs, 1, lic_fp, user.certs, user.n, &now, &u, &why),
             -EPERM);
    CHECK_STR(why, "a user chain is taken only from a granted licensing server");
}

TEST(who_chain_too_long)
{
    static struct pem_vector a;
    struct x509_cert chain[X509_USER_CHAIN_MAX + 1];
    struct identity_user u;
    const char *why;
    static const uint8_t fp[X509_FP_LEN];
    two_sources();
    CHECK(load("user-alice.pem", &a));
    for (size_t i = 0; i < X509_USER_CHAIN_MAX + 1; i++)
        chain[i] = a.certs[0];
    CHECK_EQ(identity_who(&ids, &acl, chain, X509_USER_CHAIN_MAX + 1, fp, NULL, 0, &now, &u, &why),
             -EPERM);
    CHECK(starts(why, "identity certificate chain too long"));
    /* a garbage "certificate" is refused, never read past its end */
    static const uint8_t junk[] = {0x30, 0x82, 0xff, 0xff, 0x30};
    struct x509_cert j = {junk, sizeof(junk)};
    CHECK_EQ(identity_who(&ids, &acl, &j, 1, fp, NULL, 0, &now, &u, &why), -EPERM);
    CHECK_STR(why, "not issued by a trusted identity source");
}

TEST(who_after_remove)
{
    struct identity_user u;
    const char *why;
    two_sources();
    CHECK_EQ(who_file("user-alice.pem", &u, &why), 0);
    CHECK_EQ(identity_remove(&ids, ids.sources[0].fp, &why), 0);
    CHECK_EQ(who_file("user-alice.pem", &u, &why), -EPERM);
    CHECK_STR(why, "not issued by a trusted identity source");
    CHECK_EQ(who_file("user-carol-ec.pem", &u, &why), 0);
    CHECK_EQ(identity_remove(&ids, ids.sources[0].fp, &why), 0);
    CHECK_EQ(who_file("user-carol-ec.pem", &u, &why), -EPERM);
    CHECK_STR(why, "no identity source is trusted");
}

/* A verified chain is remembered, but only while what it was verified against still holds. */
TEST(who_remembers_only_what_still_holds)
{
    static struct pem_vector pf;
    static const uint8_t fp[X509_FP_LEN] = {0xaa};
    const x509_time later = {.year = 2045, .mon = 6, .day = 1};
    struct identity_user u, again;
    const char *why;

    two_sources();
    CHECK(load("user-alice.pem", &pf));
    CHECK_EQ(identity_who(&ids, &acl, pf.certs, pf.n, fp, NULL, 0, &now, &u, &why), 0);
    CHECK_EQ(identity_who(&ids, &acl, pf.certs, pf.n, fp, NULL, 0, &now, &again, &why), 0);
    CHECK_EQ(memcmp(&u.cert, &again.cert, sizeof(u.cert)), 0);
    /* Past the validity of the chain: verified again, so refused. */
    CHECK_EQ(identity_who(&ids, &acl, pf.certs, pf.n, fp, NULL, 0, &later, &u, &why), -EPERM);
    CHECK(starts(why, "identity certificate "));
    /* The source now vouches for other domains only: what was remembered is gone. */
    CHECK_EQ(identity_who(&ids, &acl, pf.certs, pf.n, fp, NULL, 0, &now, &u, &why), 0);
    CHECK_EQ(import_file("contoso-root-ca.pem", "other.example", &why), 0);
    CHECK_EQ(identity_who(&ids, &acl, pf.certs, pf.n, fp, NULL, 0, &now, &u, &why), -EPERM);
    CHECK_STR(why, "alice@contoso.example is outside the domains its identity source vouches for");
    /* One byte of the chain changed is another chain, verified (and refused) on its own. */
    CHECK_EQ(import_file("contoso-root-ca.pem", "contoso.example", &why), 0);
    CHECK_EQ(identity_who(&ids, &acl, pf.certs, pf.n, fp, NULL, 0, &now, &u, &why), 0);
    static uint8_t bent[DOC_CERT_MAX];
    memcpy(bent, pf.certs[0].der, pf.certs[0].len);
    bent[pf.certs[0].len - 1] ^= 1; /* the signature */
    struct x509_cert bad = {bent, pf.certs[0].len};
    CHECK_EQ(identity_who(&ids, &acl, &bad, 1, fp, NULL, 0, &now, &u, &why), -EPERM);
    /* Reloading the sources (a cluster member changed them) forgets too. */
    CHECK_EQ(identity_load(&ids, &why), 0);
    CHECK_EQ(ids.seen[0].used || ids.seen[1].used, false);
}

int main(void)
{
    RUN(domains_parsed_lowercase);
    RUN(domains_refused);
    RUN(domains_length_bounds);
    RUN(import_list_reload);
    RUN(import_refusals_change_nothing);
    RUN(store_full);
    RUN(remove_source);
    RUN(not_loaded_refuses_changes);
    RUN(damaged_record_trusts_nobody);
    RUN(who_no_source_no_certificate);
    RUN(who_accepted);
    RUN(who_refused);
    RUN(who_domains);
    RUN(who_issuing_ca_as_source);
    RUN(who_forwarded);
    RUN(who_chain_too_long);
    RUN(who_after_remove);
    RUN(who_remembers_only_what_still_holds);
    return unit_summary();
}
