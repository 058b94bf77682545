/*
 * embgen: canned embeddings for bench/embed.sh, and the checks of what
 * llm-embed wrote.  Not part of the suite; built by the benchmark with cc.
 *
 * Vector ROW of DIMS floats is a fixed function of (ROW, j): splitmix64 of
 * ROW * DIMS + j, its top 24 bits mapped to [-1, 1), so every value is an
 * exact float32 and any tool that decodes and re-encodes it faithfully
 * gives the same bits back.
 *
 *   embgen resp K DIMS [FIRST]
 *	an OpenAI /embeddings answer holding K items, item i being vector
 *	FIRST + i (FIRST defaults to 0), each "embedding" the base64 of its
 *	little-endian float32s, as the API sends for encoding_format base64
 *   embgen check base64|json DIMS N BATCH FILE
 *	FILE holds N records, record k with id "d<k>" and the vector of row
 *	k % BATCH (the canned batch answers hold rows 0..BATCH-1), as
 *	embedding_b64 or as an embedding array of numbers
 *   embgen check-f32 DIMS N BATCH MATRIX INDEX
 *	MATRIX is N rows of DIMS float32 LE, row k the vector of k % BATCH;
 *	INDEX has N lines, line k holding "id":"d<k>" and "row":k
 *   embgen matrix ROWS DIMS MODEL MATRIX INDEX
 *	writes ROWS vectors (row r the vector of r) as a raw float32 LE
 *	matrix and its index as llm-embed -f f32 writes it, one line
 *	{"id":"v<r>","model":MODEL,"dims":DIMS,"row":r,"matrix":MATRIX}
 *	per row
 *
 * Exits 0 on success, 1 on a failed check (one line saying where), 2 on
 * a usage or I/O error.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char b64abc[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static float
value(uint64_t row, uint64_t dims, uint64_t j)
{
	return (float)(mix(row * dims + j) >> 40) / 8388608.0f - 1.0f;
}

static void
vector(float *v, uint64_t row, size_t dims)
{
	size_t j;

	for (j = 0; j < dims; j++)
		v[j] = value(row, dims, j);
}

/* Little-endian bytes of n floats, whatever the host order. */
static void
le_bytes(unsigned char *out, const float *v, size_t n)
{
	uint32_t u;
	size_t i;

	for (i = 0; i < n; i++) {
		memcpy(&u, &v[i], 4);
		out[4 * i] = u & 0xff;
		out[4 * i + 1] = (u >> 8) & 0xff;
		out[4 * i + 2] = (u >> 16) & 0xff;
		out[4 * i + 3] = u >> 24;
	}
}

/* Base64 of len bytes into out (4 * ceil(len / 3) + 1 bytes). */
static void
b64(char *out, const unsigned char *in, size_t len)
{
	size_t i;
	uint32_t w;

	for (i = 0; i + 2 < len; i += 3) {
		w = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*out++ = b64abc[w >> 18];
		*out++ = b64abc[(w >> 12) & 63];
		*out++ = b64abc[(w >> 6) & 63];
		*out++ = b64abc[w & 63];
	}
	if (len - i == 1) {
		w = (uint32_t)in[i] << 16;
		*out++ = b64abc[w >> 18];
		*out++ = b64abc[(w >> 12) & 63];
		*out++ = '=';
		*out++ = '=';
	} else if (len - i == 2) {
		w = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		*out++ = b64abc[w >> 18];
		*out++ = b64abc[(w >> 12) & 63];
		*out++ = b64abc[(w >> 6) & 63];
		*out++ = '=';
	}
	*out = '\0';
}

