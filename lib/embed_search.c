#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "embed_api.h"
#include "embed_search.h"
#include "embed_vec.h"
#include "errbuf.h"
#include "jscan.h"
#include "json.h"
#include "xalloc.h"

/* Eight float lanes: SSE twice, or one AVX register, whatever the target. */
typedef float v8f __attribute__((vector_size(32)));

void
embed_search_dot(const float *q, const float *v, size_t n, float *dot,
    float *norm2)
{
	v8f d0 = { 0 }, d1 = { 0 }, s0 = { 0 }, s1 = { 0 }, a, b, c, e;
	float dd = 0, ss = 0;
	size_t i;
	int j;

	/* Two pairs of accumulators, so the adds do not wait on each other. */
	for (i = 0; i + 16 <= n; i += 16) {
		memcpy(&a, q + i, sizeof(a));
		memcpy(&b, v + i, sizeof(b));
		memcpy(&c, q + i + 8, sizeof(c));
		memcpy(&e, v + i + 8, sizeof(e));
		d0 += a * b;
		s0 += b * b;
		d1 += c * e;
		s1 += e * e;
	}
	d0 += d1;
	s0 += s1;
	for (j = 0; j < 8; j++) {
		dd += d0[j];
		ss += s0[j];
	}
	for (; i < n; i++) {
		dd += q[i] * v[i];
		ss += v[i] * v[i];
	}
	*dot = dd;
	*norm2 = ss;
}

/* -- the heap --------------------------------------------------------- */

/*
 * The cosine of a row's angle with the query, held to [-1, 1]: rounding
 * in the sums can put a vector's score with itself just past 1.
 */
static float
cosine(float dot, float qnorm, float n2)
{
	float c = dot / (qnorm * sqrtf(n2));

	return c > 1 ? 1 : c < -1 ? -1 : c;
}

/* Whether a is worse than b: a lower score, or equal and later. */
static int
worse(float sa, uint64_t oa, float sb, uint64_t ob)
{
	return sa < sb || (sa == sb && oa > ob);
}

struct row_hit {
	float		 score;
	uint64_t	 row;
};

/* A bounded min-heap of (score, row), for the threads. */
struct row_heap {
	struct row_hit	*h;
	size_t		 n, k;
};

static void
row_push(struct row_heap *rh, float score, uint64_t row)
{
	struct row_hit *h = rh->h, t;
	size_t i, c;

	if (rh->n < rh->k) {
		i = rh->n++;
		h[i].score = score;
		h[i].row = row;
		while (i > 0 && worse(h[i].score, h[i].row, h[(i - 1) / 2].score,
		    h[(i - 1) / 2].row)) {
			t = h[i];
			h[i] = h[(i - 1) / 2];
			h[(i - 1) / 2] = t;
			i = (i - 1) / 2;
		}
		return;
	}
	if (!worse(h[0].score, h[0].row, score, row))
		return;
	h[0].score = score;
	h[0].row = row;
	for (i = 0; (c = 2 * i + 1) < rh->n; i = c) {
		if (c + 1 < rh->n && worse(h[c + 1].score, h[c + 1].row,
		    h[c].score, h[c].row))
			c++;
		if (!worse(h[c].score, h[c].row, h[i].score, h[i].row))
			break;
		t = h[i];
		h[i] = h[c];
		h[c] = t;
	}
}

/* Whether (score, order) would enter the top k now. */
static int
qualifies(struct embed_search *s, float score, uint64_t order)
{
	return s->n < s->k || worse(s->heap[0].score, s->heap[0].order, score,
	    order);
}

/* Adds a hit (takes id and meta); the caller checked qualifies. */
static void
push(struct embed_search *s, float score, uint64_t order, char *id,
    char *meta)
{
	struct embed_hit *h = s->heap, t;
	size_t i, c;

	if (s->n < s->k) {
		i = s->n++;
		h[i].score = score;
		h[i].order = order;
		h[i].id = id;
		h[i].meta = meta;
		while (i > 0 && worse(h[i].score, h[i].order,
		    h[(i - 1) / 2].score, h[(i - 1) / 2].order)) {
			t = h[i];
			h[i] = h[(i - 1) / 2];
			h[(i - 1) / 2] = t;
			i = (i - 1) / 2;
		}
		return;
	}
	free(h[0].id);
	free(h[0].meta);
	h[0].score = score;
	h[0].order = order;
	h[0].id = id;
	h[0].meta = meta;
	for (i = 0; (c = 2 * i + 1) < s->n; i = c) {
		if (c + 1 < s->n && worse(h[c + 1].score, h[c + 1].order,
		    h[c].score, h[c].order))
			c++;
		if (!worse(h[c].score, h[c].order, h[i].score, h[i].order))
			break;
		t = h[i];
		h[i] = h[c];
		h[c] = t;
	}
}

