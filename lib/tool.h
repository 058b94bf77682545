/*
 * tool: the runtime every command in cmd/ shares.
 *
 * This is the one library module that prints and exits, by design: it is
 * the skeleton of a filter, so that every tool writes records, warns, counts
 * failures and ends the same way.
 *
 * Output: tool_emit writes a record as one compact JSON line.  Records are
 * buffered and written with write(2) at record boundaries only, so a
 * reader never sees half a line; when stdout is not a regular file (a pipe,
 * a terminal) each record is written at once.  EPIPE restores the default
 * SIGPIPE action and raises it, so `llm-x | head -1` ends the way `cat`
 * does; any other write error is fatal (status 1), `>/dev/full` included.
 *
 * Exit status (DESIGN.md section 3): 0 when every record was answered, 1
 * when some became error records, 75 when every failure was transient, 2 for
 * usage and configuration errors before anything was sent, 130 on SIGINT
 * after the complete records were written.
 */
#ifndef LLM_TOOL_H
#define LLM_TOOL_H

#include <signal.h>
#include <stddef.h>

#include <jv.h>

#define TOOL_EXIT_OK		0
#define TOOL_EXIT_FAIL		1
#define TOOL_EXIT_USAGE		2
#define TOOL_EXIT_TEMPFAIL	75
#define TOOL_EXIT_INTERRUPT	130

/* The tool's name for messages, set by tool_init. */
extern const char *tool_name;

/* Set (to the signal number) when SIGINT or SIGTERM arrived. */
extern volatile sig_atomic_t tool_interrupted;

/*
 * Sets the name, ignores SIGPIPE (libcurl needs that; EPIPE is handled on
 * write), installs SIGINT/SIGTERM handlers that only set tool_interrupted
 * and interrupt blocking reads, and decides the flushing policy.
 */
void	tool_init(const char *name);

/*
 * Waits until fd can be read without blocking (input, end of file or an
 * error for read to report) and returns 0, or returns -1 with errno EINTR
 * once SIGINT or SIGTERM arrived -- also one that arrives just before the
 * wait begins, which a plain blocking read would miss until input came.
 */
int	tool_wait_readable(int fd);

/*
 * A descriptor that becomes readable when SIGINT or SIGTERM arrives, for
 * a tool's own poll loop (-1 when it could not be made).
 */
int	tool_signal_fd(void);

struct input;

/*
 * The next request of a blocking input for a filter's main loop: an
 * input that cannot be read is warned about and counted, a bad line is
 * warned about, counted and written as its error record, and the reading
 * goes on.  Returns 1 with *rec (the caller's), or 0 at the end of the
 * input or after SIGINT/SIGTERM.
 */
int	tool_read(struct input *in, jv *rec);

/* Writes rec as one line.  Consumes rec. */
void	tool_emit(jv rec);

/* Writes n raw bytes (plain-text modes); flushed like records. */
void	tool_write(const char *p, size_t n);

/* Writes out anything buffered. */
void	tool_flush(void);

/* Whether stdout is a terminal (for tables and colour). */
int	tool_stdout_tty(void);

/* Whether stderr is a terminal and NO_COLOR is unset. */
int	tool_color(void);

/* "name: message" on stderr. */
void	tool_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* tool_warn, flush records, then exit with status. */
void	tool_die(int status, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3), noreturn));

/* Counts one error record; retriable ones alone make the exit status 75. */
void	tool_count_error(int retriable);

/* The status the counts call for: 0, 1 or 75 (130 after an interrupt). */
int	tool_status(void);

/*
 * Flushes and closes stdout, checking for write errors, and returns status,
 * or 1 when the output could not be written.  The tool's main ends with
 * `return tool_finish(tool_status());`.
 */
int	tool_finish(int status);

#endif