static size_t
num(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno) {
		fprintf(stderr, "embgen: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

/* The base64 texts of rows 0..batch-1, for the checks. */
static char **
b64_rows(size_t batch, size_t dims)
{
	char **t;
	float *v;
	unsigned char *raw;
	size_t i;

	t = calloc(batch, sizeof(*t));
	v = malloc(dims * sizeof(*v));
	raw = malloc(dims * 4);
	if (t == NULL || v == NULL || raw == NULL)
		exit(2);
	for (i = 0; i < batch; i++) {
		if ((t[i] = malloc((dims * 4 + 2) / 3 * 4 + 1)) == NULL)
			exit(2);
		vector(v, i, dims);
		le_bytes(raw, v, dims);
		b64(t[i], raw, dims * 4);
	}
	free(v);
	free(raw);
	return t;
}

static int
resp(size_t k, size_t dims, size_t first)
{
	float *v;
	unsigned char *raw;
	char *text;
	size_t i;

	v = malloc(dims * sizeof(*v));
	raw = malloc(dims * 4);
	text = malloc((dims * 4 + 2) / 3 * 4 + 1);
	if (v == NULL || raw == NULL || text == NULL)
		return 2;
	printf("{\"object\":\"list\",\"data\":[");
	for (i = 0; i < k; i++) {
		vector(v, first + i, dims);
		le_bytes(raw, v, dims);
		b64(text, raw, dims * 4);
		printf("%s{\"object\":\"embedding\",\"index\":%zu,"
		    "\"embedding\":\"%s\"}", i ? "," : "", i, text);
	}
	printf("],\"model\":\"text-embedding-3-small\",\"usage\":"
	    "{\"prompt_tokens\":%zu,\"total_tokens\":%zu}}\n", k * 24, k * 24);
	free(v);
	free(raw);
	free(text);
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 2;
}

/* The string value of "key":"..." in line, or NULL; *len its length. */
static const char *
field(const char *line, const char *key, size_t *len)
{
	const char *p, *e;

	if ((p = strstr(line, key)) == NULL)
		return NULL;
	p += strlen(key);
	if ((e = strchr(p, '"')) == NULL)
		return NULL;
	*len = e - p;
	return p;
}

static int
check(const char *fmt, size_t dims, size_t n, size_t batch, const char *path)
{
	FILE *f;
	char *line = NULL, want_id[32], **rows = NULL, *end;
	const char *p;
	size_t cap = 0, k = 0, len, j;
	float *v, x;
	int json;

	json = strcmp(fmt, "json") == 0;
	if (!json && strcmp(fmt, "base64") != 0)
		return 2;
	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "embgen: open '%s': %s\n", path,
		    strerror(errno));
		return 2;
	}
	if ((v = malloc(dims * sizeof(*v))) == NULL)
		return 2;
	if (!json)
		rows = b64_rows(batch, dims);
	for (k = 0; getline(&line, &cap, f) != -1; k++) {
		if (k >= n) {
			printf("more than %zu records\n", n);
			return 1;
		}
		snprintf(want_id, sizeof(want_id), "d%zu", k);
		p = field(line, "\"id\":\"", &len);
		if (p == NULL || len != strlen(want_id) ||
		    memcmp(p, want_id, len) != 0) {
			printf("record %zu: id is not \"%s\": %.200s\n", k,
			    want_id, line);
			return 1;
		}
		if (!json) {
			p = field(line, "\"embedding_b64\":\"", &len);
			if (p == NULL || len != strlen(rows[k % batch]) ||
			    memcmp(p, rows[k % batch], len) != 0) {
				printf("record %zu: embedding_b64 is not "
				    "vector %zu\n", k, k % batch);
				return 1;
			}
			continue;
		}
		vector(v, k % batch, dims);
		if ((p = strstr(line, "\"embedding\":[")) == NULL) {
			printf("record %zu: no embedding array\n", k);
			return 1;
		}
		p += strlen("\"embedding\":[");
		for (j = 0; j < dims; j++) {
			x = strtof(p, &end);
			if (end == p || memcmp(&x, &v[j], 4) != 0) {
				printf("record %zu: embedding[%zu] is %.20s, "
				    "not %.9g\n", k, j, p, v[j]);
				return 1;
			}
			p = end;
			if (*p != (j + 1 < dims ? ',' : ']')) {
				printf("record %zu: %zu numbers, not %zu\n",
				    k, j + 1, dims);
				return 1;
			}
			p++;
		}
	}
	if (k != n) {
		printf("%zu records, not %zu\n", k, n);
		return 1;
	}
	free(line);
	free(v);
	if (rows != NULL) {
		for (j = 0; j < batch; j++)
			free(rows[j]);
		free(rows);
	}
	fclose(f);
	return 0;
}

