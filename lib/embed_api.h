/*
 * embed_api: the wire formats of embeddings APIs.
 *
 * Like the chat dialects (dialect.h), each format is one file and the only
 * code that knows it: lib/embed_openai.c for OpenAI's POST .../embeddings,
 * which OpenAI-compatible providers and the local servers (Ollama, vLLM,
 * LM Studio, llama.cpp) speak too, and lib/embed_gemini.c for Gemini's
 * batchEmbedContents.  A format builds the body of one request for a
 * batch of texts and reads the vectors out of the answer; it does no I/O
 * and never sees a key.  The engine (send.h) adds authentication, sends,
 * and classifies failures with the format's error reader.
 *
 * The answer is read with jscan (no jv): a base64 vector is decoded
 * from the body into its row in place.  parse either gives every vector
 * of the batch, each of the expected size, or fails as a whole: a
 * response with fewer or more vectors than texts, an index that repeats
 * or points past the batch, or a vector of the wrong size is an unusable
 * response, so that no vector can ever be given to another text.
 */
#ifndef LLM_EMBED_API_H
#define LLM_EMBED_API_H

#include <stddef.h>

#include <jv.h>

#include "buf.h"
#include "dialect.h"

#define EMBED_API_DIMS_MAX	65536	/* floats in one vector */

/* The vectors of one answer. */
struct embed_vectors {
	size_t	 n;		/* texts in the batch */
	size_t	 dims;		/* expected size; 0: the first vector's */
	float	*v;		/* n * dims floats, row i for text i */
	double	 tokens;	/* input tokens counted, -1 when not told */
	char	 model[128];	/* model the server named, "" when none */
	int	 wrong_dims;	/* a whole vector of another size came */
};

struct embed_api {
	const char	*name;		/* "openai", "gemini" */

	/*
	 * Where the target's embeddings go: a new URL the caller frees, or
	 * NULL with err.
	 */
	char	*(*url)(jv target, char *err);

	/*
	 * Appends the body for the n texts (texts[i], lens[i] bytes of
	 * UTF-8) to b; dims > 0 asks for vectors of that size.  target is
	 * borrowed.  Returns 0, or -1 at b's ceiling.
	 */
	int	(*build)(struct buf *b, jv target, const char *const *texts,
		    const size_t *lens, size_t n, long dims);

	/*
	 * Reads the answer's vectors into ev (ev->n and ev->dims set by the
	 * caller, ev->v NULL; on success ev->v is allocated, the caller
	 * frees it).  Returns 0, or -1 with err and ev->v NULL.
	 */
	int	(*parse)(const char *body, size_t len, struct embed_vectors *ev,
		    char *err);

	/*
	 * For send_result (send.h): the error reader of the API's error
	 * bodies, with a parse that accepts any 2xx body (the vectors are
	 * this module's to read).
	 */
	const struct dialect *dialect;
};

extern const struct embed_api embed_api_openai;
extern const struct embed_api embed_api_gemini;

/*
 * The format for target (borrowed), by its "api": openai-completions and
 * openai-responses speak OpenAI's form, google-generative-ai Gemini's.
 * Returns NULL with err for an API without embeddings.
 */
const struct embed_api *embed_api_find(jv target, char *err);

/*
 * Batching limits for target's provider: the default texts per request,
 * the most (0: none), and the most estimated input tokens in one request
 * (0: none).  See llm-embed(1).
 */
void	embed_api_limits(jv target, int *def, int *max, double *tokens);

/*
 * Shared by the formats: *resp = {} for any 2xx body (see dialect above);
 * and the URL of target with the suffix from (after the path, before any
 * query) replaced by to, or the URL as it stands when it does not end in
 * from.  Returns a new string.
 */
int	embed_api_accept(const char *body, size_t len, jv target, jv *resp,
	    char *err);
char	*embed_api_swap_suffix(const char *url, const char *from,
	    const char *to);

/*
 * Puts the vector at p (len bytes: the raw inside of a base64 string when
 * kind is '"', escaped when it holds a backslash; a JSON array from its
 * '[' when kind is '[') into row of ev, allocating ev->v at the first
 * vector and taking its size when ev->dims is 0.  Returns 0, or -1 with
 * err for a vector that does not decode or has the wrong size.
 */
int	embed_api_place(struct embed_vectors *ev, size_t row, const char *p,
	    size_t len, int kind, int escaped, char *err);

/*
 * The end of a parse: r the scanner's last result (-1: not JSON), have
 * whether the vectors' member (named list) was there, got the vectors
 * placed.  Returns 0 when all is well, else -1 with err, ev->v freed.
 */
int	embed_api_finish(struct embed_vectors *ev, int r, int have,
	    const char *list, size_t got, char *err);

#endif
