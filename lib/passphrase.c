#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "errbuf.h"
#include "passphrase.h"

int
passphrase_read_fd(int fd, struct secmem *out, char *err)
{
	size_t n = 0;
	ssize_t r;
	int status = 0;
	char c = 0;

	for (;;) {
		r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			status = errbuf_errno(err, "read passphrase");
			break;
		}
		if (r == 0 || c == '\n')
			break;
		if (c == '\0') {
			status = errbuf_set(err, "passphrase contains a NUL "
			    "byte");
			break;
		}
		if (++n > PASSPHRASE_MAX || secmem_append(out, &c, 1) == -1) {
			status = errbuf_set(err, "passphrase is longer than "
			    "%d bytes", PASSPHRASE_MAX);
			break;
		}
	}
	sodium_memzero(&c, sizeof(c));
	if (out->len > 0 && out->data[out->len - 1] == '\r')
		out->data[--out->len] = '\0';
	return status;
}

/* Wipes the value of name in place, then unsets it. */
static void
scrub(const char *name)
{
	char *v = getenv(name);

	if (v != NULL)
		sodium_memzero(v, strlen(v));
	unsetenv(name);
}

int
passphrase_from_env(const char *fdvar, const char *var, struct secmem *out,
    char *err)
{
	const char *v;
	char *end;
	long fd;
	int r;

	if ((v = getenv(fdvar)) != NULL && *v != '\0') {
		errno = 0;
		fd = strtol(v, &end, 10);
		if (errno || *end != '\0' || fd < 0 || fd > INT_MAX)
			return errbuf_set(err, "%s: '%s' is not a file "
			    "descriptor", fdvar, v);
		if (fcntl((int)fd, F_GETFD) == -1)
			return errbuf_errno(err, "%s: descriptor %ld", fdvar,
			    fd);
		r = passphrase_read_fd((int)fd, out, err);
		close((int)fd);
		unsetenv(fdvar);
		if (r == -1)
			return errbuf_prefix(err, "%s", fdvar);
		return 0;
	}
	if ((v = getenv(var)) != NULL && *v != '\0') {
		if (strlen(v) > PASSPHRASE_MAX)
			return errbuf_set(err, "%s is longer than %d bytes",
			    var, PASSPHRASE_MAX);
		if (secmem_append(out, v, strlen(v)) == -1)
			return errbuf_set(err, "out of memory");
		scrub(var);
		return 0;
	}
	return 1;
}

/*
 * The signals that would leave the terminal without echo.  The handler
 * only records them; they are re-raised once the terminal is restored.
 */
static const int sigs[] = {
	SIGALRM, SIGHUP, SIGINT, SIGPIPE, SIGQUIT, SIGTERM, SIGTSTP, SIGTTIN,
	SIGTTOU
};
#define NSIGS	(sizeof(sigs) / sizeof(sigs[0]))
static volatile sig_atomic_t caught[NSIGS];

static void
on_signal(int s)
{
	size_t i;

	for (i = 0; i < NSIGS; i++)
		if (sigs[i] == s)
			caught[i] = 1;
}

static void
put(int fd, const char *s)
{
	size_t n = strlen(s);
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, s, n)) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		s += w;
		n -= (size_t)w;
	}
}

/* One prompt-and-read; sets *stopped when a stop signal interrupted it. */
static int
read_tty(int fd, const char *prompt, struct secmem *out, int *stopped,
    char *err)
{
	struct sigaction sa, old[NSIGS];
	struct termios term, saved;
	size_t i, n = 0;
	ssize_t r;
	int status = 0, got = 0, e = 0;
	char c;

	*stopped = 0;
	if (tcgetattr(fd, &saved) == -1) {
		errbuf_errno(err, "no terminal to ask for the passphrase");
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;	/* no SA_RESTART: read gets EINTR */
	for (i = 0; i < NSIGS; i++) {
		caught[i] = 0;
		sigaction(sigs[i], &sa, &old[i]);
	}
	term = saved;
	term.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	tcsetattr(fd, TCSAFLUSH, &term);
	put(fd, prompt);
	for (;;) {
		r = read(fd, &c, 1);
		if (r < 0) {
			e = errno;
			status = -1;
			break;
		}
		if (r == 0) {
			if (!got)
				status = -1;
			break;
		}
		got = 1;
		if (c == '\n' || c == '\r')
			break;
		if (++n > PASSPHRASE_MAX || secmem_append(out, &c, 1) == -1) {
			status = -2;
			/* Drain the rest of the line. */
			continue;
		}
	}
	sodium_memzero(&c, sizeof(c));
	put(fd, "\n");
	tcsetattr(fd, TCSAFLUSH, &saved);
	for (i = 0; i < NSIGS; i++)
		sigaction(sigs[i], &old[i], NULL);
	for (i = 0; i < NSIGS; i++) {
		if (!caught[i])
			continue;
		if (sigs[i] == SIGTSTP || sigs[i] == SIGTTIN ||
		    sigs[i] == SIGTTOU)
			*stopped = 1;
		kill(getpid(), sigs[i]);
	}
	if (*stopped)
		return -1;
	if (status == -2)
		return errbuf_set(err, "passphrase is longer than %d bytes",
		    PASSPHRASE_MAX);
	if (status == -1 && e == EINTR)
		return errbuf_set(err, "interrupted");
	if (status == -1 && e != 0) {
		errno = e;
		return errbuf_errno(err, "read /dev/tty");
	}
	if (status == -1)
		return errbuf_set(err, "end of input on the terminal");
	return 0;
}

int
passphrase_tty(const char *prompt, struct secmem *out, char *err)
{
	int fd, r, stopped;

	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd == -1) {
		errbuf_errno(err, "no terminal to ask for the passphrase "
		    "(/dev/tty)");
		return 1;
	}
	if (!isatty(fd)) {
		close(fd);
		errbuf_set(err, "no terminal to ask for the passphrase");
		return 1;
	}
	do {
		out->len = 0;
		sodium_memzero(out->data, out->cap);
		r = read_tty(fd, prompt, out, &stopped, err);
	} while (r == -1 && stopped);
	close(fd);
	if (r != 0) {
		out->len = 0;
		sodium_memzero(out->data, out->cap);
	}
	return r;
}

int
passphrase_tty_new(const char *prompt, struct secmem *out, char *err)
{
	struct secmem *again;
	int r;

	if ((r = passphrase_tty(prompt, out, err)) != 0)
		return r;
	if (out->len == 0)
		return errbuf_set(err, "empty passphrase");
	if ((again = secmem_new(PASSPHRASE_MAX)) == NULL)
		return errbuf_set(err, "out of memory");
	r = passphrase_tty("Repeat passphrase: ", again, err);
	if (r == 0 && (again->len != out->len ||
	    sodium_memcmp(again->data, out->data, out->len) != 0))
		r = errbuf_set(err, "passphrases do not match");
	secmem_free(again);
	return r == 1 ? -1 : r;
}

void
passphrase_tty_note(const char *msg)
{
	int fd;

	if ((fd = open("/dev/tty", O_WRONLY | O_NOCTTY | O_CLOEXEC)) == -1)
		return;
	put(fd, msg);
	put(fd, "\n");
	close(fd);
}