static int
check_f32(size_t dims, size_t n, size_t batch, const char *mpath,
    const char *ipath)
{
	FILE *m, *ix;
	float *v;
	unsigned char *want, *got;
	char *line = NULL, want_id[32], want_row[48];
	const char *p;
	size_t cap = 0, k, len;

	if ((m = fopen(mpath, "rb")) == NULL ||
	    (ix = fopen(ipath, "r")) == NULL) {
		fprintf(stderr, "embgen: open: %s\n", strerror(errno));
		return 2;
	}
	v = malloc(dims * sizeof(*v));
	want = malloc(dims * 4);
	got = malloc(dims * 4);
	if (v == NULL || want == NULL || got == NULL)
		return 2;
	for (k = 0; k < n; k++) {
		vector(v, k % batch, dims);
		le_bytes(want, v, dims);
		if (fread(got, 4, dims, m) != dims) {
			printf("matrix: %zu rows, not %zu\n", k, n);
			return 1;
		}
		if (memcmp(got, want, dims * 4) != 0) {
			printf("matrix row %zu is not vector %zu\n", k,
			    k % batch);
			return 1;
		}
		if (getline(&line, &cap, ix) == -1) {
			printf("index: %zu lines, not %zu\n", k, n);
			return 1;
		}
		snprintf(want_id, sizeof(want_id), "d%zu", k);
		snprintf(want_row, sizeof(want_row), "\"row\":%zu", k);
		p = field(line, "\"id\":\"", &len);
		if (p == NULL || len != strlen(want_id) ||
		    memcmp(p, want_id, len) != 0 ||
		    (p = strstr(line, want_row)) == NULL ||
		    (p[strlen(want_row)] >= '0' &&
		    p[strlen(want_row)] <= '9')) {
			printf("index line %zu is not id %s row %zu: %.200s\n",
			    k, want_id, k, line);
			return 1;
		}
	}
	if (fread(got, 1, 1, m) != 0 || getline(&line, &cap, ix) != -1) {
		printf("more than %zu rows in the matrix or the index\n", n);
		return 1;
	}
	free(v);
	free(want);
	free(got);
	free(line);
	fclose(m);
	fclose(ix);
	return 0;
}

static int
matrix(size_t rows, size_t dims, const char *model, const char *mpath,
    const char *ipath)
{
	FILE *m, *ix;
	float *v;
	unsigned char *raw;
	size_t r;

	if ((m = fopen(mpath, "wb")) == NULL ||
	    (ix = fopen(ipath, "w")) == NULL) {
		fprintf(stderr, "embgen: create: %s\n", strerror(errno));
		return 2;
	}
	v = malloc(dims * sizeof(*v));
	raw = malloc(dims * 4);
	if (v == NULL || raw == NULL)
		return 2;
	for (r = 0; r < rows; r++) {
		vector(v, r, dims);
		le_bytes(raw, v, dims);
		if (fwrite(raw, 4, dims, m) != dims)
			break;
		fprintf(ix, "{\"id\":\"v%zu\",\"model\":\"%s\",\"dims\":%zu,"
		    "\"row\":%zu,\"matrix\":\"%s\"}\n", r, model, dims, r, mpath);
	}
	free(v);
	free(raw);
	if (r != rows || fclose(m) != 0 || ferror(ix) || fclose(ix) != 0) {
		fprintf(stderr, "embgen: write: %s\n", strerror(errno));
		return 2;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	if (argc >= 4 && argc <= 5 && strcmp(argv[1], "resp") == 0)
		return resp(num(argv[2]), num(argv[3]),
		    argc == 5 ? num(argv[4]) : 0);
	if (argc == 7 && strcmp(argv[1], "check") == 0)
		return check(argv[2], num(argv[3]), num(argv[4]), num(argv[5]),
		    argv[6]);
	if (argc == 7 && strcmp(argv[1], "check-f32") == 0)
		return check_f32(num(argv[2]), num(argv[3]), num(argv[4]),
		    argv[5], argv[6]);
	if (argc == 7 && strcmp(argv[1], "matrix") == 0)
		return matrix(num(argv[2]), num(argv[3]), argv[4], argv[5],
		    argv[6]);
	fprintf(stderr, "usage: embgen resp K DIMS [FIRST]\n"
	    "       embgen check base64|json DIMS N BATCH FILE\n"
	    "       embgen check-f32 DIMS N BATCH MATRIX INDEX\n"
	    "       embgen matrix ROWS DIMS MODEL MATRIX INDEX\n");
	return 2;
}
