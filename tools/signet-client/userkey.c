/*
 * tools/signet-client/userkey — see userkey.h. OpenSSL 3 EVP interfaces only.
 */
#include "userkey.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

struct userkey {
    EVP_PKEY *pkey;
};

int userkey_generate(char *pem, size_t cap, size_t *len, const char **why)
{
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)USERKEY_BITS);
    BIO *bio = NULL;
    char *data = NULL;
    long n = 0;
    int ret = -EIO;

    *why = "RSA key generation failed";
    if (!pkey)
        goto out;
    bio = BIO_new(BIO_s_mem());
    *why = "cannot write the key as PEM";
    if (!bio || PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) != 1)
        goto out;
    n = BIO_get_mem_data(bio, &data);
    if (n <= 0 || (size_t)n >= cap) {
        ret = -ENOSPC;
        goto out;
    }
    memcpy(pem, data, (size_t)n);
    pem[n] = '\0';
    *len = (size_t)n;
    ret = 0;
out:
    if (data && n > 0)
        OPENSSL_cleanse(data, (size_t)n); /* the memory BIO held the private key */
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    return ret;
}

/* Never prompt for a passphrase: the tool runs unattended, and the key format is plain. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

int userkey_load(const uint8_t *pem, size_t len, struct userkey **out, const char **why)
{
    BIO *bio = NULL;
    EVP_PKEY *pkey = NULL;
    struct userkey *k = NULL;
    int ret = -EINVAL;

    *out = NULL;
    if (len > USERKEY_PEM_MAX || len > INT_MAX) {
        *why = "key file larger than 4096 bytes";
        return -E2BIG;
    }
    bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio) {
        *why = "out of memory";
        return -ENOMEM;
    }
    pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    *why = "not a PEM private key (or an encrypted one)";
    if (!pkey)
        goto out;
    *why = "not an RSA key";
    if (!EVP_PKEY_is_a(pkey, "RSA"))
        goto out;
    *why = "the RSA key must have 2048 to 4096 bits";
    if (EVP_PKEY_get_bits(pkey) < USERKEY_BITS || EVP_PKEY_get_bits(pkey) > USERKEY_BITS_MAX)
        goto out;
    k = OPENSSL_zalloc(sizeof(*k));
    *why = "out of memory";
    if (!k) {
        ret = -ENOMEM;
        goto out;
    }
    k->pkey = pkey;
    pkey = NULL;
    *out = k;
    ret = 0;
out:
    EVP_PKEY_free(pkey);
    BIO_free(bio);
    return ret;
}

void userkey_free(struct userkey *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    OPENSSL_free(k);
}

int userkey_spki(const struct userkey *k, uint8_t *out, size_t cap, size_t *len)
{
    int n = i2d_PUBKEY(k->pkey, NULL);

    if (n <= 0)
        return -EIO;
    if ((size_t)n > cap)
        return -ENOSPC;
    unsigned char *p = out;
    if (i2d_PUBKEY(k->pkey, &p) != n)
        return -EIO;
    *len = (size_t)n;
    return 0;
}

int userkey_csr(const struct userkey *k, const char *cn, uint8_t *out, size_t cap, size_t *len,
                const char **why)
{
    X509_REQ *req = X509_REQ_new();
    X509_NAME *name = X509_NAME_new();
    int ret = -EIO;

    *why = "cannot build the PKCS#10 request";
    if (!req || !name || X509_REQ_set_version(req, X509_REQ_VERSION_1) != 1 ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                   0) != 1 ||
        X509_REQ_set_subject_name(req, name) != 1 || X509_REQ_set_pubkey(req, k->pkey) != 1)
        goto out;
    *why = "cannot sign the PKCS#10 request";
    if (X509_REQ_sign(req, k->pkey, EVP_sha256()) <= 0)
        goto out;
    int n = i2d_X509_REQ(req, NULL);
    if (n <= 0)
        goto out;
    if ((size_t)n > cap) {
        *why = "the PKCS#10 request is too large";
        ret = -ENOSPC;
        goto out;
    }
    unsigned char *p = out;
    if (i2d_X509_REQ(req, &p) != n)
        goto out;
    *len = (size_t)n;
    ret = 0;
out:
    X509_NAME_free(name);
    X509_REQ_free(req);
    return ret;
}

static EVP_PKEY *spki_decode(const uint8_t *spki, size_t len)
{
    const unsigned char *p = spki;

    if (len == 0 || len > LONG_MAX)
        return NULL;
    EVP_PKEY *pkey = d2i_PUBKEY(NULL, &p, (long)len);
    if (pkey && p != spki + len) { /* trailing bytes: not one SubjectPublicKeyInfo */
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    return pkey;
}

bool userkey_holds(const struct userkey *k, const uint8_t *spki, size_t len)
{
    EVP_PKEY *pub = spki_decode(spki, len);
    bool same = pub && EVP_PKEY_eq(k->pkey, pub) == 1;

    EVP_PKEY_free(pub);
    return same;
}

bool spki_same(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    EVP_PKEY *ka = spki_decode(a, a_len), *kb = spki_decode(b, b_len);
    bool same = ka && kb && EVP_PKEY_eq(ka, kb) == 1;

    EVP_PKEY_free(ka);
    EVP_PKEY_free(kb);
    return same;
}

int userkey_unwrap(const struct userkey *k, const uint8_t *wrapped, size_t len, uint8_t *key,
                   size_t key_len, const char **why)
{
    uint8_t plain[USERKEY_BITS_MAX / 8];
    size_t plain_len = sizeof(plain);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
    int ret = -EIO;

    *why = "cannot set up RSA-OAEP";
    if (!ctx || EVP_PKEY_decrypt_init(ctx) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha1()) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha1()) != 1)
        goto out;
    /* The output bound first: a wrapped key of another length is not for this key. */
    *why = "the content key is not wrapped to this key";
    if ((size_t)EVP_PKEY_get_size(k->pkey) != len ||
        EVP_PKEY_decrypt(ctx, plain, &plain_len, wrapped, len) != 1) {
        ret = -EACCES;
        goto out;
    }
    *why = "the unwrapped content key has the wrong length";
    if (plain_len != key_len) {
        ret = -EINVAL;
        goto out;
    }
    memcpy(key, plain, key_len);
    ret = 0;
out:
    OPENSSL_cleanse(plain, sizeof(plain));
    EVP_PKEY_CTX_free(ctx);
    return ret;
}

int random_bytes(uint8_t *out, size_t len)
{
    if (len > INT_MAX || RAND_bytes(out, (int)len) != 1)
        return -EIO;
    return 0;
}

void wipe(void *p, size_t len)
{
    OPENSSL_cleanse(p, len);
}
