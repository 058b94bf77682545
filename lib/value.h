/*
 * value: resolution of configuration values that may hold secrets.
 *
 * An "apiKey" or a header value in the configuration is an expression,
 * resolved only when a request is about to be sent (never by llm-resolve,
 * never into a record).  The rules are pi's:
 *
 *	"!command"	run the whole rest with /bin/sh -c; its standard
 *			output, without trailing newlines, is the value
 *	"$VAR", "${VAR}"	the environment variable, also inside longer
 *			text; $FOO_BAR names FOO_BAR, write ${FOO}_BAR
 *	"$$", "$!"	a literal "$" and a literal "!" ("$!x" never runs x)
 *	"keyfile:NAME"	entry NAME of the encrypted keyfile
 *	anything else	the literal text
 *
 * A variable that is unset (or empty) leaves the value unresolved, which is
 * not an error: a key source that does not resolve is skipped in favour of
 * the next one.  A command that fails is an error.
 */
#ifndef LLM_VALUE_H
#define LLM_VALUE_H

#include "secmem.h"

#define VALUE_MAX	(64u << 10)	/* longest value accepted */

/*
 * How keyfile:NAME is looked up: a tool that can open the keyfile sets
 * this; it appends the secret to out and returns 0, 1 when there is no
 * such entry, or -1 with a message.  While it is NULL, keyfile values do
 * not resolve and say why.
 */
extern int (*value_keyfile_lookup)(const char *name, struct secmem *out,
    char *err);

/*
 * How "config:NAME" is looked up: the key a configuration file holds
 * literally, which records name this way instead of copying it.  A tool
 * that loads the configuration sets this; it returns the expression to
 * resolve (a new string), or NULL.
 */
extern char *(*value_config_lookup)(const char *name);

/*
 * Resolves expr, appending the result to out.  Returns 0 when resolved, 1
 * when unresolved (the reason in err, e.g. "ZAI_API_KEY is not set"), -1
 * on failure (err says why; it never quotes the value or the command).
 */
int	value_resolve(const char *expr, struct secmem *out, char *err);

/*
 * Whether expr could resolve without running anything or opening the
 * keyfile: literals and set variables say yes, commands and keyfile
 * entries say "maybe" (2).  Returns 0, 1 or 2.  For `llm-resolve -e`.
 */
int	value_available(const char *expr);

#endif
