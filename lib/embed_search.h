/*
 * embed_search: cosine top-k over embedding files (llm-embed(1), SEARCH).
 *
 * An index file is JSON Lines, either embedding records (-f json or
 * base64: "embedding" or "embedding_b64") or the index of an f32 matrix
 * (records with "row" and "matrix").  The kind is decided by the first
 * record that holds a vector or a row.
 *
 * Records files are memory-mapped and read with jscan: no jv, the
 * vector decoded into a scratch row, the id and meta kept as their JSON
 * text only for the records that enter the top k.  A matrix is mapped
 * too and scored on EMBED_SEARCH_THREADS threads, each over its share of
 * the rows with a loop of several accumulators that compilers turn into
 * vector instructions, each keeping its own top k in a bounded heap; the
 * index is then scanned once for the rows that won.  So a million rows
 * of 1024 floats (4 GB) take about as long as reading them from memory.
 *
 * Scores are cosine similarities, computed in float with float sums
 * (eight lanes), the norm of each row as part of the same pass.  Of equal
 * scores the earlier record wins (files in the order given, records in
 * file order).  Records of another model than the query's, of another
 * size, without a vector or with a zero vector are skipped and counted.
 */
#ifndef LLM_EMBED_SEARCH_H
#define LLM_EMBED_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define EMBED_SEARCH_THREADS	2
#define EMBED_SEARCH_K_MAX	100000

struct embed_hit {
	float		 score;
	uint64_t	 order;		/* tie breaker: smaller first */
	char		*id;		/* JSON text */
	char		*meta;		/* JSON text, NULL when none */
};

struct embed_search {
	const float	*q;		/* borrowed, dims floats */
	size_t		 dims;
	float		 qnorm;
	const char	*model;		/* the query's model ref, borrowed */
	size_t		 k;
	struct embed_hit *heap;		/* a min-heap of the best k */
	size_t		 n;
	uint64_t	 order;		/* records seen */
	unsigned long	 scored;
	unsigned long	 other_model, other_dims, no_vector, zero;
};

/*
 * Prepares a search for the k best matches of q (dims floats, borrowed)
 * among records of model (borrowed, may be NULL: any).  Returns 0, or -1
 * for a zero query vector.
 */
int	embed_search_init(struct embed_search *s, const float *q, size_t dims,
	    size_t k, const char *model);

/* Scores the records of the index file at path.  Returns 0, or -1 with
 * err (the file, or its matrix, could not be read). */
int	embed_search_file(struct embed_search *s, const char *path,
	    char *err);

/*
 * Appends the results, best first, one line each:
 * {"id":...,"score":S,"meta":...} ("meta" when the record had one).
 */
void	embed_search_results(struct embed_search *s, struct buf *out);

void	embed_search_release(struct embed_search *s);

/*
 * The dot product of q and v and the squared norm of v, n floats each:
 * the kernel, for tests and benchmarks.
 */
void	embed_search_dot(const float *q, const float *v, size_t n, float *dot,
	    float *norm2);

#endif
