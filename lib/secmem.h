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

/*
 * Keeps secrets out of core dumps for as long as the process holds them:
 * sets the soft RLIMIT_CORE to 0 and, on Linux, PR_SET_DUMPABLE to 0
 * (which also keeps other processes of the user from ptrace-attaching or
 * reading /proc/PID/mem, and makes /proc/self entries root's: an
 * unprivileged process can no longer open /dev/stdin by name, its own fd
 * 0 is fine).  Idempotent; the first call remembers the old core limit.
 * Returns 0, or -1 with a message.
 */
int	secmem_nodump(char *err);

/*
 * Restores the core limit secmem_nodump found, e.g. just before exec'ing a
 * command that should dump core as usual (dumpability is reset by execve
 * itself).  Does nothing when secmem_nodump was not called.
 */
void	secmem_nodump_undo(void);

#endif
