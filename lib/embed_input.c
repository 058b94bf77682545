#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "embed_input.h"
#include "errbuf.h"
#include "json.h"
#include "record.h"
#include "tool.h"
#include "utf8.h"
#include "xalloc.h"

struct walk_dir {
	char	*path;
	char	**names;
	size_t	 n, i;
};

struct embed_walk {
	struct walk_dir	*d;
	size_t		 n;
};

void
embed_input_init(struct embed_input *ei, const struct embed_input_opts *o)
{
	memset(ei, 0, sizeof(*ei));
	ei->o = *o;
	ei->base = jv_invalid();
	if (!o->docs)
		input_init(&ei->in, o->files, o->nfiles, o->mode);
}

void
embed_input_set_nonblock(struct embed_input *ei)
{
	ei->nonblock = 1;
	if (!ei->o.docs)
		input_set_nonblock(&ei->in);
}

int
embed_input_fd(struct embed_input *ei)
{
	return ei->o.docs ? -1 : ei->in.fd;
}

double
embed_input_tokens(const char *s, size_t len)
{
	size_t i, ascii = 0, other = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x80)
			ascii++;
		else if ((c & 0xc0) != 0x80)
			other++;
	}
	return (double)((ascii + 3) / 4 + other);
}

/* -- documents ------------------------------------------------------- */

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists dir's entries, sorted; 0, or -1 with err. */
static int
push_dir(struct embed_walk *w, const char *path, char *err)
{
	struct walk_dir *d;
	struct dirent *de;
	size_t cap = 0;
	DIR *dp;

	if ((dp = opendir(path)) == NULL)
		return errbuf_errno(err, "open '%s'", path);
	w->d = xrealloc(w->d, (w->n + 1) * sizeof(*w->d));
	d = &w->d[w->n++];
	memset(d, 0, sizeof(*d));
	d->path = xstrdup(path);
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (d->n == cap) {
			cap = cap ? cap * 2 : 16;
			d->names = xrealloc(d->names, cap * sizeof(char *));
		}
		d->names[d->n++] = xstrdup(de->d_name);
	}
	closedir(dp);
	if (d->n > 1)
		qsort(d->names, d->n, sizeof(char *), name_cmp);
	return 0;
}

static void
pop_dir(struct embed_walk *w)
{
	struct walk_dir *d = &w->d[--w->n];
	size_t i;

	for (i = 0; i < d->n; i++)
		free(d->names[i]);
	free(d->names);
	free(d->path);
}

static int
matches(struct embed_input *ei, const char *path)
{
	const char *base = strrchr(path, '/');
	int i;

	if (ei->o.nglobs == 0)
		return 1;
	base = base ? base + 1 : path;
	for (i = 0; i < ei->o.nglobs; i++)
		if (fnmatch(ei->o.globs[i], strchr(ei->o.globs[i], '/') ?
		    path : base, 0) == 0)
			return 1;
	return 0;
}

/*
 * The next document's name (new), walking the -r roots: 1, 0 when they
 * are done, or -1 with err for a directory that cannot be read (the walk
 * goes on after it).
 */
static int
next_walked(struct embed_input *ei, char **name, char *err)
{
	struct embed_walk *w;
	struct walk_dir *d;
	struct stat st;
	char *path;

	if (ei->walk == NULL)
		ei->walk = xcalloc(1, sizeof(*ei->walk));
	w = ei->walk;
	for (;;) {
		if (w->n == 0) {
			if (ei->next_dir >= ei->o.ndirs)
				return 0;
			if (push_dir(w, ei->o.dirs[ei->next_dir++], err) == -1)
				return -1;
			continue;
		}
		d = &w->d[w->n - 1];
		if (d->i == d->n) {
			pop_dir(w);
			continue;
		}
		path = xasprintf("%s%s%s", d->path, d->path[0] &&
		    d->path[strlen(d->path) - 1] == '/' ? "" : "/",
		    d->names[d->i++]);
		if (lstat(path, &st) == -1) {
			errbuf_errno(err, "stat '%s'", path);
			free(path);
			return -1;
		}
		if (S_ISDIR(st.st_mode)) {
			int r = push_dir(w, path, err);

			free(path);
			if (r == -1)
				return -1;
			continue;
		}
		/* A link counts as what it points to, but never a directory. */
		if (S_ISLNK(st.st_mode) && (stat(path, &st) == -1 ||
		    !S_ISREG(st.st_mode))) {
			free(path);
			continue;
		}
		if (!S_ISREG(st.st_mode) || !matches(ei, path)) {
			free(path);
			continue;
		}
		*name = path;
		return 1;
	}
}

