/*
 * tools/signet-client/https — one HTTPS POST to the appliance, with libcurl.
 *
 * The appliance's HTTPS certificate is self-signed, so no CA can vouch for it. The user either
 * pins it by its SHA-256 fingerprint (what `tls fingerprint` prints on the appliance console,
 * AA:BB:…:FF) — checked inside the TLS handshake, before any byte of the request is sent — or
 * says --insecure and accepts any server. Nothing else is accepted: no redirects, https only.
 *
 * Bodies in and out are bounded by the caller's buffers (a larger answer is refused, not cut).
 * https_post returns 0 when the server answered (any status; *status says which, and for an
 * error status why[] holds its one-line reason, cleaned to printable ASCII), or a negative errno
 * with why[] saying what failed (connection, TLS, fingerprint, size). With an identity
 * certificate set in the peer, the handshake presents it when the server asks for one.
 */
#ifndef CLIENT_HTTPS_H
#define CLIENT_HTTPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTPS_URL_MAX         256
#define HTTPS_FINGERPRINT_LEN 32
#define HTTPS_WHY_MAX         240

struct https_peer {
    char base[HTTPS_URL_MAX + 1]; /* https://HOST[:PORT], no trailing slash */
    bool insecure;
    uint8_t fingerprint[HTTPS_FINGERPRINT_LEN];
    /* The user's identity certificate (PEM: leaf, then intermediates) and its key, presented as
     * the TLS client certificate; NULL: none. Checked beforehand (identity.h). */
    const char *id_cert, *id_key;
};

/* Once per process, before any other call; 0 or -EIO. */
int https_global_init(void);
void https_global_free(void);

/* Check the URL (https://, printable, no path beyond "/") and the fingerprint (32 bytes in hex
 * pairs separated by colons; case does not matter). Exactly one of fingerprint and insecure. */
int https_peer_init(struct https_peer *p, const char *url, const char *fingerprint, bool insecure,
                    const char **why);

int https_post(const struct https_peer *p, const char *path, const char *body, size_t len,
               char *answer, size_t cap, size_t *answer_len, long *status, char why[HTTPS_WHY_MAX]);

#endif
