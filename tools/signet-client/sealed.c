/*
 * tools/signet-client/sealed — see sealed.h. AES-256-GCM through OpenSSL's EVP interface.
 */
#define _POSIX_C_SOURCE 200809L /* pread */
#include "sealed.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "userkey.h"

#define CHUNK 65536

static int read_some(int fd, uint8_t *buf, size_t cap, size_t *got)
{
    for (;;) {
        ssize_t n = read(fd, buf, cap);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        *got = (size_t)n;
        return 0;
    }
}

/* Exactly len bytes at offset, or -EIO (the file ended early: it changed under us). */
static int read_at(int fd, uint8_t *buf, size_t len, off_t offset)
{
    while (len) {
        ssize_t n = pread(fd, buf, len, offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        buf += n;
        len -= (size_t)n;
        offset += n;
    }
    return 0;
}

int sealed_encrypt(int in_fd, struct outfile *out, const uint8_t key[SEALED_KEY_LEN],
                   const uint8_t id[SEALED_ID_LEN], const char **why)
{
    static uint8_t in[CHUNK], enc[CHUNK];
    uint8_t header[SEALED_HEADER_LEN], tag[SEALED_TAG_LEN];
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    uint64_t total = 0;
    int n = 0, ret = -EIO;

    memcpy(header, SEALED_MAGIC, SEALED_MAGIC_LEN);
    memcpy(header + SEALED_MAGIC_LEN, id, SEALED_ID_LEN);
    *why = "no random nonce";
    if (random_bytes(header + SEALED_MAGIC_LEN + SEALED_ID_LEN, SEALED_NONCE_LEN) != 0)
        goto out;
    *why = "cannot set up AES-256-GCM";
    if (!ctx || EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SEALED_NONCE_LEN, NULL) != 1 ||
        EVP_EncryptInit_ex(ctx, NULL, NULL, key, header + SEALED_MAGIC_LEN + SEALED_ID_LEN) != 1 ||
        EVP_EncryptUpdate(ctx, NULL, &n, header, SEALED_MAGIC_LEN + SEALED_ID_LEN) != 1)
        goto out;
    *why = "cannot write the protected file";
    if (outfile_write(out, header, sizeof(header)) != 0)
        goto out;
    for (;;) {
        size_t got = 0;
        *why = "cannot read the document";
        if (read_some(in_fd, in, sizeof(in), &got) != 0)
            goto out;
        if (got == 0)
            break;
        total += got;
        *why = "the document is too large for one AES-GCM message (64 GiB)";
        if (total > SEALED_PLAIN_MAX)
            goto out;
        *why = "AES-256-GCM failed";
        if (EVP_EncryptUpdate(ctx, enc, &n, in, (int)got) != 1)
            goto out;
        *why = "cannot write the protected file";
        if (outfile_write(out, enc, (size_t)n) != 0)
            goto out;
    }
    *why = "AES-256-GCM failed";
    if (EVP_EncryptFinal_ex(ctx, enc, &n) != 1 || n != 0 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEALED_TAG_LEN, tag) != 1)
        goto out;
    *why = "cannot write the protected file";
    if (outfile_write(out, tag, sizeof(tag)) != 0)
        goto out;
    ret = 0;
out:
    OPENSSL_cleanse(in, sizeof(in)); /* the document, in clear */
    EVP_CIPHER_CTX_free(ctx);
    return ret;
}

/* The header and the ciphertext length, from the file's size. */
static int sealed_header(int fd, uint8_t header[SEALED_HEADER_LEN], uint64_t *ct_len,
                         const char **why)
{
    struct stat st;

    *why = "cannot read the protected file";
    if (fstat(fd, &st) != 0)
        return -errno;
    *why = "not a regular file";
    if (!S_ISREG(st.st_mode))
        return -EINVAL;
    *why = "not a protected file (too short)";
    if ((uint64_t)st.st_size < SEALED_HEADER_LEN + SEALED_TAG_LEN)
        return -EINVAL;
    *why = "cannot read the protected file";
    if (read_at(fd, header, SEALED_HEADER_LEN, 0) != 0)
        return -EIO;
    *why = "not a protected file (no SIGNET1 magic)";
    if (memcmp(header, SEALED_MAGIC, SEALED_MAGIC_LEN) != 0)
        return -EINVAL;
    *ct_len = (uint64_t)st.st_size - SEALED_HEADER_LEN - SEALED_TAG_LEN;
    *why = "the protected file is larger than AES-GCM allows";
    if (*ct_len > SEALED_PLAIN_MAX)
        return -EINVAL;
    return 0;
}

int sealed_read_id(int fd, uint8_t id[SEALED_ID_LEN], const char **why)
{
    uint8_t header[SEALED_HEADER_LEN];
    uint64_t ct_len = 0;
    int ret = sealed_header(fd, header, &ct_len, why);

    if (ret == 0)
        memcpy(id, header + SEALED_MAGIC_LEN, SEALED_ID_LEN);
    return ret;
}

int sealed_decrypt(int in_fd, struct outfile *out, const uint8_t key[SEALED_KEY_LEN],
                   const char **why)
{
    static uint8_t in[CHUNK], plain[CHUNK];
    uint8_t header[SEALED_HEADER_LEN], tag[SEALED_TAG_LEN];
    EVP_CIPHER_CTX *ctx = NULL;
    uint64_t ct_len = 0;
    off_t at = SEALED_HEADER_LEN;
    int n = 0, ret = sealed_header(in_fd, header, &ct_len, why);

    if (ret != 0)
        return ret;
    ret = -EIO;
    ctx = EVP_CIPHER_CTX_new();
    *why = "cannot set up AES-256-GCM";
    if (!ctx || EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SEALED_NONCE_LEN, NULL) != 1 ||
        EVP_DecryptInit_ex(ctx, NULL, NULL, key, header + SEALED_MAGIC_LEN + SEALED_ID_LEN) != 1 ||
        EVP_DecryptUpdate(ctx, NULL, &n, header, SEALED_MAGIC_LEN + SEALED_ID_LEN) != 1)
        goto out;
    while (ct_len) {
        size_t want = ct_len < sizeof(in) ? (size_t)ct_len : sizeof(in);
        *why = "cannot read the protected file (did it change?)";
        if (read_at(in_fd, in, want, at) != 0)
            goto out;
        *why = "AES-256-GCM failed";
        if (EVP_DecryptUpdate(ctx, plain, &n, in, (int)want) != 1)
            goto out;
        *why = "cannot write the document";
        if (outfile_write(out, plain, (size_t)n) != 0)
            goto out;
        at += (off_t)want;
        ct_len -= want;
    }
    *why = "cannot read the protected file (did it change?)";
    if (read_at(in_fd, tag, sizeof(tag), at) != 0)
        goto out;
    *why = "AES-256-GCM failed";
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEALED_TAG_LEN, tag) != 1)
        goto out;
    *why = "the protected file is damaged or was altered (GCM tag does not verify)";
    if (EVP_DecryptFinal_ex(ctx, plain, &n) != 1) {
        ret = -EBADMSG;
        goto out;
    }
    ret = 0;
out:
    OPENSSL_cleanse(plain, sizeof(plain));
    EVP_CIPHER_CTX_free(ctx);
    return ret;
}