/*
 * Reads document name ("-": standard input) into *rec.  Returns
 * EMBED_INPUT_TEXT, EMBED_INPUT_SKIP or EMBED_INPUT_FAIL with err.
 */
static int
read_doc(const char *name, jv *rec, char *err)
{
	struct buf b;
	char chunk[65536];
	ssize_t n;
	size_t bad;
	int fd, r = EMBED_INPUT_TEXT;

	if (strcmp(name, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(name, O_RDONLY | O_CLOEXEC)) == -1) {
		errbuf_errno(err, "open '%s'", name);
		return EMBED_INPUT_FAIL;
	}
	buf_init(&b, EMBED_INPUT_FILE_MAX);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR && !tool_interrupted)
			continue;
		if (n < 0) {
			errbuf_errno(err, "read '%s'", name);
			r = EMBED_INPUT_FAIL;
			break;
		}
		if (n == 0)
			break;
		if (buf_append(&b, chunk, (size_t)n) == -1) {
			errbuf_set(err, "'%s': skipped, larger than %u MiB",
			    name, EMBED_INPUT_FILE_MAX >> 20);
			r = EMBED_INPUT_SKIP;
			break;
		}
	}
	if (fd != STDIN_FILENO)
		close(fd);
	if (r == EMBED_INPUT_TEXT) {
		if (b.len == 0) {
			errbuf_set(err, "'%s': skipped, empty", name);
			r = EMBED_INPUT_SKIP;
		} else if (memchr(b.data, '\0', b.len) != NULL ||
		    !utf8_valid(b.data, b.len, &bad)) {
			errbuf_set(err, "'%s': skipped, a binary file", name);
			r = EMBED_INPUT_SKIP;
		}
	}
	if (r == EMBED_INPUT_TEXT) {
		jv meta = jv_object_set(jv_object(), jv_string("path"),
		    jv_string(name));

		*rec = jv_object_set(jv_object_set(jv_object_set(jv_object(),
		    jv_string("id"), jv_string(name)), jv_string("text"),
		    jv_string_sized(b.data, (int)b.len)), jv_string("meta"),
		    meta);
	}
	buf_release(&b);
	return r;
}

static int
next_doc(struct embed_input *ei, jv *rec, char *err)
{
	char *name = NULL;
	int r;

	if (ei->next_file < ei->o.nfiles) {
		const char *f = ei->o.files[ei->next_file++];

		if (strcmp(f, "-") != 0 && !matches(ei, f))
			return EMBED_INPUT_SKIP - 100;	/* quietly */
		return read_doc(f, rec, err);
	}
	if (ei->o.nfiles == 0 && ei->o.ndirs == 0 && !ei->stdin_done) {
		ei->stdin_done = 1;
		return read_doc("-", rec, err);
	}
	if ((r = next_walked(ei, &name, err)) == 1) {
		r = read_doc(name, rec, err);
		free(name);
		return r;
	}
	return r == 0 ? EMBED_INPUT_EOF : EMBED_INPUT_FAIL;
}

/* -- records --------------------------------------------------------- */

