/*
 * tools/signet-client/identity — the user's identity certificate (--id-cert, --id-key): the
 * TLS client certificate from the organisation's own user CA (smart card, PIV, S/MIME, device
 * certificate) with which the appliance authenticates every user request (docs/client.md
 * "Identity", docs/protocol.md).
 *
 * Read and judged before any connection, so that a wrong file is one clear line and not a
 * handshake failure or the appliance's 403: the certificate file holds the leaf first and at
 * most 3 intermediates (the appliance takes 4 certificates at most), the key file one
 * unencrypted PEM private key, readable by the user alone, that is the leaf's. The user's name
 * is what the appliance takes from the leaf (crypto/x509_user.h): the one subjectAltName
 * rfc822Name, or else the one Microsoft UPN otherName (1.3.6.1.4.1.311.20.2.3), by the same
 * rules (x509_user_name_ok); names compare with x509_user_name_equal.
 *
 * libcurl itself reads the two files again for the handshake (CURLOPT_SSLCERT/SSLKEY), and
 * sends the intermediates with the leaf.
 */
#ifndef CLIENT_IDENTITY_H
#define CLIENT_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

#include "crypto/x509_user.h"

#define IDENTITY_NAME_MAX  X509_CN_MAX         /* a RAC's CN holds the name */
#define IDENTITY_CHAIN_MAX X509_USER_CHAIN_MAX /* the leaf and up to 3 intermediates */
#define IDENTITY_FILE_MAX  (64 * 1024)

struct identity {
    const char *cert_path, *key_path;
    bool has_name;
    char name[IDENTITY_NAME_MAX + 1]; /* as the certificate says it, when has_name */
    const char *no_name_why;          /* when !has_name: why there is none */
};

/* Read both files and check that they belong together; 0, or -1 with the one-line error
 * printed ("cannot read --id-cert FILE: ...", "--id-key does not match --id-cert", ...). */
int identity_load(const char *cert_path, const char *key_path, struct identity *id);

#endif
