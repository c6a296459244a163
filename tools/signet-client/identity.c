/*
 * tools/signet-client/identity — see identity.h. OpenSSL reads the PEM files and the
 * subjectAltName; the file reads are bounded (files.h) and the key's bytes are wiped after use.
 */
#include "identity.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "files.h"

static int say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return -1;
}

static const char *read_error(int err)
{
    return err == -E2BIG ? "larger than 64 KiB" : strerror(-err);
}

/* ---- the user's name in the leaf ---- */

/* An IA5String or UTF8String SAN value into out when it is a user name; out stays "" else. */
static void take_name(const ASN1_STRING *s, char out[IDENTITY_NAME_MAX + 1])
{
    char text[IDENTITY_NAME_MAX + 1];
    int len = s ? ASN1_STRING_length(s) : 0;

    if (len <= 0 || len > IDENTITY_NAME_MAX)
        return;
    memcpy(text, ASN1_STRING_get0_data(s), (size_t)len);
    text[len] = '\0';
    if (strlen(text) == (size_t)len && x509_user_name_ok(text))
        memcpy(out, text, (size_t)len + 1);
}

/* The one rfc822Name, or else the one UPN otherName, as crypto/x509_user.h reads them. */
static void leaf_name(X509 *leaf, struct identity *id)
{
    GENERAL_NAMES *sans = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
    char email[IDENTITY_NAME_MAX + 1] = "", upn[IDENTITY_NAME_MAX + 1] = "";
    int emails = 0, upns = 0;

    for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
        if (g->type == GEN_EMAIL) {
            emails++;
            take_name(g->d.rfc822Name, email);
        } else if (g->type == GEN_OTHERNAME && OBJ_obj2nid(g->d.otherName->type_id) == NID_ms_upn) {
            upns++;
            const ASN1_TYPE *v = g->d.otherName->value;
            if (v && v->type == V_ASN1_UTF8STRING)
                take_name(v->value.utf8string, upn);
        }
    }
    GENERAL_NAMES_free(sans);
    id->has_name = false;
    if (emails > 1 || (emails == 0 && upns > 1))
        id->no_name_why = "names more than one user";
    else if (emails + upns == 0)
        id->no_name_why = "names no user (no rfc822Name or UPN in subjectAltName)";
    else if ((emails ? email : upn)[0] == '\0')
        id->no_name_why = "names its user in a form that is no user name (local@domain)";
    else {
        snprintf(id->name, sizeof(id->name), "%s", emails ? email : upn);
        id->has_name = true;
    }
}

/* ---- the files ---- */

static uint8_t cert_text[IDENTITY_FILE_MAX], key_text[IDENTITY_FILE_MAX];

/* The leaf, when the file holds 1 to IDENTITY_CHAIN_MAX certificates that all parse; NULL
 * with the error said. */
static X509 *read_certs(const char *path, size_t len)
{
    BIO *bio = BIO_new_mem_buf(cert_text, (int)len);
    X509 *leaf = NULL, *x = NULL;
    size_t n = 0;

    if (!bio) {
        say("cannot read --id-cert %s: %s", path, "out of memory");
        return NULL;
    }
    ERR_clear_error();
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (n++ == 0)
            leaf = x;
        else
            X509_free(x);
    }
    unsigned long e = ERR_peek_last_error();
    ERR_clear_error();
    BIO_free(bio);
    if (n > 0 && ERR_GET_REASON(e) != PEM_R_NO_START_LINE) {
        X509_free(leaf);
        say("cannot read --id-cert %s: %s", path, "a certificate in it does not parse");
        return NULL;
    }
    if (n == 0) {
        say("cannot read --id-cert %s: %s", path, "no PEM CERTIFICATE in it");
        return NULL;
    }
    if (n > IDENTITY_CHAIN_MAX) {
        X509_free(leaf);
        say("cannot read --id-cert %s: %s", path,
            "more than 4 certificates (the leaf and at most 3 intermediates)");
        return NULL;
    }
    return leaf;
}

/* A key in a file is never asked a passphrase for: the client runs unattended. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

static EVP_PKEY *read_key(const char *path)
{
    struct stat st;
    size_t len = 0;
    EVP_PKEY *key = NULL;

    if (stat(path, &st) != 0)
        return say("cannot read --id-key %s: %s", path, strerror(errno)), NULL;
    if (st.st_mode & 077) {
        char why[64];
        snprintf(why, sizeof(why), "accessible by others (mode %03o): chmod 600 it",
                 (unsigned)(st.st_mode & 0777));
        return say("--id-key %s is %s", path, why), NULL;
    }
    int err = file_read(path, key_text, sizeof(key_text), &len);
    if (err != 0) {
        say("cannot read --id-key %s: %s", path, read_error(err));
        goto out;
    }
    BIO *bio = BIO_new_mem_buf(key_text, (int)len);
    if (bio)
        key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    BIO_free(bio);
    ERR_clear_error();
    if (!key)
        say("cannot read --id-key %s: %s", path, "not an unencrypted PEM private key");
out:
    OPENSSL_cleanse(key_text, sizeof(key_text));
    return key;
}

int identity_load(const char *cert_path, const char *key_path, struct identity *id)
{
    size_t len = 0;
    X509 *leaf = NULL;
    EVP_PKEY *key = NULL;
    int ret = -1;

    memset(id, 0, sizeof(*id));
    id->cert_path = cert_path;
    id->key_path = key_path;
    int err = file_read(cert_path, cert_text, sizeof(cert_text), &len);
    if (err != 0) {
        say("cannot read --id-cert %s: %s", cert_path, read_error(err));
        goto out;
    }
    leaf = read_certs(cert_path, len);
    if (!leaf)
        goto out;
    key = read_key(key_path);
    if (!key)
        goto out;
    if (X509_check_private_key(leaf, key) != 1) {
        ERR_clear_error();
        say("--id-key does not match --id-cert");
        goto out;
    }
    leaf_name(leaf, id);
    ret = 0;
out:
    EVP_PKEY_free(key);
    X509_free(leaf);
    return ret;
}
