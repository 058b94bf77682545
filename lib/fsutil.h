/*
 * fsutil: small file-system helpers with bounded reads and atomic writes.
 */
#ifndef LLM_FSUTIL_H
#define LLM_FSUTIL_H

#include <stddef.h>

/*
 * Reads the whole file at path, refusing files larger than max bytes.
 * Returns 0 with *data (NUL-terminated, caller frees) and *len, or -1 with
 * a message in err.  errno is kept from the failing call (ENOENT for a
 * missing file).
 */
int	fsutil_read_file(const char *path, size_t max, char **data,
	    size_t *len, char *err);

/*
 * Replaces path with n bytes of data: writes a temporary file beside it
 * with the given mode, fsyncs it and renames it into place, so a reader
 * sees the old or the new contents, never a mix.  Returns 0 or -1.
 */
int	fsutil_write_atomic(const char *path, const void *data, size_t n,
	    int mode, char *err);

#endif
