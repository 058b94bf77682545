#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errbuf.h"
#include "fsutil.h"
#include "xalloc.h"

int
fsutil_read_file(const char *path, size_t max, char **data, size_t *len,
    char *err)
{
	struct stat st;
	char *p;
	size_t off = 0;
	ssize_t n;
	int fd, e;

	/* Non-blocking open: a FIFO or a tty must not hang the tool. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return errbuf_errno(err, "open '%s'", path);
	if (fstat(fd, &st) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return errbuf_errno(err, "stat '%s'", path);
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		errno = EISDIR;
		return errbuf_errno(err, "read '%s'", path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return errbuf_set(err, "'%s' is not a regular file", path);
	}
	if (S_ISREG(st.st_mode) && (size_t)st.st_size > max) {
		close(fd);
		errno = EFBIG;
		return errbuf_set(err, "'%s' is larger than %zu bytes", path,
		    max);
	}
	p = xmalloc(max < 65536 ? max + 1 : 65536);
	for (;;) {
		size_t cap = off < 65536 ? 65536 : off * 2;

		if (cap > max + 1)
			cap = max + 1;
		p = xrealloc(p, cap);
		if (off == cap) {
			free(p);
			close(fd);
			errno = EFBIG;
			return errbuf_set(err, "'%s' is larger than %zu bytes",
			    path, max);
		}
		n = read(fd, p + off, cap - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			free(p);
			close(fd);
			errno = e;
			return errbuf_errno(err, "read '%s'", path);
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	p = xrealloc(p, off + 1);
	p[off] = '\0';
	*data = p;
	*len = off;
	return 0;
}

int
fsutil_write_atomic(const char *path, const void *data, size_t n, int mode,
    char *err)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	const char *p = data;
	size_t off = 0;
	ssize_t w;
	int fd;

	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    (mode_t)mode);
	if (fd == -1) {
		errbuf_errno(err, "create '%s'", tmp);
		free(tmp);
		return -1;
	}
	while (off < n) {
		if ((w = write(fd, p + off, n - off)) < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)w;
	}
	if (fsync(fd) == -1) {
		int e = errno;

		close(fd);
		fd = -1;
		errno = e;
		goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	if (rename(tmp, path) == -1) {
		fd = -1;
		goto fail;
	}
	free(tmp);
	return 0;
fail:
	errbuf_errno(err, "write '%s'", path);
	if (fd != -1)
		close(fd);
	unlink(tmp);
	free(tmp);
	return -1;
}
