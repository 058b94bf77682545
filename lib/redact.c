#include <ctype.h>
#include <stdlib.h>
#include <string.h>

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
		"Bearer ", "bearer ", "key=", "api_key=", "api-key: ",
		"x-api-key: ", NULL
	};
	const char *const *pre;
	char *hit;
	size_t i, n;
	int count = 0;

	for (i = 0; i < nsecrets; i++)
		while ((hit = find(s, secrets[i].p, secrets[i].n)) != NULL) {
			replace(s, cap, (size_t)(hit - s), secrets[i].n);
			count++;
		}
	for (pre = prefixes; *pre; pre++)
		for (hit = s; (hit = strstr(hit, *pre)) != NULL; ) {
			hit += strlen(*pre);
			n = token_len(hit);
			if (n > 0 && strncmp(hit, MARK, strlen(MARK)) != 0) {
				replace(s, cap, (size_t)(hit - s), n);
				count++;
			}
			hit += strlen(MARK) <= strlen(hit) ? strlen(MARK) :
			    strlen(hit);
		}
	return count;
}
