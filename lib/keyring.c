#include <errno.h>
#include <string.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/syscall.h>
#include <linux/keyctl.h>
#endif

#include "errbuf.h"
#include "keyring.h"

#ifdef __linux__

/*
 * Permission bits (keyctl_setperm(3); the kernel headers leave them to
 * libkeyutils).  Possessor: everything.  User: view, read, search, so that
 * a process of the same user whose session keyring does not link @u still
 * finds and reads the key; not write, link or setattr.
 */
#define POS_ALL		0x3f000000UL
#define USR_VIEW	0x00010000UL
#define USR_READ	0x00020000UL
#define USR_SEARCH	0x00080000UL
#define KEY_PERM	(POS_ALL | USR_VIEW | USR_READ | USR_SEARCH)

static long
kctl(int cmd, unsigned long a, unsigned long b, unsigned long c)
{
	return syscall(SYS_keyctl, cmd, a, b, c, 0UL);
}

/* The errors that mean "no keyrings here", as opposed to a failed call. */
static int
unavailable(int e)
{
	return e == ENOSYS || e == EPERM || e == EOPNOTSUPP;
}

static int
fail(char *err, const char *what)
{
	if (unavailable(errno))
		return errbuf_errno(err, "kernel keyrings are unavailable (%s)",
		    what);
	return errbuf_errno(err, "keyring: %s", what);
}

int
keyring_available(char *err)
{
	if (kctl(KEYCTL_GET_KEYRING_ID, (unsigned long)KEY_SPEC_USER_KEYRING,
	    0, 0) == -1)
		return fail(err, "keyctl");
	return 0;
}

int
keyring_store(const char *desc, const void *key, size_t len, unsigned ttl,
    char *err)
{
	long id;
	int e;

	if (ttl == 0 || ttl > KEYRING_TTL_MAX)
		return errbuf_set(err, "keyring: timeout out of range");
	/*
	 * Build the key where we possess it, so that setting its
	 * permissions and timeout cannot fail for want of possession, and
	 * so that it is never visible in @u without its timeout.
	 */
	id = syscall(SYS_add_key, "user", desc, key, len,
	    (long)KEY_SPEC_THREAD_KEYRING);
	if (id == -1)
		return fail(err, "add_key");
	if (kctl(KEYCTL_SETPERM, (unsigned long)id, KEY_PERM, 0) == -1 ||
	    kctl(KEYCTL_SET_TIMEOUT, (unsigned long)id, ttl, 0) == -1 ||
	    kctl(KEYCTL_LINK, (unsigned long)id,
	    (unsigned long)KEY_SPEC_USER_KEYRING, 0) == -1) {
		e = errno;
		kctl(KEYCTL_INVALIDATE, (unsigned long)id, 0, 0);
		errno = e;
		return fail(err, "keyctl");
	}
	kctl(KEYCTL_UNLINK, (unsigned long)id,
	    (unsigned long)KEY_SPEC_THREAD_KEYRING, 0);
	return 0;
}

static long
search(const char *desc)
{
	return kctl(KEYCTL_SEARCH, (unsigned long)KEY_SPEC_USER_KEYRING,
	    (unsigned long)"user", (unsigned long)desc);
}

static int
gone(int e)
{
	return e == ENOKEY || e == EKEYEXPIRED || e == EKEYREVOKED;
}

int
keyring_fetch(const char *desc, void *buf, size_t cap, size_t *len,
    char *err)
{
	long id, n;

	if ((id = search(desc)) == -1)
		return gone(errno) ? 1 : fail(err, "keyctl search");
	if ((n = kctl(KEYCTL_READ, (unsigned long)id, (unsigned long)buf,
	    cap)) == -1)
		return gone(errno) ? 1 : fail(err, "keyctl read");
	if ((size_t)n > cap)
		return errbuf_set(err, "keyring: key '%s' has an unexpected "
		    "size", desc);
	*len = (size_t)n;
	return 0;
}

int
keyring_remove(const char *desc, char *err)
{
	long id;

	if ((id = search(desc)) == -1)
		return gone(errno) ? 1 : fail(err, "keyctl search");
	/* Invalidate needs only search permission; unlink is the fallback. */
	if (kctl(KEYCTL_INVALIDATE, (unsigned long)id, 0, 0) == -1 &&
	    kctl(KEYCTL_UNLINK, (unsigned long)id,
	    (unsigned long)KEY_SPEC_USER_KEYRING, 0) == -1)
		return gone(errno) ? 1 : fail(err, "keyctl invalidate");
	return 0;
}

#else /* !__linux__ */

int
keyring_available(char *err)
{
	return errbuf_set(err, "kernel keyrings are unavailable (not Linux)");
}

int
keyring_store(const char *desc, const void *key, size_t len, unsigned ttl,
    char *err)
{
	(void)desc;
	(void)key;
	(void)len;
	(void)ttl;
	return keyring_available(err);
}

int
keyring_fetch(const char *desc, void *buf, size_t cap, size_t *len,
    char *err)
{
	(void)desc;
	(void)buf;
	(void)cap;
	(void)len;
	return keyring_available(err);
}

int
keyring_remove(const char *desc, char *err)
{
	(void)desc;
	return keyring_available(err);
}

#endif
