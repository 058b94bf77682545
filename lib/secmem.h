/*
 * secmem: memory for secrets.
 *
 * A secret (an API key, a passphrase, a data key) lives only in memory from
 * sodium_malloc: guarded pages, locked where the system allows it, wiped
 * when freed.  Never copy one into a jv value, a struct buf, argv or a
 * message; build the one header that needs it just before a transfer and
 * wipe that too.
 */
#ifndef LLM_SECMEM_H
#define LLM_SECMEM_H

#include <stddef.h>

struct secmem {
	char	*data;	/* NUL-terminated; sodium_malloc memory */
	size_t	 len;
	size_t	 cap;
	size_t	 max;
};

/*
 * Returns a new empty secret that may grow to max bytes, or NULL when
 * libsodium cannot be initialised or memory is exhausted.
 */
struct secmem *secmem_new(size_t max);

/* Appends n bytes.  Returns 0, or -1 past the ceiling or out of memory. */
int	secmem_append(struct secmem *s, const void *p, size_t n);

/* Drops trailing CR and LF bytes (command output, files). */
void	secmem_chomp(struct secmem *s);

/* Wipes and frees s; NULL is fine. */
void	secmem_free(struct secmem *s);

#endif
