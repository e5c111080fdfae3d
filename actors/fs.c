#include "ganglion/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ganglion/error.h"

int gn_fs_mkdirs(const char *path, unsigned mode)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(buf))
        return GN_EINVAL;
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, (mode_t)mode) != 0 && errno != EEXIST)
                return GN_EIO;
            *p = c;
            if (c == '\0')
                break;
        }
    }
    return 0;
}

bool gn_fs_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int gn_fs_write_atomic(const char *path, const void *data, size_t len, bool overwrite)
{
    char dir[4096], tmp[4200];
    if (strlen(path) >= sizeof(dir))
        return GN_EINVAL;
    if (!overwrite && gn_fs_exists(path))
        return GN_EEXIST;
    strcpy(dir, path);
    char *d = dirname(dir);
    int rc = gn_fs_mkdirs(d, 0700);
    if (rc < 0)
        return rc;
    snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp); /* created 0600 */
    if (fd < 0)
        return GN_EIO;
    const uint8_t *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto fail;
        p += w;
        left -= (size_t)w;
    }
    if (fchmod(fd, 0600) != 0 || fsync(fd) != 0)
        goto fail;
    close(fd);
    fd = -1;
    /* the no-overwrite check again, as close to the rename as it gets */
    if (!overwrite && gn_fs_exists(path)) {
        unlink(tmp);
        return GN_EEXIST;
    }
    if (rename(tmp, path) != 0)
        goto fail;
    int dfd = open(d, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return GN_EIO;
}

int gn_fs_read(const char *path, size_t max, uint8_t **data, size_t *len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return errno == ENOENT ? GN_ENOENT : GN_EIO;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return GN_EIO;
    }
    if ((size_t)st.st_size > max) {
        close(fd);
        return GN_ERANGE;
    }
    size_t n = (size_t)st.st_size, got = 0;
    uint8_t *buf = malloc(n + 1);
    if (!buf) {
        close(fd);
        return GN_ENOMEM;
    }
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    buf[got] = '\0';
    *data = buf;
    *len = got;
    return 0;
}

void gn_fs_free_secret(uint8_t *data, size_t len)
{
    if (!data)
        return;
    sodium_memzero(data, len);
    free(data);
}
