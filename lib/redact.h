/*
 * redact: keeping secrets out of everything the tools write.
 *
 * One function on every output path (DESIGN.md section 7).  Code that
 * resolves a secret registers its bytes (borrowed: they stay in the
 * owner's secure memory) and unregisters them before freeing.
 * redact_text then replaces, in a message about to be written or put in a
 * record, every registered secret, any "Bearer <token>" and any "key=..."
 * query parameter with "[REDACTED]".  A provider that quotes the key it
 * refused ("Incorrect API key provided: sk-...") is the usual case.
 */
#ifndef LLM_REDACT_H
#define LLM_REDACT_H

#include <stddef.h>

#define REDACT_MIN	6	/* shorter secrets are not searched for */

/* Registers n secret bytes at p (borrowed until redact_remove). */
void	redact_add(const char *p, size_t n);

/* Forgets the secret registered at p. */
void	redact_remove(const char *p);

/*
 * Rewrites the NUL-terminated s (cap bytes of storage) in place.  The
 * result is cut to fit cap.  Returns the number of replacements.
 */
int	redact_text(char *s, size_t cap);

#endif
