#include <sys/resource.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "errbuf.h"
#include "secmem.h"

static struct rlimit saved_core;
static int nodump;

struct secmem *
secmem_new(size_t max)
{
	struct secmem *s;

	if (sodium_init() < 0 || (s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->max = max;
	s->cap = 64;
	if ((s->data = sodium_malloc(s->cap)) == NULL) {
		free(s);
		return NULL;
	}
	s->data[0] = '\0';
	return s;
}

int
secmem_append(struct secmem *s, const void *p, size_t n)
{
	char *nd;
	size_t cap;

	if (n > s->max || s->len > s->max - n)
		return -1;
	if (s->len + n + 1 > s->cap) {
		for (cap = s->cap; cap < s->len + n + 1; cap *= 2)
			;
		/* No realloc for guarded memory: copy, then wipe the old. */
		if ((nd = sodium_malloc(cap)) == NULL)
			return -1;
		memcpy(nd, s->data, s->len);
		sodium_free(s->data);
		s->data = nd;
		s->cap = cap;
	}
	memcpy(s->data + s->len, p, n);
	s->len += n;
	s->data[s->len] = '\0';
	return 0;
}

void
secmem_chomp(struct secmem *s)
{
	while (s->len > 0 && (s->data[s->len - 1] == '\n' ||
	    s->data[s->len - 1] == '\r'))
		s->data[--s->len] = '\0';
}

void
secmem_free(struct secmem *s)
{
	if (s == NULL)
		return;
	sodium_free(s->data);
	free(s);
}

int
secmem_nodump(char *err)
{
	struct rlimit rl;

	if (!nodump) {
		if (getrlimit(RLIMIT_CORE, &saved_core) == -1)
			return errbuf_errno(err, "getrlimit");
		nodump = 1;
	}
	/* The soft limit governs dumps; keeping the hard one allows undo. */
	rl.rlim_cur = 0;
	rl.rlim_max = saved_core.rlim_max;
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		return errbuf_errno(err, "setrlimit RLIMIT_CORE");
#ifdef __linux__
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		return errbuf_errno(err, "prctl PR_SET_DUMPABLE");
#endif
	return 0;
}

void
secmem_nodump_undo(void)
{
	if (nodump)
		setrlimit(RLIMIT_CORE, &saved_core);
}
