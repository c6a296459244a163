/*
 * tools/signet-client/files — bounded reads and crash-safe writes of the user's files.
 *
 * Every read has a cap: a file larger than it is refused (-E2BIG), never truncated. Every
 * write goes to a fresh temporary file in the same directory (mkstemp: mode 0600, no symlink
 * followed), is flushed to disk, and only then takes the final name — by rename(2), or by
 * link(2) when an existing file must not be replaced (-EEXIST, atomically: no check-then-write
 * race). So a reader sees the old file, the whole new one, or none, never a part.
 * Functions return 0 or a negative errno.
 */
#ifndef CLIENT_FILES_H
#define CLIENT_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FILES_PATH_MAX 4096

/* Up to cap bytes of path into buf; a larger file is -E2BIG. */
int file_read(const char *path, uint8_t *buf, size_t cap, size_t *len);

/* An output file under construction: write to fd, then outfile_commit or outfile_abort. */
struct outfile {
    char path[FILES_PATH_MAX];
    char tmp[FILES_PATH_MAX];
    int fd; /* -1 when closed */
    mode_t mode;
    bool no_replace;
};

int outfile_open(struct outfile *o, const char *path, mode_t mode, bool no_replace);
int outfile_write(struct outfile *o, const void *data, size_t len);
/* Flush, close and give the file its name; on failure the temporary file is gone. */
int outfile_commit(struct outfile *o);
/* Drop the temporary file (safe to call after a failed commit, or twice). */
void outfile_abort(struct outfile *o);

/* The whole cycle for data in memory. */
int file_write(const char *path, const void *data, size_t len, mode_t mode, bool no_replace);

#endif