int
embed_search_init(struct embed_search *s, const float *q, size_t dims,
    size_t k, const char *model)
{
	float dot, n2;

	memset(s, 0, sizeof(*s));
	s->q = q;
	s->dims = dims;
	s->k = k;
	s->model = model;
	s->heap = xcalloc(k ? k : 1, sizeof(*s->heap));
	embed_search_dot(q, q, dims, &dot, &n2);
	s->qnorm = sqrtf(n2);
	return n2 > 0 ? 0 : -1;
}

void
embed_search_release(struct embed_search *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->heap[i].id);
		free(s->heap[i].meta);
	}
	free(s->heap);
	s->heap = NULL;
	s->n = 0;
}

static int
hit_cmp(const void *a, const void *b)
{
	const struct embed_hit *x = a, *y = b;

	if (worse(x->score, x->order, y->score, y->order))
		return 1;
	if (worse(y->score, y->order, x->score, x->order))
		return -1;
	return 0;
}

void
embed_search_results(struct embed_search *s, struct buf *out)
{
	size_t i;

	qsort(s->heap, s->n, sizeof(*s->heap), hit_cmp);
	for (i = 0; i < s->n; i++) {
		buf_puts(out, "{\"id\":");
		/* A record without an id (not one of ours) still scores. */
		buf_puts(out, s->heap[i].id ? s->heap[i].id : "null");
		buf_puts(out, ",\"score\":");
		buf_reserve(out, EMBED_VEC_FLOAT_MAX);
		out->len += embed_vec_float(out->data + out->len,
		    s->heap[i].score);
		out->data[out->len] = '\0';
		if (s->heap[i].meta) {
			buf_puts(out, ",\"meta\":");
			buf_puts(out, s->heap[i].meta);
		}
		buf_puts(out, "}\n");
	}
}

/* -- files ------------------------------------------------------------ */

struct map {
	const char	*p;
	size_t		 len;
};

static int
map_file(const char *path, struct map *m, char *err)
{
	struct stat st;
	void *p;
	int fd;

	m->p = NULL;
	m->len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errbuf_errno(err, "open '%s'", path);
	if (fstat(fd, &st) == -1) {
		close(fd);
		return errbuf_errno(err, "stat '%s'", path);
	}
	/* A pipe's size is 0: it would read as an empty index. */
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return errbuf_set(err, "'%s': not a regular file (an index "
		    "is mapped)", path);
	}
	if (st.st_size == 0) {
		close(fd);
		m->p = "";
		return 0;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return errbuf_errno(err, "map '%s'", path);
	(void)madvise(p, (size_t)st.st_size, MADV_SEQUENTIAL);
	m->p = p;
	m->len = (size_t)st.st_size;
	return 0;
}

static void
unmap(struct map *m)
{
	if (m->len > 0)
		munmap((void *)m->p, m->len);
	m->p = NULL;
	m->len = 0;
}

/* What a line of an index file holds, as spans into the line. */
struct line {
	const char	*id, *meta, *vec, *model, *matrix;
	size_t		 id_len, meta_len, vec_len, model_len, matrix_len;
	int		 vec_kind;	/* '"' base64, '[' numbers, 0 none */
	int		 vec_esc;
	double		 row, dims;	/* -1 when absent */
};

static int
read_line(const char *p, size_t len, struct line *l)
{
	struct jscan sc;
	const char *k, *v;
	size_t kn;
	int r, esc;

	memset(l, 0, sizeof(*l));
	l->row = l->dims = -1;
	jscan_init(&sc, p, len);
	if (jscan_enter(&sc, '{') == -1)
		return -1;
	while ((r = jscan_key(&sc, &k, &kn)) == 1) {
		int kind = jscan_peek(&sc);

		v = sc.p;
		if (jscan_is(k, kn, "id")) {
			if (jscan_skip(&sc) == -1)
				return -1;
			l->id = v;
			l->id_len = (size_t)(sc.p - v);
		} else if (jscan_is(k, kn, "meta")) {
			if (jscan_skip(&sc) == -1)
				return -1;
			l->meta = v;
			l->meta_len = (size_t)(sc.p - v);
		} else if (jscan_is(k, kn, "embedding") && kind == '[') {
			if (jscan_skip(&sc) == -1)
				return -1;
			l->vec = v;
			l->vec_len = (size_t)(sc.p - v);
			l->vec_kind = '[';
		} else if (jscan_is(k, kn, "embedding_b64") &&
		    kind == '"') {
			if (jscan_string(&sc, &l->vec, &l->vec_len,
			    &esc) == -1)
				return -1;
			l->vec_kind = '"';
			l->vec_esc = esc;
		} else if (jscan_is(k, kn, "model") && kind == '"') {
			if (jscan_string(&sc, &l->model, &l->model_len,
			    &esc) == -1)
				return -1;
		} else if (jscan_is(k, kn, "matrix") && kind == '"') {
			if (jscan_string(&sc, &l->matrix, &l->matrix_len,
			    &esc) == -1 || esc)
				return -1;
		} else if (jscan_is(k, kn, "row") && kind == 'n') {
			if (jscan_number(&sc, &l->row) == -1)
				return -1;
		} else if (jscan_is(k, kn, "dims") && kind == 'n') {
			if (jscan_number(&sc, &l->dims) == -1)
				return -1;
		} else if (jscan_skip(&sc) == -1)
			return -1;
	}
	return r == -1 ? -1 : 0;
}

