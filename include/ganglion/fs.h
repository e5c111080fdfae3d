/* Small file helpers for key, cache and state files: atomic 0600 writes,
 * bounded reads. Blocking: call them off the loop (gn_actor_work). */
#ifndef GANGLION_FS_H
#define GANGLION_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* mkdir -p with `mode` for the directories it creates. */
int gn_fs_mkdirs(const char *path, unsigned mode);
/* Write atomically: a 0600 temp file in the same folder, fsync, rename.
 * GN_EEXIST when the file exists and !overwrite. Folders are made 0700. */
int gn_fs_write_atomic(const char *path, const void *data, size_t len, bool overwrite);
/* Read a whole file (at most max bytes) into a malloc'd buffer, with one
 * spare NUL byte. GN_ENOENT, GN_EIO, GN_ERANGE (too large). */
int gn_fs_read(const char *path, size_t max, uint8_t **data, size_t *len);
/* Wipe and free what gn_fs_read returned. */
void gn_fs_free_secret(uint8_t *data, size_t len);
bool gn_fs_exists(const char *path);

#endif