/* Makes an input record a text record, or says what else it is. */
static int
classify(jv *recp)
{
	jv rec = *recp, t;

	if (json_peek_kind(rec, "embedding") != JV_KIND_INVALID ||
	    json_peek_kind(rec, "embedding_b64") != JV_KIND_INVALID)
		return EMBED_INPUT_PASS;
	if (json_peek_kind(rec, "error") != JV_KIND_INVALID) {
		rec = jv_object_delete(rec, jv_string("error"));
		rec = jv_object_delete(rec, jv_string("attempts"));
	}
	if (json_peek_kind(rec, "text") != JV_KIND_STRING &&
	    json_peek_kind(rec, "text") != JV_KIND_INVALID) {
		*recp = record_error(rec, RECORD_BAD_INPUT, 0, NULL, 0,
		    "\"text\" is not a string");
		return EMBED_INPUT_BAD;
	}
	if (json_peek_kind(rec, "text") == JV_KIND_INVALID) {
		if (json_peek_kind(rec, "prompt") != JV_KIND_STRING) {
			*recp = record_error(rec, RECORD_BAD_INPUT, 0, NULL, 0,
			    "no \"text\" string");
			return EMBED_INPUT_BAD;
		}
		t = json_get(rec, "prompt");
		rec = jv_object_delete(rec, jv_string("prompt"));
		rec = jv_object_set(rec, jv_string("text"), t);
	}
	*recp = rec;
	return EMBED_INPUT_TEXT;
}

/* The id of rec as text for chunk ids (a string's own bytes). */
static jv
id_text(jv rec)
{
	jv id = json_get(rec, "id");

	if (jv_get_kind(id) == JV_KIND_STRING)
		return id;
	return jv_dump_string(id, 0);
}

/* Steps back n characters from byte offset at of s (not before lo). */
static size_t
back_chars(const char *s, size_t at, size_t lo, long n)
{
	while (n > 0 && at > lo) {
		at--;
		while (at > lo && ((unsigned char)s[at] & 0xc0) == 0x80)
			at--;
		n--;
	}
	return at;
}

static size_t
count_chars(const char *s, size_t from, size_t to)
{
	size_t n = 0;

	for (; from < to; from++)
		if (((unsigned char)s[from] & 0xc0) != 0x80)
			n++;
	return n;
}

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The next chunk of ei->base into *rec; 0 when it has no more. */
static int
next_chunk(struct embed_input *ei, jv *rec)
{
	jv base = ei->base, text = json_get(base, "text"), meta, id, out;
	const char *s = jv_string_value(text);
	size_t len = (size_t)jv_string_length_bytes(jv_copy(text));
	size_t start = ei->at, p = start, end, w, chars = 0, fifth;
	size_t c0 = ei->at_char, c1;
	double ascii = 0, tok = 0, max = ei->o.max_tokens;
	int it;

	if (start >= len) {
		jv_free(text);
		return 0;
	}
	/* Up to chunk characters and max_tokens estimated tokens. */
	while (p < len && chars < (size_t)ei->o.chunk) {
		unsigned char c = (unsigned char)s[p];
		size_t q = p + 1;
		double t;

		while (q < len && ((unsigned char)s[q] & 0xc0) == 0x80)
			q++;
		t = c < 0x80 ? ceil((ascii + 1) / 4) + tok : ceil(ascii / 4) +
		    tok + 1;
		if (max > 0 && t > max && chars > 0)
			break;
		if (c < 0x80)
			ascii++;
		else
			tok++;
		chars++;
		p = q;
	}
	end = p;
	/* Not at the end: after the last white space of the last fifth. */
	if (end < len) {
		fifth = chars / 5;
		for (w = end; w > start && fifth > 0; ) {
			if (is_ws(s[w - 1]))
				break;
			w = back_chars(s, w, start, 1);
			fifth--;
		}
		if (w > start && is_ws(s[w - 1]))
			end = w;
	}
	c1 = c0 + count_chars(s, start, end);
	ei->nchunk++;
	id = id_text(base);
	meta = json_get(base, "meta");
	if (jv_get_kind(meta) != JV_KIND_OBJECT) {
		jv_free(meta);
		meta = jv_object();
	}
	meta = jv_object_set(meta, jv_string("chunk"),
	    jv_number(ei->nchunk));
	meta = jv_object_set(meta, jv_string("bytes"), jv_array_append(
	    jv_array_append(jv_array(), jv_number((double)start)),
	    jv_number((double)end)));
	meta = jv_object_set(meta, jv_string("chars"), jv_array_append(
	    jv_array_append(jv_array(), jv_number((double)c0)),
	    jv_number((double)c1)));
	out = jv_object_set(jv_object(), jv_string("id"), jv_string_fmt(
	    "%s#chunk%d", jv_string_value(id), ei->nchunk));
	out = jv_object_set(out, jv_string("text"), jv_string_sized(s + start,
	    (int)(end - start)));
	for (it = jv_object_iter(base); jv_object_iter_valid(base, it);
	    it = jv_object_iter_next(base, it)) {
		jv k = jv_object_iter_key(base, it);
		const char *ks = jv_string_value(k);

		if (strcmp(ks, "id") != 0 && strcmp(ks, "text") != 0 &&
		    strcmp(ks, "meta") != 0)
			out = jv_object_set(out, k, jv_object_iter_value(base,
			    it));
		else
			jv_free(k);
	}
	out = jv_object_set(out, jv_string("meta"), meta);
	jv_free(id);
	/* The next one starts overlap characters back, but moves on. */
	if (end >= len)
		ei->at = len;
	else {
		size_t next = back_chars(s, end, start, ei->o.overlap);

		if (next <= start)
			next = start + 1;
		while (next < len && ((unsigned char)s[next] & 0xc0) == 0x80)
			next++;
		ei->at_char = c0 + count_chars(s, start, next);
		ei->at = next;
	}
	jv_free(text);
	*rec = out;
	return 1;
}

