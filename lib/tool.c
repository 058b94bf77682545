#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "errbuf.h"
#include "input.h"
#include "json.h"
#include "record.h"
#include "redact.h"
#include "tool.h"

#define OUT_HIGH	(64u << 10)

const char *tool_name = "llm";
volatile sig_atomic_t tool_interrupted;

static struct buf out;
static int out_eager;		/* write every record at once */
static unsigned long n_errors, n_transient;
static int sigfd[2] = { -1, -1 };	/* the handler writes a byte here */

static void
on_signal(int sig)
{
	int e = errno;

	tool_interrupted = sig;
	if (sigfd[1] != -1)
		(void)!write(sigfd[1], "", 1);
	errno = e;
}

/* A non-blocking, close-on-exec pipe end; -1 on failure. */
static int
pipe_flags(int fd)
{
	int fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		return -1;
	return 0;
}

void
tool_init(const char *name)
{
	struct sigaction sa;
	struct stat st;

	tool_name = name;
	signal(SIGPIPE, SIG_IGN);
	/*
	 * The self-pipe: a signal that arrives between a look at
	 * tool_interrupted and a blocking poll still wakes the poll.
	 */
	if (pipe(sigfd) == -1 || pipe_flags(sigfd[0]) == -1 ||
	    pipe_flags(sigfd[1]) == -1) {
		if (sigfd[0] != -1) {
			close(sigfd[0]);
			close(sigfd[1]);
		}
		sigfd[0] = sigfd[1] = -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocking read returns EINTR and the loop ends. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	buf_init(&out, 0);
	out_eager = fstat(STDOUT_FILENO, &st) == -1 || !S_ISREG(st.st_mode);
}

int
tool_signal_fd(void)
{
	return sigfd[0];
}

int
tool_wait_readable(int fd)
{
	struct pollfd p[2];
	int n;

	for (;;) {
		if (tool_interrupted) {
			errno = EINTR;
			return -1;
		}
		p[0].fd = fd;
		p[0].events = POLLIN;
		p[0].revents = 0;
		p[1].fd = sigfd[0];
		p[1].events = POLLIN;
		p[1].revents = 0;
		n = poll(p, sigfd[0] != -1 ? 2 : 1, -1);
		if (n == -1 && errno != EINTR)
			return 0;	/* let the read say what is wrong */
		if (n > 0 && p[0].revents != 0 && !tool_interrupted)
			return 0;
	}
}

int
tool_read(struct input *in, jv *rec)
{
	char err[ERRBUF_MAX];
	int got;

	while (!tool_interrupted &&
	    (got = input_next(in, rec, err)) != INPUT_EOF) {
		switch (got) {
		case INPUT_FAIL:
			tool_warn("%s", err);
			tool_count_error(0);
			continue;
		case INPUT_BAD:
			tool_warn("%s", record_error_message(*rec));
			tool_count_error(0);
			tool_emit(*rec);
			continue;
		}
		return 1;
	}
	return 0;
}

static void
write_error(void)
{
	int e = errno;

	if (e == EPIPE) {
		signal(SIGPIPE, SIG_DFL);
		raise(SIGPIPE);
	}
	buf_reset(&out);
	fprintf(stderr, "%s: write error: %s\n", tool_name, strerror(e));
	_exit(TOOL_EXIT_FAIL);
}

void
tool_flush(void)
{
	size_t off = 0;
	ssize_t n;

	while (off < out.len) {
		n = write(STDOUT_FILENO, out.data + off, out.len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			write_error();
		}
		off += (size_t)n;
	}
	buf_reset(&out);
}

void
tool_write(const char *p, size_t n)
{
	buf_append(&out, p, n);
	if (out_eager || out.len >= OUT_HIGH)
		tool_flush();
}

void
tool_emit(jv rec)
{
	json_write(&out, rec);
	buf_putc(&out, '\n');
	jv_free(rec);
	if (out_eager || out.len >= OUT_HIGH)
		tool_flush();
}

int
tool_stdout_tty(void)
{
	return isatty(STDOUT_FILENO);
}

int
tool_color(void)
{
	const char *nc = getenv("NO_COLOR");

	return isatty(STDERR_FILENO) && (nc == NULL || *nc == '\0');
}

static void
vwarn(const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	redact_text(line, sizeof(line));
	fprintf(stderr, "%s: %s\n", tool_name, line);
}

void
tool_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

void
tool_die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	exit(tool_finish(status));
}

void
tool_count_error(int retriable)
{
	n_errors++;
	if (retriable)
		n_transient++;
}

int
tool_status(void)
{
	if (tool_interrupted)
		return TOOL_EXIT_INTERRUPT;
	if (n_errors == 0)
		return TOOL_EXIT_OK;
	return n_transient == n_errors ? TOOL_EXIT_TEMPFAIL : TOOL_EXIT_FAIL;
}

int
tool_finish(int status)
{
	tool_flush();
	buf_release(&out);
	json_release();
	/* Anything printed through stdio (usage, tables) goes out here. */
	if (fflush(stdout) == EOF || ferror(stdout)) {
		if (errno == EPIPE) {
			signal(SIGPIPE, SIG_DFL);
			raise(SIGPIPE);
		}
		fprintf(stderr, "%s: write error: %s\n", tool_name,
		    strerror(errno));
		status = TOOL_EXIT_FAIL;
	}
	if (fclose(stdout) == EOF && status == TOOL_EXIT_OK) {
		fprintf(stderr, "%s: close stdout: %s\n", tool_name,
		    strerror(errno));
		status = TOOL_EXIT_FAIL;
	}
	return status;
}
