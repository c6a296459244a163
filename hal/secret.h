/*
 * hal/secret.h — one small secret kept on the appliance across restarts: the token's user PIN
 * when auto-login is on (firmware/app/cmd_token.c).
 *
 * Where: host board, a 0600 file beside the NV file (NVFILE.autologin), replaced by write-temp,
 * fsync, rename; vexpress-a9, NOR flash 0 sector VE_SECRET_BLOCK, apart from the NV store's two
 * banks, its header word programmed last. A store interrupted by a power cut leaves the old
 * secret or none, never a torn one.
 *
 * What it protects against: an operator having to be present at every restart, and a copy of
 * the NV store or of the token's files alone, which holds no PIN.
 * What it does NOT: the secret is stored IN CLEAR, bound to nothing. Anyone who reads the
 * appliance's flash (or the host's file system) has the PIN, and with the token, its keys' use.
 *
 * hal_secret_store: len 1..HAL_SECRET_MAX, replaces any earlier secret.
 * hal_secret_load: 0 with *len set; -ENOENT when none is kept; -EBADMSG when what is kept is not
 * a whole secret; -EFBIG when it does not fit cap. The caller wipes buf after use.
 * hal_secret_wipe: 0 also when none was kept; the old bytes are overwritten (flash: erased).
 * All return 0 or a negative errno (-ENODEV: the board has nowhere to keep it, -EIO).
 */
#ifndef HAL_SECRET_H
#define HAL_SECRET_H

#include <stddef.h>

#define HAL_SECRET_MAX 64

int hal_secret_store(const void *buf, size_t len);
int hal_secret_load(void *buf, size_t cap, size_t *len);
int hal_secret_wipe(void);

#endif
