/*
 * replay.h: the plain driver for the fuzz targets.
 *
 * A target includes this header before it defines LLVMFuzzerTestOneInput
 * (the header declares it).  Built normally, the header adds a main() that
 * feeds every file named on the command line (a directory stands for the
 * files in it, in name order) to the target once, printing one TAP point
 * per file, so that CI runs the corpora without libFuzzer and tests/run
 * counts them.  A target reports a broken invariant by aborting: the
 * process dies, the plan is never printed, and tests/run counts a failure.
 * Built with -DLIBFUZZER (tests/fuzz/build-libfuzzer) the header only
 * declares the entry point and libFuzzer supplies main().
 */
#ifndef LLM_FUZZ_REPLAY_H
#define LLM_FUZZ_REPLAY_H

#include <stddef.h>
#include <stdint.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#ifndef LIBFUZZER
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REPLAY_MAX	(16u << 20)	/* largest corpus file replayed */

static int replay_n, replay_bad;

static void
replay_fail(const char *what, const char *why)
{
	printf("not ok %d - %s: %s\n", ++replay_n, what, why);
	replay_bad = 1;
}

static void *
replay_alloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	return p;
}

/*
 * Runs the target once over the file at path, from an exact-size heap
 * copy so that the sanitizers see a read past the end.
 */
static void
replay_file(const char *path)
{
	struct stat st;
	uint8_t *data;
	size_t len = 0;
	ssize_t got;
	int fd;

	if ((fd = open(path, O_RDONLY)) == -1) {
		replay_fail(path, strerror(errno));
		return;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size > REPLAY_MAX) {
		replay_fail(path, "not a regular file of at most 16 MiB");
		close(fd);
		return;
	}
	data = replay_alloc((size_t)st.st_size);
	while (len < (size_t)st.st_size && (got = read(fd, data + len,
	    (size_t)st.st_size - len)) > 0)
		len += (size_t)got;
	close(fd);
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	printf("ok %d - %s\n", ++replay_n, path);
}

static int
replay_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs the target over each file in dir, in name order. */
static void
replay_dir(const char *dir)
{
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, i, len;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		replay_fail(dir, strerror(errno));
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nn;

			cap = cap ? cap * 2 : 64;
			nn = replay_alloc(cap * sizeof(*names));
			if (n)
				memcpy(nn, names, n * sizeof(*names));
			free(names);
			names = nn;
		}
		len = strlen(dir) + strlen(de->d_name) + 2;
		names[n] = replay_alloc(len);
		snprintf(names[n++], len, "%s/%s", dir, de->d_name);
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), replay_cmp);
	if (n == 0)
		replay_fail(dir, "empty corpus");
	for (i = 0; i < n; i++) {
		replay_file(names[i]);
		free(names[i]);
	}
	free(names);
}

int
main(int argc, char *argv[])
{
	struct stat st;
	int i;

	/* Unbuffered, so the points before a crash are not lost. */
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc < 2) {
		fprintf(stderr, "usage: %s corpus-dir-or-file ...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			replay_dir(argv[i]);
		else
			replay_file(argv[i]);
	}
	printf("1..%d\n", replay_n);
	return replay_bad;
}
#endif	/* !LIBFUZZER */

#endif
