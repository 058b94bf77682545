/*
 * keyring: a small secret cached in the Linux kernel key retention service.
 *
 * `llm-keys unlock` leaves the keyfile's data key in the kernel so that
 * later processes of the same user need no passphrase until a timeout
 * expires.  The key is a "user" type key in the user keyring (@u), with a
 * description naming the keyfile and a timeout set before it becomes
 * visible there: it is built in this thread's own keyring, where it is
 * possessed, given its permissions and timeout, and only then linked into
 * @u.  Its permissions give the possessor everything and the user view,
 * read and search, so a process of the same user finds it whether or not
 * its session keyring links @u (a session from pam_keyinit does, a bare
 * container often has no session keyring at all).  The kernel forgets the
 * key at the timeout, at `llm-keys lock` or at reboot; it never reaches
 * swap or disk.
 *
 * This talks to the kernel through the raw add_key(2), keyctl(2) system
 * calls; there is no libkeyutils dependency.  Where keyrings do not work
 * (not Linux, a kernel without CONFIG_KEYS, a seccomp filter, a user
 * namespace that hides them) every function fails with a message that
 * says so, and callers fall back to asking for the passphrase.
 */
#ifndef LLM_KEYRING_H
#define LLM_KEYRING_H

#include <stddef.h>

#define KEYRING_TTL_MAX	(7u * 24 * 3600)	/* longest timeout: a week */

/*
 * Whether the kernel keyring can be used at all.  Returns 0, or -1 with
 * a message such as "kernel keyrings are unavailable (keyctl: Function not
 * implemented)".
 */
int	keyring_available(char *err);

/*
 * Stores len bytes of key (borrowed, copied into the kernel) under desc,
 * replacing a key of the same description, and makes the kernel drop it
 * after ttl seconds (1 to KEYRING_TTL_MAX).  Returns 0, or -1 with a
 * message.  The message never quotes the key.
 */
int	keyring_store(const char *desc, const void *key, size_t len,
	    unsigned ttl, char *err);

/*
 * Looks up desc and copies its payload into buf (cap bytes), setting *len.
 * Returns 0; 1 when there is no such key (never stored, expired, locked);
 * -1 with a message when keyrings are unavailable or the payload does not
 * fit in cap.  The caller wipes buf.
 */
int	keyring_fetch(const char *desc, void *buf, size_t cap, size_t *len,
	    char *err);

/*
 * Removes the key desc at once.  Returns 0; 1 when there was none; -1 with
 * a message.
 */
int	keyring_remove(const char *desc, char *err);

#endif
