/*
 * passphrase: where a keyfile passphrase comes from.
 *
 * Three sources, tried by callers in this order (llm-keys(1) documents it):
 * a file descriptor named by a variable (CI: `LLM_KEYS_PASSPHRASE_FD=3
 * 3<secret-file`), the value of a variable, and the controlling terminal
 * with echo off.  The session keyring sits between the last two; it yields
 * a data key rather than a passphrase, so it lives in keyfile.c.
 *
 * Passphrases are read straight into secmem (sodium_malloc) memory, never
 * through stdio.  After a variable has been used, its value is wiped in
 * place and the variable unset, and a descriptor is closed, so that a
 * command the process runs later inherits neither.
 *
 * The terminal is /dev/tty, not stdin, so that `llm-keys set name <file`
 * and a pipeline on stdin still get a prompt.  While echo is off, signals
 * that would end or stop the process (INT, TERM, HUP, QUIT, ALRM, PIPE,
 * TSTP, TTIN, TTOU) are caught; the terminal is restored first, then the
 * signal is re-raised with the caller's disposition, and after a stop the
 * prompt is shown again.  Without a controlling terminal the functions
 * return at once: nothing here ever waits for input that cannot come.
 *
 * The prompt and the newline after the input are the only bytes written,
 * and only to the terminal: this is the one library module that talks to
 * the user, because a passphrase prompt cannot be a return value.
 */
#ifndef LLM_PASSPHRASE_H
#define LLM_PASSPHRASE_H

#include "secmem.h"

#define PASSPHRASE_MAX	1024	/* longest passphrase accepted, in bytes */

/*
 * Reads one line from fd into out: the bytes up to the first newline or
 * end of file, a trailing CR dropped.  Reads a byte at a time so nothing
 * after the line is consumed.  Returns 0, or -1 on a read error, a NUL
 * byte, or a line longer than PASSPHRASE_MAX.
 */
int	passphrase_read_fd(int fd, struct secmem *out, char *err);

/*
 * The passphrase from the environment: fdvar names a descriptor to read a
 * line from (then closed), else var holds the passphrase itself.  Empty
 * variables count as unset.  Returns 0 with the passphrase appended to
 * out; 1 when neither variable is set; -1 on a bad descriptor number or a
 * read error (err names the variable, never the value).
 */
int	passphrase_from_env(const char *fdvar, const char *var,
	    struct secmem *out, char *err);

/*
 * Shows prompt on the terminal and reads one line with echo off into out.
 * Returns 0; 1 when the process has no controlling terminal (err says
 * so); -1 on an error, end of input, or a signal (interrupted: the signal
 * has been delivered to the caller's handler by the time this returns).
 */
int	passphrase_tty(const char *prompt, struct secmem *out, char *err);

/*
 * A new passphrase from the terminal: asks twice and compares.  Returns as
 * passphrase_tty; a mismatch or an empty passphrase is -1.
 */
int	passphrase_tty_new(const char *prompt, struct secmem *out, char *err);

/* Writes one line (with a newline) to the terminal; nothing without one. */
void	passphrase_tty_note(const char *msg);

#endif