static char *
span(const char *p, size_t n)
{
	return p ? xstrndup(p, n) : NULL;
}

/* Whether the record's model is the query's (or either is unknown). */
static int
same_model(struct embed_search *s, const struct line *l)
{
	return s->model == NULL || l->model == NULL ||
	    (strlen(s->model) == l->model_len &&
	    memcmp(s->model, l->model, l->model_len) == 0);
}

/* Calls fn for each line of m that is not blank. */
#define FOR_LINES(m, p, n, body) do {					\
	const char *p_ = (m)->p, *e_ = (m)->p + (m)->len, *nl_;		\
	while (p_ < e_) {						\
		nl_ = memchr(p_, '\n', (size_t)(e_ - p_));		\
		if (nl_ == NULL)					\
			nl_ = e_;					\
		(p) = p_;						\
		(n) = (size_t)(nl_ - p_);				\
		p_ = nl_ + 1;						\
		if ((n) > 0 && (p)[(n) - 1] == '\r')			\
			(n)--;						\
		if ((n) == 0)						\
			continue;					\
		body							\
	}								\
} while (0)

/* Records files: every line scored as it is read. */
static void
search_records(struct embed_search *s, struct map *m, float *row)
{
	struct line l;
	const char *p;
	size_t n;
	float dot, n2, score;
	long got;

	FOR_LINES(m, p, n, {
		if (read_line(p, n, &l) == -1 || l.vec_kind == 0) {
			s->no_vector++;
			continue;
		}
		if (!same_model(s, &l)) {
			s->other_model++;
			continue;
		}
		if (l.vec_kind == '[') {
			size_t used;

			got = embed_vec_parse_array(l.vec, l.vec_len, row,
			    s->dims, &used);
		} else {
			struct embed_vectors ev;
			char err[256];

			memset(&ev, 0, sizeof(ev));
			ev.n = 1;
			ev.dims = s->dims;
			got = embed_api_place(&ev, 0, l.vec, l.vec_len, '"',
			    l.vec_esc, err) == 0 ? (long)s->dims : -1;
			if (got > 0)
				memcpy(row, ev.v, s->dims * sizeof(float));
			free(ev.v);
		}
		if (got != (long)s->dims) {
			s->other_dims++;
			continue;
		}
		embed_search_dot(s->q, row, s->dims, &dot, &n2);
		if (!(n2 > 0)) {
			s->zero++;
			continue;
		}
		s->scored++;
		score = cosine(dot, s->qnorm, n2);
		s->order++;
		if (qualifies(s, score, s->order))
			push(s, score, s->order, span(l.id, l.id_len),
			    span(l.meta, l.meta_len));
	});
}

struct job {
	const float	*q, *m;
	size_t		 dims;
	uint64_t	 from, to;
	float		 qnorm;
	struct row_heap	 heap;
	unsigned long	 zero;
};

static void *
score_rows(void *arg)
{
	struct job *j = arg;
	float dot, n2;
	uint64_t r;

	for (r = j->from; r < j->to; r++) {
		embed_search_dot(j->q, j->m + r * j->dims, j->dims, &dot, &n2);
		if (!(n2 > 0)) {
			j->zero++;
			continue;
		}
		row_push(&j->heap, cosine(dot, j->qnorm, n2), r);
	}
	return NULL;
}

/* The matrix named by an index line: as given, else beside the index. */
static char *
matrix_path(const char *index, const char *name, size_t len)
{
	char *m = xstrndup(name, len), *alt;
	const char *slash, *base;

	if (access(m, R_OK) == 0)
		return m;
	slash = strrchr(index, '/');
	base = strrchr(m, '/');
	base = base ? base + 1 : m;
	alt = slash ? xasprintf("%.*s/%s", (int)(slash - index), index,
	    base) : xstrdup(base);
	if (access(alt, R_OK) == 0) {
		free(m);
		return alt;
	}
	free(alt);
	return m;
}