/* Checks a text record: empty, or over the limit without chunking. */
static int
check_text(struct embed_input *ei, jv *recp)
{
	jv rec = *recp;
	const char *s = json_peek_string(rec, "text");
	size_t len = s ? strlen(s) : 0;
	double t;
	char msg[160];

	/* jv strings may hold NUL: take the length from jv. */
	if (s)
		len = (size_t)jv_string_length_bytes(json_get(rec, "text"));
	if (len == 0) {
		*recp = record_error(rec, RECORD_BAD_INPUT, 0, NULL, 0,
		    "empty text");
		return EMBED_INPUT_BAD;
	}
	if (ei->o.chunk == 0 && ei->o.max_tokens > 0 &&
	    (t = embed_input_tokens(s, len)) > ei->o.max_tokens) {
		snprintf(msg, sizeof(msg), "the text is about %.0f tokens, "
		    "over the model's %.0f: cut it with -c", t,
		    ei->o.max_tokens);
		*recp = record_error(rec, RECORD_CONTEXT_LENGTH, 0, NULL, 0,
		    msg);
		return EMBED_INPUT_BAD;
	}
	return EMBED_INPUT_TEXT;
}

int
embed_input_next(struct embed_input *ei, jv *rec, char *err)
{
	int r;

	for (;;) {
		if (jv_is_valid(ei->base)) {
			if (next_chunk(ei, rec))
				return EMBED_INPUT_TEXT;
			jv_free(ei->base);
			ei->base = jv_invalid();
		}
		if (ei->o.docs) {
			r = next_doc(ei, rec, err);
			if (r == EMBED_INPUT_SKIP - 100)
				continue;
		} else {
			r = input_next(&ei->in, rec, err);
			switch (r) {
			case INPUT_RECORD:
				r = classify(rec);
				break;
			case INPUT_EOF:
				return EMBED_INPUT_EOF;
			case INPUT_BAD:
				return EMBED_INPUT_BAD;
			case INPUT_AGAIN:
				return EMBED_INPUT_AGAIN;
			default:
				return EMBED_INPUT_FAIL;
			}
		}
		if (r != EMBED_INPUT_TEXT)
			return r;
		if ((r = check_text(ei, rec)) != EMBED_INPUT_TEXT)
			return r;
		if (ei->o.chunk == 0)
			return EMBED_INPUT_TEXT;
		ei->base = *rec;
		ei->at = ei->at_char = 0;
		ei->nchunk = 0;
	}
}

void
embed_input_release(struct embed_input *ei)
{
	jv_free(ei->base);
	ei->base = jv_invalid();
	if (ei->walk) {
		while (ei->walk->n > 0)
			pop_dir(ei->walk);
		free(ei->walk->d);
		free(ei->walk);
		ei->walk = NULL;
	}
	if (!ei->o.docs)
		input_release(&ei->in);
}
