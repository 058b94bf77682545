#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "errbuf.h"
#include "value.h"

int (*value_keyfile_lookup)(const char *, struct secmem *, char *);
char *(*value_config_lookup)(const char *);

static int
run_command(const char *cmd, struct secmem *out, char *err)
{
	char chunk[4096];
	int pfd[2], status, devnull, r = 0;
	ssize_t n;
	pid_t pid;

	if (pipe(pfd) == -1)
		return errbuf_errno(err, "pipe");
	if ((pid = fork()) == -1) {
		close(pfd[0]);
		close(pfd[1]);
		return errbuf_errno(err, "fork");
	}
	if (pid == 0) {
		/* stdin from /dev/null: the command must not eat our input. */
		if ((devnull = open("/dev/null", O_RDONLY)) != -1) {
			dup2(devnull, STDIN_FILENO);
			close(devnull);
		}
		dup2(pfd[1], STDOUT_FILENO);
		close(pfd[0]);
		close(pfd[1]);
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		n = read(pfd[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (r == 0 && secmem_append(out, chunk, (size_t)n) == -1)
			r = errbuf_set(err, "command output is longer than "
			    "%u bytes", VALUE_MAX);
	}
	sodium_memzero(chunk, sizeof(chunk));
	close(pfd[0]);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return errbuf_errno(err, "waitpid");
	if (r == -1)
		return -1;
	if (WIFSIGNALED(status))
		return errbuf_set(err, "command killed by signal %d",
		    WTERMSIG(status));
	if (WEXITSTATUS(status) != 0)
		return errbuf_set(err, "command exited with status %d",
		    WEXITSTATUS(status));
	secmem_chomp(out);
	if (out->len == 0)
		return errbuf_set(err, "command printed nothing");
	return 0;
}

/* Length of the variable name at s ([A-Za-z_][A-Za-z0-9_]*). */
static size_t
name_len(const char *s)
{
	size_t n = 0;

	if (!isalpha((unsigned char)s[0]) && s[0] != '_')
		return 0;
	while (isalnum((unsigned char)s[n]) || s[n] == '_')
		n++;
	return n;
}

static int
interpolate(const char *s, struct secmem *out, char *err)
{
	char name[256];
	const char *v, *close;
	size_t n;

	while (*s) {
		if (*s != '$') {
			n = strcspn(s, "$");
			if (secmem_append(out, s, n) == -1)
				goto toolong;
			s += n;
			continue;
		}
		if (s[1] == '$' || s[1] == '!') {
			if (secmem_append(out, s + 1, 1) == -1)
				goto toolong;
			s += 2;
			continue;
		}
		if (s[1] == '{' && (close = strchr(s + 2, '}')) != NULL &&
		    (n = name_len(s + 2)) == (size_t)(close - s - 2)) {
			s += 2;
		} else if ((n = name_len(s + 1)) > 0) {
			s += 1;
			close = NULL;
		} else {
			/* A '$' that starts nothing is itself. */
			if (secmem_append(out, "$", 1) == -1)
				goto toolong;
			s++;
			continue;
		}
		if (n >= sizeof(name))
			return errbuf_set(err, "variable name too long");
		memcpy(name, s, n);
		name[n] = '\0';
		s += n + (close != NULL);
		if ((v = getenv(name)) == NULL || *v == '\0') {
			errbuf_set(err, "%s is not set", name);
			return 1;
		}
		if (secmem_append(out, v, strlen(v)) == -1)
			goto toolong;
	}
	return 0;
toolong:
	return errbuf_set(err, "value is longer than %u bytes", VALUE_MAX);
}

int
value_resolve(const char *expr, struct secmem *out, char *err)
{
	if (expr[0] == '!')
		return run_command(expr + 1, out, err);
	if (strncmp(expr, "config:", 7) == 0) {
		char *inner;
		int r;

		if (value_config_lookup == NULL ||
		    (inner = value_config_lookup(expr + 7)) == NULL) {
			errbuf_set(err, "no configured key '%s'", expr + 7);
			return 1;
		}
		/*
		 * The configured text, with its variables interpolated as
		 * any apiKey's ("lit-${TOK}").  It was not a command or a
		 * keyfile entry, or the record would name that instead.
		 */
		r = strncmp(inner, "config:", 7) == 0 ?
		    (secmem_append(out, inner, strlen(inner)) == -1 ?
		    errbuf_set(err, "value is longer than %u bytes",
		    VALUE_MAX) : 0) : interpolate(inner, out, err);
		sodium_memzero(inner, strlen(inner));
		free(inner);
		return r;
	}
	if (strncmp(expr, "keyfile:", 8) == 0) {
		if (expr[8] == '\0')
			return errbuf_set(err, "keyfile: needs an entry name");
		if (value_keyfile_lookup == NULL) {
			errbuf_set(err, "keyfile entry '%s': this tool does not "
			    "read the keyfile", expr + 8);
			return 1;
		}
		return value_keyfile_lookup(expr + 8, out, err);
	}
	return interpolate(expr, out, err);
}

int
value_available(const char *expr)
{
	const char *s;
	char name[256];
	const char *v;
	size_t n;

	if (expr[0] == '!' || strncmp(expr, "keyfile:", 8) == 0)
		return 2;
	if (strncmp(expr, "config:", 7) == 0)
		return 1;
	for (s = expr; (s = strchr(s, '$')) != NULL; ) {
		if (s[1] == '$' || s[1] == '!') {
			s += 2;
			continue;
		}
		s += s[1] == '{' ? 2 : 1;
		if ((n = name_len(s)) == 0 || n >= sizeof(name))
			continue;
		memcpy(name, s, n);
		name[n] = '\0';
		s += n;
		if ((v = getenv(name)) == NULL || *v == '\0')
			return 0;
	}
	return 1;
}
