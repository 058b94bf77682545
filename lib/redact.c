#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "redact.h"
#include "xalloc.h"

#define MARK	"[REDACTED]"

struct secret {
	const char	*p;
	size_t		 n;
};

static struct secret *secrets;
static size_t nsecrets;

void
redact_add(const char *p, size_t n)
{
	if (n < REDACT_MIN)
		return;
	secrets = xrealloc(secrets, (nsecrets + 1) * sizeof(*secrets));
	secrets[nsecrets].p = p;
	secrets[nsecrets++].n = n;
}

void
redact_remove(const char *p)
{
	size_t i;

	for (i = 0; i < nsecrets; i++)
		if (secrets[i].p == p) {
			secrets[i] = secrets[--nsecrets];
			break;
		}
	if (nsecrets == 0) {
		free(secrets);
		secrets = NULL;
	}
}

/* Replaces s[at, at+n) with MARK, keeping the string within cap. */
static void
replace(char *s, size_t cap, size_t at, size_t n)
{
	size_t len = strlen(s), m = strlen(MARK), tail = len - at - n;

	if (at + m >= cap) {
		memcpy(s + at, MARK, cap - at - 1);
		s[cap - 1] = '\0';
		return;
	}
	if (at + m + tail >= cap)
		tail = cap - at - m - 1;
	memmove(s + at + m, s + at + n, tail);
	memcpy(s + at, MARK, m);
	s[at + m + tail] = '\0';
}

static char *
find(char *s, const char *p, size_t n)
{
	size_t len = strlen(s), i;

	for (i = 0; i + n <= len; i++)
		if (s[i] == p[0] && memcmp(s + i, p, n) == 0)
			return s + i;
	return NULL;
}

static char *
find_nocase(char *s, const char *p)
{
	size_t n = strlen(p);

	for (; *s; s++)
		if (strncasecmp(s, p, n) == 0)
			return s;
	return NULL;
}

/* Characters a token or query value is made of. */
static size_t
token_len(const char *s)
{
	size_t n = 0;

	while (s[n] && (isalnum((unsigned char)s[n]) ||
	    strchr("-._~+/=%", s[n]) != NULL))
		n++;
	return n;
}

int
redact_text(char *s, size_t cap)
{
	static const char *const prefixes[] = {
		"bearer ", "key=", "api_key=", "api-key: ", "x-api-key: ",
		"x-goog-api-key: ", NULL
	};
	const char *const *pre;
	char *hit;
	size_t i, n, at, m = strlen(MARK);
	int count = 0;

	for (i = 0; i < nsecrets; i++)
		for (at = 0; (hit = find(s + at, secrets[i].p,
		    secrets[i].n)) != NULL; count++) {
			at = (size_t)(hit - s);
			replace(s, cap, at, secrets[i].n);
			/* Go on after the mark: a secret may be part of it. */
			at += m;
			if (at >= strlen(s))
				break;
		}
	for (pre = prefixes; *pre; pre++)
		for (at = 0; (hit = find_nocase(s + at, *pre)) != NULL; ) {
			at = (size_t)(hit - s) + strlen(*pre);
			n = token_len(s + at);
			if (n > 0 && strncmp(s + at, MARK, m) != 0) {
				replace(s, cap, at, n);
				count++;
				at += m;
			} else
				at += n;
			if (at >= strlen(s))
				break;
		}
	return count;
}
