/*
 * tools/signet-client/sealed — the protected file, FILE.signet (docs/client.md "File formats"):
 *
 *   offset  length  field
 *   0       8       magic "SIGNET1\n"
 *   8       16      content id (the publishing license's ARC.6 contentId)
 *   24      12      nonce, random per file
 *   36      n       ciphertext: AES-256-GCM of the document under the content key
 *   36+n    16      GCM tag over the ciphertext, with additional data magic + content id
 *
 * The content key is fresh for every publication, so a key seals exactly one file and a random
 * nonce never repeats under it. Binding the content id into the tag means a .signet file cannot
 * be relabelled to another license's id without detection.
 *
 * Files are streamed (memory stays bounded whatever their size). Decryption writes the plaintext
 * into the caller's outfile but reports success only when the tag verifies; the caller commits
 * the outfile only then, so no unauthenticated byte ever gets the final name.
 * Functions return 0 or a negative errno with a one-line *why.
 */
#ifndef CLIENT_SEALED_H
#define CLIENT_SEALED_H

#include <stddef.h>
#include <stdint.h>

#include "files.h"

#define SEALED_MAGIC      "SIGNET1\n"
#define SEALED_MAGIC_LEN  8
#define SEALED_ID_LEN     16
#define SEALED_NONCE_LEN  12
#define SEALED_TAG_LEN    16
#define SEALED_KEY_LEN    32
#define SEALED_HEADER_LEN (SEALED_MAGIC_LEN + SEALED_ID_LEN + SEALED_NONCE_LEN)
/* NIST SP 800-38D §5.2.1.1: at most 2^39 - 256 bits of plaintext under one GCM invocation. */
#define SEALED_PLAIN_MAX ((((uint64_t)1) << 36) - 32)

/* Encrypt everything read from in_fd (to its end) into out. */
int sealed_encrypt(int in_fd, struct outfile *out, const uint8_t key[SEALED_KEY_LEN],
                   const uint8_t id[SEALED_ID_LEN], const char **why);
/* The content id of a sealed file (its magic and minimum length checked). */
int sealed_read_id(int fd, uint8_t id[SEALED_ID_LEN], const char **why);
/* Decrypt the sealed file in_fd into out; 0 only when the tag verifies (-EBADMSG otherwise). */
int sealed_decrypt(int in_fd, struct outfile *out, const uint8_t key[SEALED_KEY_LEN],
                   const char **why);

#endif
