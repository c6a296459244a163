/*
 * tools/signet-client/files — see files.h.
 */
#define _XOPEN_SOURCE 700 /* mkstemp, fsync, fchmod */
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int file_read(const char *path, uint8_t *buf, size_t cap, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    int ret = 0;

    *len = 0;
    if (fd < 0)
        return -errno;
    for (;;) {
        uint8_t extra;
        bool full = *len == cap;
        ssize_t n = full ? read(fd, &extra, 1) : read(fd, buf + *len, cap - *len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            ret = -errno;
            break;
        }
        if (n == 0)
            break;
        if (full) {
            ret = -E2BIG;
            break;
        }
        *len += (size_t)n;
    }
    close(fd);
    if (ret != 0)
        *len = 0;
    return ret;
}

int outfile_open(struct outfile *o, const char *path, mode_t mode, bool no_replace)
{
    mode_t mask = umask(077); /* read the umask: the new file's mode honours it, like open(2) */

    umask(mask);
    o->fd = -1;
    o->tmp[0] = '\0';
    o->mode = mode & ~mask;
    o->no_replace = no_replace;
    if (snprintf(o->path, sizeof(o->path), "%s", path) >= (int)sizeof(o->path) ||
        snprintf(o->tmp, sizeof(o->tmp), "%s.XXXXXX", path) >= (int)sizeof(o->tmp)) {
        o->tmp[0] = '\0';
        return -ENAMETOOLONG;
    }
    /* Refuse early when the name is taken; link(2) in commit is what makes it certain. */
    if (no_replace && access(path, F_OK) == 0) {
        o->tmp[0] = '\0';
        return -EEXIST;
    }
    o->fd = mkstemp(o->tmp);
    if (o->fd < 0) {
        int err = -errno;
        o->tmp[0] = '\0';
        return err;
    }
    return 0;
}

int outfile_write(struct outfile *o, const void *data, size_t len)
{
    const uint8_t *p = data;

    while (len) {
        ssize_t n = write(o->fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int outfile_commit(struct outfile *o)
{
    int ret = 0;

    if (fchmod(o->fd, o->mode) != 0 || fsync(o->fd) != 0)
        ret = -errno;
    if (close(o->fd) != 0 && ret == 0)
        ret = -errno;
    o->fd = -1;
    if (ret == 0 && o->no_replace) {
        if (link(o->tmp, o->path) != 0)
            ret = -errno;
        /* Both names point at the file now; dropping the temporary one completes the move. */
    } else if (ret == 0 && rename(o->tmp, o->path) == 0) {
        o->tmp[0] = '\0';
    } else if (ret == 0) {
        ret = -errno;
    }
    outfile_abort(o);
    return ret;
}

void outfile_abort(struct outfile *o)
{
    if (o->fd >= 0)
        close(o->fd);
    o->fd = -1;
    if (o->tmp[0])
        unlink(o->tmp);
    o->tmp[0] = '\0';
}

int file_write(const char *path, const void *data, size_t len, mode_t mode, bool no_replace)
{
    struct outfile o;
    int ret = outfile_open(&o, path, mode, no_replace);

    if (ret != 0)
        return ret;
    ret = outfile_write(&o, data, len);
    if (ret != 0) {
        outfile_abort(&o);
        return ret;
    }
    return outfile_commit(&o);
}
