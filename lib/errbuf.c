#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "errbuf.h"

int
errbuf_set(char *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err, ERRBUF_MAX, fmt, ap);
	va_end(ap);
	return -1;
}

int
errbuf_errno(char *err, const char *fmt, ...)
{
	va_list ap;
	size_t n;
	int saved = errno;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err, ERRBUF_MAX, fmt, ap);
	va_end(ap);
	n = strlen(err);
	snprintf(err + n, ERRBUF_MAX - n, ": %s", strerror(saved));
	errno = saved;
	return -1;
}

int
errbuf_prefix(char *err, const char *fmt, ...)
{
	char old[ERRBUF_MAX];
	va_list ap;
	size_t n;

	if (err == NULL)
		return -1;
	memcpy(old, err, ERRBUF_MAX);
	old[ERRBUF_MAX - 1] = '\0';
	va_start(ap, fmt);
	vsnprintf(err, ERRBUF_MAX, fmt, ap);
	va_end(ap);
	n = strlen(err);
	snprintf(err + n, ERRBUF_MAX - n, ": %s", old);
	return -1;
}