static int
row_cmp(const void *a, const void *b)
{
	const struct row_hit *x = a, *y = b;

	return x->row < y->row ? -1 : x->row > y->row;
}

/* An f32 index: score the matrix, then find the winners' records. */
static int
search_matrix(struct embed_search *s, const char *path, struct map *m,
    const struct line *first, char *err)
{
	struct job jobs[EMBED_SEARCH_THREADS];
	pthread_t tid[EMBED_SEARCH_THREADS];
	struct row_hit *win;
	struct map mat;
	struct line l;
	const char *p;
	char *mpath;
	uint64_t rows, per, base = s->order;
	size_t n, nwin = 0, i, lo, hi;
	int t, nt = EMBED_SEARCH_THREADS, started[EMBED_SEARCH_THREADS];

	if (first->dims != (double)s->dims || !same_model(s, first)) {
		/* The whole matrix is of another model or size. */
		if (!same_model(s, first))
			s->other_model++;
		else
			s->other_dims++;
		return 0;
	}
	mpath = matrix_path(path, first->matrix, first->matrix_len);
	if (map_file(mpath, &mat, err) == -1) {
		free(mpath);
		return -1;
	}
	free(mpath);
	rows = mat.len / (s->dims * sizeof(float));
	if (rows < 1000)
		nt = 1;
	per = (rows + (uint64_t)nt - 1) / (uint64_t)nt;
	for (t = 0; t < nt; t++) {
		jobs[t].q = s->q;
		jobs[t].m = (const float *)(const void *)mat.p;
		jobs[t].dims = s->dims;
		jobs[t].from = (uint64_t)t * per;
		jobs[t].to = jobs[t].from + per < rows ? jobs[t].from + per :
		    rows;
		if (jobs[t].from > rows)
			jobs[t].from = rows;
		jobs[t].qnorm = s->qnorm;
		jobs[t].heap.h = xcalloc(s->k, sizeof(struct row_hit));
		jobs[t].heap.n = 0;
		jobs[t].heap.k = s->k;
		jobs[t].zero = 0;
		started[t] = t > 0 && pthread_create(&tid[t], NULL,
		    score_rows, &jobs[t]) == 0;
	}
	score_rows(&jobs[0]);
	for (t = 1; t < nt; t++) {
		if (started[t])
			pthread_join(tid[t], NULL);
		else
			score_rows(&jobs[t]);
	}
	unmap(&mat);
	/* The rows that could make the top k, in row order. */
	win = xcalloc((size_t)nt * s->k + 1, sizeof(*win));
	for (t = 0; t < nt; t++) {
		memcpy(win + nwin, jobs[t].heap.h, jobs[t].heap.n *
		    sizeof(*win));
		nwin += jobs[t].heap.n;
		s->zero += jobs[t].zero;
		free(jobs[t].heap.h);
	}
	qsort(win, nwin, sizeof(*win), row_cmp);
	s->scored += rows;
	FOR_LINES(m, p, n, {
		if (read_line(p, n, &l) == -1 || l.row < 0 ||
		    l.row != (double)(uint64_t)l.row)
			continue;
		/* Is this row a winner?  Binary search. */
		lo = 0;
		hi = nwin;
		while (lo < hi) {
			i = (lo + hi) / 2;
			if (win[i].row < (uint64_t)l.row)
				lo = i + 1;
			else
				hi = i;
		}
		if (lo < nwin && win[lo].row == (uint64_t)l.row &&
		    qualifies(s, win[lo].score, base + win[lo].row + 1))
			push(s, win[lo].score, base + win[lo].row + 1,
			    span(l.id, l.id_len), span(l.meta, l.meta_len));
	});
	s->order = base + rows;
	free(win);
	return 0;
}

int
embed_search_file(struct embed_search *s, const char *path, char *err)
{
	struct map m;
	struct line l;
	const char *p;
	size_t n;
	float *row;
	int r = 0, done = 0;

	if (map_file(path, &m, err) == -1)
		return -1;
	/* The kind of file: its first record with a vector or a row. */
	FOR_LINES(&m, p, n, {
		if (read_line(p, n, &l) == -1)
			continue;
		if (l.row >= 0 && l.matrix) {
			done = 1;
			break;
		}
		if (l.vec_kind)
			break;
	});
	if (done)
		r = search_matrix(s, path, &m, &l, err);
	else {
		row = xmalloc((s->dims ? s->dims : 1) * sizeof(float));
		search_records(s, &m, row);
		free(row);
	}
	unmap(&m);
	return r;
}
