/*
 * Unit tests for lib/keyfile (and the keyring and passphrase pieces it
 * uses): the test vectors of tests/vectors with their exact messages,
 * truncation at every offset, every bit of the header and of the body
 * flipped, round trips, passwd and rekey, raw slots, names, rotation, the
 * keyfile:NAME lookup with its one-unlock promise, and the session unlock.
 *
 * Run from the repository root (tests/run does).  With -g DIR it writes a
 * fresh set of vectors into DIR instead (see tests/vectors/README).
 *
 * The process puts itself in a new session first, without a controlling
 * terminal, so that no path here can ever wait for a passphrase.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "errbuf.h"
#include "fsutil.h"
#include "keyfile.h"
#include "keyring.h"
#include "passphrase.h"
#include "tap.h"
#include "value.h"
#include "xalloc.h"

#define PASS	"correct horse battery staple"

static const struct keyfile_kdf cheap = { 1, 8u << 20 };
static const char *vecdir = "tests/vectors";
static char tmp[] = "/tmp/llm-keyfile.XXXXXX";

static const struct {
	const char	*name;
	long long	 created;
	const char	*secret;
} valid[] = {
	{ "openai", 1700000000, "sk-test-vector-openai-0001" },
	{ "zai", 1700000100, "sk-test-vector-zai-0001" },
	{ "zai#2", 1700000200, "sk-test-vector-zai-0002" },
};

static struct secmem *
pw(const char *s)
{
	struct secmem *m = secmem_new(PASSPHRASE_MAX);

	if (m == NULL || secmem_append(m, s, strlen(s)) == -1)
		abort();
	return m;
}

static void
raw_key(unsigned char *k)
{
	int i;

	for (i = 0; i < KEYFILE_KEYBYTES; i++)
		k[i] = (unsigned char)i;
}

static unsigned char *
slurp(const char *dir, const char *name, size_t *len)
{
	char *p = xasprintf("%s/%s", dir, name), err[ERRBUF_MAX];
	char *data = NULL;

	if (fsutil_read_file(p, 1u << 22, &data, len, err) == -1) {
		diag("%s", err);
		data = NULL;
	}
	free(p);
	return (unsigned char *)data;
}

static void
spit(const char *dir, const char *name, const unsigned char *d, size_t n)
{
	char *p = xasprintf("%s/%s", dir, name), err[ERRBUF_MAX];

	if (fsutil_write_atomic(p, d, n, 0644, err) == -1) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	free(p);
}

/* Recomputes the header checksum after a deliberate change. */
static void
resum(unsigned char *d)
{
	size_t hlen = (size_t)d[10] | (size_t)d[11] << 8;

	crypto_generichash(d + hlen - 32, 32, d, hlen - 32, NULL, 0);
}

static size_t
hlen_of(const unsigned char *d)
{
	return (size_t)d[10] | (size_t)d[11] << 8;
}

/* A new keyfile with the valid entries, serialised. */
static unsigned char *
make_valid(struct keyfile *kf, size_t *len, int raw)
{
	struct secmem *p = pw(PASS);
	unsigned char *d, k[KEYFILE_KEYBYTES];
	char err[ERRBUF_MAX];
	size_t i;

	keyfile_init(kf);
	if (keyfile_create(kf, NULL, p, &cheap, err) == -1)
		abort();
	for (i = 0; i < nitems(valid); i++)
		if (keyfile_set(kf, valid[i].name, valid[i].secret,
		    strlen(valid[i].secret), valid[i].created, err) == -1)
			abort();
	if (raw) {
		raw_key(k);
		if (keyfile_add_raw_slot(kf, k, err) == -1)
			abort();
	}
	if (keyfile_serialize(kf, &d, len, err) == -1)
		abort();
	secmem_free(p);
	return d;
}

static int
generate(const char *dir)
{
	struct keyfile kf;
	struct secmem *p = pw(PASS);
	unsigned char *d, *v;
	char err[ERRBUF_MAX];
	size_t n, hl;

	if (sodium_init() < 0)
		return 1;
	v = make_valid(&kf, &n, 0);
	keyfile_release(&kf);
	spit(dir, "valid.llmk", v, n);
	hl = hlen_of(v);
	d = xmalloc(n + 1);

	memcpy(d, v, n);
	d[40 + 16] ^= 0x01;			/* the salt */
	spit(dir, "header-bitflip.llmk", d, n);
	memcpy(d, v, n);
	d[hl + 24 + 5] ^= 0x80;			/* the ciphertext */
	spit(dir, "body-bitflip.llmk", d, n);
	memcpy(d, v, n);
	d[40 + 4] = 2;				/* opslimit 1 -> 2 */
	spit(dir, "kdf-tampered.llmk", d, n);
	resum(d);
	spit(dir, "kdf-forged.llmk", d, n);
	memcpy(d, v, n);
	d[40 + 8 + 2] = 0;			/* memlimit 64 GiB */
	d[40 + 8 + 4] = 16;
	resum(d);
	spit(dir, "kdf-absurd-mem.llmk", d, n);
	memcpy(d, v, n);
	d[40 + 4] = 0x40;			/* opslimit 1000000 */
	d[40 + 5] = 0x42;
	d[40 + 6] = 0x0f;
	resum(d);
	spit(dir, "kdf-absurd-ops.llmk", d, n);
	memcpy(d, v, n);
	d[8] = 2;				/* version 2 */
	resum(d);
	spit(dir, "version-2.llmk", d, n);
	memcpy(d, v, n);
	d[1] = 'X';
	spit(dir, "bad-magic.llmk", d, n);
	memcpy(d, v, n);
	d[n] = '\n';
	spit(dir, "trailing.llmk", d, n + 1);
	free(d);
	free(v);

	keyfile_init(&kf);
	if (keyfile_create(&kf, NULL, p, &cheap, err) == -1 ||
	    keyfile_serialize(&kf, &d, &n, err) == -1)
		return 1;
	spit(dir, "empty.llmk", d, n);
	free(d);
	keyfile_release(&kf);

	d = make_valid(&kf, &n, 1);
	spit(dir, "two-slots.llmk", d, n);
	free(d);
	keyfile_release(&kf);
	secmem_free(p);
	return 0;
}

static void
test_names(void)
{
	char err[ERRBUF_MAX], longname[KEYFILE_NAME_MAX + 2];

	ok(keyfile_name_check("zai", err) == 0, "name: zai");
	ok(keyfile_name_check("zai#2", err) == 0, "name: zai#2");
	ok(keyfile_name_check("a.b-c_d/e:f@g+h", err) == 0,
	    "name: punctuation is fine");
	ok(keyfile_name_check("", err) == -1, "name: empty refused");
	is_str(err, "entry name is empty", "name: empty message");
	ok(keyfile_name_check("a\nb", err) == -1, "name: newline refused");
	is_str(err, "entry name contains a control character",
	    "name: control character message does not quote the name");
	ok(keyfile_name_check("a\033[2Jb", err) == -1, "name: escape refused");
	ok(keyfile_name_check("a\177", err) == -1, "name: DEL refused");
	ok(keyfile_name_check("A=B", err) == -1, "name: '=' refused");
	is_str(err, "entry name may hold only printable ASCII other than "
	    "space and '='", "name: '=' message");
	ok(keyfile_name_check("a b", err) == -1, "name: space refused");
	ok(keyfile_name_check("caf\303\251", err) == -1,
	    "name: non-ASCII refused");
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ok(keyfile_name_check(longname, err) == -1, "name: 129 bytes refused");
	longname[KEYFILE_NAME_MAX] = '\0';
	ok(keyfile_name_check(longname, err) == 0, "name: 128 bytes fine");
}

static void
test_kdf_check(void)
{
	struct keyfile_kdf k;
	char err[ERRBUF_MAX];

	k.opslimit = KEYFILE_OPS_DEFAULT;
	k.memlimit = KEYFILE_MEM_DEFAULT;
	ok(keyfile_kdf_check(&k, err) == 0, "kdf: the defaults pass");
	ok(KEYFILE_OPS_DEFAULT == crypto_pwhash_OPSLIMIT_MODERATE &&
	    KEYFILE_MEM_DEFAULT == crypto_pwhash_MEMLIMIT_MODERATE,
	    "kdf: the defaults are libsodium's MODERATE");
	k.opslimit = crypto_pwhash_OPSLIMIT_SENSITIVE;
	k.memlimit = crypto_pwhash_MEMLIMIT_SENSITIVE;
	ok(keyfile_kdf_check(&k, err) == 0, "kdf: SENSITIVE passes");
	k.opslimit = 5;
	ok(keyfile_kdf_check(&k, err) == -1, "kdf: more work than SENSITIVE "
	    "refused");
	k = cheap;
	k.opslimit = 0;
	ok(keyfile_kdf_check(&k, err) == -1, "kdf: opslimit 0 refused");
	k.opslimit = 33;
	k.memlimit = 8192;
	ok(keyfile_kdf_check(&k, err) == -1, "kdf: opslimit 33 refused");
	k.opslimit = 1;
	k.memlimit = 4096;
	ok(keyfile_kdf_check(&k, err) == -1, "kdf: 4 KiB refused");
	k.memlimit = (1ULL << 30) + 1024;
	ok(keyfile_kdf_check(&k, err) == -1, "kdf: over 1 GiB refused");
	is_str(err, "KDF parameters out of range (opslimit 1, memlimit "
	    "1073742848): refusing to derive", "kdf: the message");
}

/* Checks that kf holds exactly the valid entries. */
static int
has_valid(const struct keyfile *kf)
{
	const struct keyfile_entry *e;
	size_t i;

	if (kf->n != nitems(valid))
		return 0;
	for (i = 0; i < nitems(valid); i++) {
		if ((e = keyfile_get(kf, valid[i].name)) == NULL ||
		    e->created != valid[i].created ||
		    e->secret->len != strlen(valid[i].secret) ||
		    memcmp(e->secret->data, valid[i].secret,
		    e->secret->len) != 0)
			return 0;
	}
	return 1;
}

/*
 * The table of tests/vectors/expected: file, passphrase, and "ok" or the
 * exact message.
 */
static void
test_vectors(void)
{
	char *table, *line, *next, *file, *pass, *want, err[ERRBUF_MAX];
	struct keyfile kf;
	struct secmem *p;
	unsigned char *d;
	size_t n, tlen;
	int r, rows = 0;

	table = (char *)slurp(vecdir, "expected", &tlen);
	if (!ok(table != NULL, "vectors: read %s/expected", vecdir))
		return;
	for (line = table; line && *line; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (*line == '#' || *line == '\0')
			continue;
		file = line;
		if ((pass = strchr(file, '\t')) == NULL ||
		    (want = strchr(pass + 1, '\t')) == NULL) {
			ok(0, "vectors: bad line '%s'", line);
			continue;
		}
		*pass++ = '\0';
		*want++ = '\0';
		rows++;
		if ((d = slurp(vecdir, file, &n)) == NULL) {
			ok(0, "vectors: read %s", file);
			continue;
		}
		keyfile_init(&kf);
		err[0] = '\0';
		r = keyfile_parse(&kf, d, n, err);
		if (r == 0) {
			p = pw(pass);
			r = keyfile_unlock(&kf, p, err);
			secmem_free(p);
		}
		if (strcmp(want, "ok") == 0)
			ok(r == 0 && (strcmp(file, "empty.llmk") == 0 ?
			    kf.n == 0 : has_valid(&kf)),
			    "vector %s opens with its passphrase", file);
		else
			is_str(r != 0 ? err : "(opened)", want,
			    "vector %s, passphrase '%s': %s", file, pass, want);
		keyfile_release(&kf);
		free(d);
	}
	ok(rows >= 14, "vectors: the table has %d rows", rows);
	free(table);
}

static void
test_raw_slot(void)
{
	struct keyfile kf;
	unsigned char *d, k[KEYFILE_KEYBYTES];
	char err[ERRBUF_MAX];
	size_t n;

	if ((d = slurp(vecdir, "two-slots.llmk", &n)) == NULL) {
		ok(0, "raw slot: read two-slots.llmk");
		return;
	}
	keyfile_init(&kf);
	raw_key(k);
	ok(keyfile_parse(&kf, d, n, err) == 0 && kf.nslots == 2 &&
	    kf.slots[1].type == KEYFILE_SLOT_RAW, "raw slot: two slots parsed");
	ok(keyfile_unlock_raw(&kf, k, err) == 0 && has_valid(&kf),
	    "raw slot: opens with the raw key, no KDF");
	k[0] ^= 1;
	ok(keyfile_unlock_raw(&kf, k, err) == 1 && kf.key == NULL,
	    "raw slot: a wrong raw key is refused, locked again");
	keyfile_release(&kf);
	free(d);
}

static void
test_truncation(void)
{
	struct keyfile kf;
	unsigned char *d;
	char err[ERRBUF_MAX];
	size_t n, i, bad = 0;

	if ((d = slurp(vecdir, "valid.llmk", &n)) == NULL) {
		ok(0, "truncation: read valid.llmk");
		return;
	}
	for (i = 0; i < n; i++) {
		keyfile_init(&kf);
		if (keyfile_parse(&kf, d, i, err) != -1 ||
		    strcmp(err, "truncated keyfile") != 0) {
			if (bad++ == 0)
				diag("offset %zu: %s", i, err);
		}
		keyfile_release(&kf);
	}
	is_int((long long)bad, 0, "truncation at each of %zu offsets: "
	    "\"truncated keyfile\"", n);
	free(d);
}

/* What flipping a bit of byte i of the header must say. */
static const char *
flip_message(size_t i)
{
	if (i < 8)
		return "not an llm-keys keyfile (bad magic)";
	if (i < 10)
		return NULL;	/* "unsupported keyfile version N" */
	if (i < 13)
		return "corrupt keyfile header (bad length)";
	return "corrupt keyfile header (checksum mismatch)";
}

static void
test_header_bits(void)
{
	struct keyfile kf;
	unsigned char *d;
	char err[ERRBUF_MAX];
	const char *want;
	size_t n, hl, i, bad = 0;
	int b;

	if ((d = slurp(vecdir, "valid.llmk", &n)) == NULL) {
		ok(0, "header bits: read valid.llmk");
		return;
	}
	hl = hlen_of(d);
	for (i = 0; i < hl; i++) {
		for (b = 0; b < 8; b++) {
			d[i] ^= (unsigned char)(1 << b);
			keyfile_init(&kf);
			err[0] = '\0';
			if (keyfile_parse(&kf, d, n, err) != -1 ||
			    ((want = flip_message(i)) != NULL ?
			    strcmp(err, want) != 0 :
			    strncmp(err, "unsupported keyfile version ", 28))) {
				if (bad++ == 0)
					diag("byte %zu bit %d: %s", i, b, err);
			}
			keyfile_release(&kf);
			d[i] ^= (unsigned char)(1 << b);
		}
	}
	is_int((long long)bad, 0, "each of the %zu header bits flipped is "
	    "told as damage, before any KDF", hl * 8);
	free(d);
}

static void
test_body_bits(void)
{
	struct keyfile kf;
	struct secmem *p = pw(PASS);
	unsigned char *d, key[KEYFILE_KEYBYTES];
	char err[ERRBUF_MAX];
	size_t n, hl, i, bad = 0;
	int b;

	if ((d = slurp(vecdir, "valid.llmk", &n)) == NULL) {
		ok(0, "body bits: read valid.llmk");
		secmem_free(p);
		return;
	}
	hl = hlen_of(d);
	keyfile_init(&kf);
	if (!ok(keyfile_parse(&kf, d, n, err) == 0 &&
	    keyfile_unlock(&kf, p, err) == 0, "body bits: the data key")) {
		free(d);
		secmem_free(p);
		return;
	}
	memcpy(key, kf.key, sizeof(key));
	keyfile_release(&kf);
	for (i = hl; i < n; i++) {
		for (b = 0; b < 8; b++) {
			d[i] ^= (unsigned char)(1 << b);
			keyfile_init(&kf);
			if (keyfile_parse(&kf, d, n, err) != 0 ||
			    keyfile_unlock_key(&kf, key, err) != 1 ||
			    kf.key != NULL || kf.n != 0)
				bad++;
			keyfile_release(&kf);
			d[i] ^= (unsigned char)(1 << b);
		}
	}
	is_int((long long)bad, 0, "each of the %zu body bits flipped fails "
	    "authentication", (n - hl) * 8);
	sodium_memzero(key, sizeof(key));
	free(d);
	secmem_free(p);
}

static void
test_roundtrip(void)
{
	struct keyfile kf, back;
	struct secmem *p = pw(PASS), *q = pw("a new passphrase");
	unsigned char *d, *d2, id[KEYFILE_IDBYTES];
	char err[ERRBUF_MAX], big[300];
	size_t n, n2;

	d = make_valid(&kf, &n, 0);
	keyfile_init(&back);
	ok(keyfile_parse(&back, d, n, err) == 0 &&
	    keyfile_unlock(&back, p, err) == 0 && has_valid(&back),
	    "round trip: what was set comes back");
	ok((n - hlen_of(d) - 24 - 16) % 256 == 0,
	    "round trip: the body is padded to 256 bytes");
	ok(sodium_memcmp(back.id, kf.id, sizeof(kf.id)) == 0,
	    "round trip: the id is kept");
	free(d);

	ok(keyfile_set(&back, "zai", "sk-test-replaced", 16, 5, err) == 0,
	    "set: replace an entry");
	ok(keyfile_rm(&back, "openai") == 0 && keyfile_rm(&back, "openai") == 1,
	    "rm: once, then absent");
	ok(keyfile_set(&back, "x", "", 0, 5, err) == -1 &&
	    strcmp(err, "empty secret") == 0, "set: empty secret refused");
	ok(keyfile_set(&back, "x", "a\0b", 3, 5, err) == -1 &&
	    strcmp(err, "secret contains a NUL byte") == 0,
	    "set: NUL byte refused");
	ok(keyfile_set(&back, "x=y", "abc", 3, 5, err) == -1,
	    "set: bad name refused");
	memset(big, 'k', sizeof(big));
	ok(keyfile_set(&back, "big", big, sizeof(big), 5, err) == 0,
	    "set: a 300-byte secret");
	ok(keyfile_serialize(&back, &d2, &n2, err) == 0, "serialise again");
	keyfile_release(&back);
	keyfile_init(&back);
	ok(keyfile_parse(&back, d2, n2, err) == 0 &&
	    keyfile_unlock(&back, p, err) == 0 && back.n == 3 &&
	    keyfile_get(&back, "openai") == NULL &&
	    keyfile_get(&back, "zai")->secret->len == 16 &&
	    keyfile_get(&back, "big")->secret->len == sizeof(big),
	    "round trip after replace, rm and set");
	free(d2);

	/* passwd: same data key and id, new passphrase. */
	memcpy(id, back.id, sizeof(id));
	ok(keyfile_passwd(&back, q, &cheap, err) == 0 &&
	    keyfile_serialize(&back, &d2, &n2, err) == 0, "passwd");
	keyfile_release(&back);
	keyfile_init(&back);
	ok(keyfile_parse(&back, d2, n2, err) == 0 &&
	    keyfile_unlock(&back, p, err) == 1 &&
	    strcmp(err, "wrong passphrase") == 0,
	    "passwd: the old passphrase no longer opens");
	ok(keyfile_unlock(&back, q, err) == 0 && back.n == 3 &&
	    memcmp(back.id, id, sizeof(id)) == 0,
	    "passwd: the new one does, the id is the same");
	free(d2);
	ok(keyfile_rekey(&back, p, &cheap, err) == 0 &&
	    memcmp(back.id, id, sizeof(id)) != 0 &&
	    keyfile_serialize(&back, &d2, &n2, err) == 0,
	    "rekey: a new id");
	keyfile_release(&back);
	keyfile_init(&back);
	ok(keyfile_parse(&back, d2, n2, err) == 0 &&
	    keyfile_unlock(&back, p, err) == 0 && back.n == 3,
	    "rekey: entries survive under the new key");
	free(d2);
	keyfile_release(&back);
	keyfile_release(&kf);
	secmem_free(p);
	secmem_free(q);
}

static void
test_rotation(void)
{
	static const char *const names[] = {
		"zai#10", "zai#2", "zaix", "zai#02", "zai#1", "zai", "zai#3",
		"zai#", "zai#2x", "openai", "zai#0"
	};
	struct keyfile kf;
	struct secmem *p = pw(PASS);
	const char **r;
	char err[ERRBUF_MAX], got[256];
	size_t i, n;

	keyfile_init(&kf);
	if (keyfile_create(&kf, NULL, p, &cheap, err) == -1)
		abort();
	for (i = 0; i < nitems(names); i++)
		keyfile_set(&kf, names[i], "sk-test-r", 9, 1, err);
	r = keyfile_rotation_names(&kf, "zai", &n);
	got[0] = '\0';
	for (i = 0; i < n; i++) {
		strcat(got, r[i]);
		strcat(got, " ");
	}
	is_str(got, "zai zai#2 zai#3 zai#10 ", "rotation: zai, then #N by N");
	free(r);
	r = keyfile_rotation_names(&kf, "none", &n);
	ok(r == NULL && n == 0, "rotation: none for an absent provider");
	keyfile_release(&kf);
	secmem_free(p);
}

static void
test_fingerprint(void)
{
	char fp[KEYFILE_FP_LEN + 1];

	/* printf 'sk-test-x' | b2sum -l 256 */
	keyfile_fingerprint("sk-test-x", 9, fp);
	is_str(fp, "ee4975d8ea8e", "fingerprint: BLAKE2b-256, 12 hex digits");
}

/* Writes a fresh keyfile with the valid entries at path. */
static void
write_keyfile(const char *path)
{
	struct keyfile kf;
	struct secmem *p = pw(PASS);
	char err[ERRBUF_MAX];
	size_t i;

	keyfile_init(&kf);
	if (keyfile_create(&kf, path, p, &cheap, err) == -1)
		abort();
	for (i = 0; i < nitems(valid); i++)
		keyfile_set(&kf, valid[i].name, valid[i].secret,
		    strlen(valid[i].secret), valid[i].created, err);
	if (keyfile_save(&kf, err) == -1) {
		diag("%s", err);
		abort();
	}
	keyfile_release(&kf);
	secmem_free(p);
}

static void
test_open_checks(void)
{
	char *dir = xasprintf("%s/open", tmp), *f, *s, *w, err[ERRBUF_MAX];
	struct keyfile kf;

	f = xasprintf("%s/keys.llmk", dir);
	write_keyfile(f);
	keyfile_init(&kf);
	ok(keyfile_open(&kf, f, err) == 0, "open: a saved keyfile");
	keyfile_release(&kf);
	ok(access(f, F_OK) == 0 && (chmod(f, 0640) == 0) &&
	    keyfile_open(&kf, f, err) == -1 && strstr(err, "is accessible by "
	    "others (mode 0640): refusing") != NULL,
	    "open: mode 0640 refused");
	chmod(f, 0600);
	if (geteuid() == 0) {
		ok(chown(f, 65534, 65534) == 0 &&
		    keyfile_open(&kf, f, err) == -1 &&
		    strstr(err, "belongs to uid 65534, not you") != NULL,
		    "open: a file owned by someone else refused");
		chown(f, 0, 0);
	} else
		ok(1, "open: a file owned by someone else # SKIP not root, "
		    "cannot chown");
	chmod(dir, 0777);
	ok(keyfile_open(&kf, f, err) == -1 && strstr(err, "is writable by "
	    "others") != NULL, "open: a world-writable directory refused");
	chmod(dir, 0700);
	s = xasprintf("%s/link.llmk", dir);
	ok(symlink(f, s) == 0 && keyfile_open(&kf, s, err) == -1 &&
	    strstr(err, "is a symbolic link: refusing") != NULL,
	    "open: a symbolic link refused");
	ok(keyfile_open(&kf, dir, err) == -1 && errno == EISDIR &&
	    strstr(err, "is a directory") != NULL, "open: a directory refused");
	w = xasprintf("%s/fifo.llmk", dir);
	ok(mkfifo(w, 0600) == 0 && keyfile_open(&kf, w, err) == -1 &&
	    strstr(err, "not a regular file") != NULL,
	    "open: a FIFO refused without blocking");
	free(w);
	w = xasprintf("%s/none.llmk", dir);
	ok(keyfile_open(&kf, w, err) == -1 && errno == ENOENT,
	    "open: a missing file says ENOENT");
	keyfile_release(&kf);
	free(w);
	free(s);
	free(f);
	free(dir);
}

static void
test_lookup(void)
{
	struct secmem *out = secmem_new(VALUE_MAX);
	char *f = xasprintf("%s/look/keys.llmk", tmp), err[ERRBUF_MAX];
	const char **names;
	unsigned long runs;
	size_t n;
	int r;

	write_keyfile(f);
	setenv("LLM_KEYFILE", f, 1);
	unsetenv("LLM_KEYS_PASSPHRASE_FD");
	setenv("LLM_KEYS_PASSPHRASE", PASS, 1);
	value_keyfile_lookup = NULL;
	r = value_resolve("keyfile:zai", out, err);
	ok(r == 1, "lookup: unresolved before install");
	keyfile_install_lookup();
	runs = keyfile_kdf_runs;
	r = value_resolve("keyfile:zai", out, err);
	ok(r == 0 && strcmp(out->data, "sk-test-vector-zai-0001") == 0,
	    "lookup: keyfile:zai resolves");
	ok(getenv("LLM_KEYS_PASSPHRASE") == NULL,
	    "lookup: the passphrase variable is cleared after use");
	out->len = 0;
	r = value_resolve("keyfile:openai", out, err);
	ok(r == 0 && out->len == strlen("sk-test-vector-openai-0001"),
	    "lookup: a second entry");
	r = value_resolve("keyfile:nope", out, err);
	ok(r == 1, "lookup: a missing entry is unresolved");
	is_str(err, "keyfile has no entry 'nope'", "lookup: its message");
	ok(keyfile_rotation("zai", &names, &n, err) == 0 && n == 2 &&
	    strcmp(names[0], "zai") == 0 && strcmp(names[1], "zai#2") == 0,
	    "lookup: rotation of zai is zai, zai#2");
	free(names);
	is_int((long long)(keyfile_kdf_runs - runs), 1,
	    "lookup: one unlock for the whole process");
	keyfile_uninstall_lookup();
	ok(value_keyfile_lookup == NULL, "uninstall clears the hook");

	/* No source at all, no terminal: fails at once, remembered. */
	keyfile_install_lookup();
	runs = keyfile_kdf_runs;
	r = value_resolve("keyfile:zai", out, err);
	ok(r == -1 && strstr(err, "no passphrase: set "
	    "LLM_KEYS_PASSPHRASE_FD or LLM_KEYS_PASSPHRASE") != NULL,
	    "lookup: no passphrase, no terminal: a clear error");
	r = value_resolve("keyfile:zai", out, err);
	ok(r == -1 && keyfile_kdf_runs == runs,
	    "lookup: the failure is remembered, no retry");
	keyfile_uninstall_lookup();

	/* Wrong passphrase. */
	setenv("LLM_KEYS_PASSPHRASE", "sk-test-wrong", 1);
	keyfile_install_lookup();
	r = value_resolve("keyfile:zai", out, err);
	ok(r == -1 && strstr(err, "wrong passphrase") != NULL,
	    "lookup: a wrong passphrase is an error, not unresolved");
	keyfile_uninstall_lookup();

	/* No keyfile: unresolved, so the next source is tried. */
	setenv("LLM_KEYFILE", "/nonexistent/keys.llmk", 1);
	keyfile_install_lookup();
	r = value_resolve("keyfile:zai", out, err);
	ok(r == 1 && strstr(err, "no keyfile at") != NULL,
	    "lookup: no keyfile is unresolved");
	ok(keyfile_rotation("zai", &names, &n, err) == 0 && n == 0,
	    "lookup: no keyfile, an empty rotation");
	keyfile_uninstall_lookup();

	/* The FD source. */
	{
		int fds[2];

		setenv("LLM_KEYFILE", f, 1);
		unsetenv("LLM_KEYS_PASSPHRASE");
		if (pipe(fds) == 0) {
			char num[16];

			write(fds[1], PASS "\nrest", strlen(PASS) + 5);
			close(fds[1]);
			snprintf(num, sizeof(num), "%d", fds[0]);
			setenv("LLM_KEYS_PASSPHRASE_FD", num, 1);
			keyfile_install_lookup();
			out->len = 0;
			r = value_resolve("keyfile:zai#2", out, err);
			ok(r == 0 && strcmp(out->data,
			    "sk-test-vector-zai-0002") == 0,
			    "lookup: LLM_KEYS_PASSPHRASE_FD, one line");
			ok(fcntl(fds[0], F_GETFD) == -1,
			    "lookup: the descriptor is closed after use");
			keyfile_uninstall_lookup();
		}
	}
	secmem_free(out);
	free(f);
}

static void
test_session(void)
{
	struct secmem *out = secmem_new(VALUE_MAX), *p = pw(PASS);
	char *f = xasprintf("%s/sess/keys.llmk", tmp), err[ERRBUF_MAX];
	struct keyfile kf;
	unsigned long runs;
	int r;

	if (keyring_available(err) == -1) {
		diag("kernel keyrings unavailable here: %s", err);
		ok(1, "session: store # SKIP %s", err);
		ok(1, "session: lookup without KDF # SKIP %s", err);
		ok(1, "session: forget # SKIP %s", err);
		secmem_free(out);
		secmem_free(p);
		free(f);
		return;
	}
	write_keyfile(f);
	keyfile_init(&kf);
	r = keyfile_open(&kf, f, err) == 0 && keyfile_unlock(&kf, p, err) == 0
	    && keyfile_session_store(&kf, 60, err) == 0;
	if (!ok(r, "session: store the data key for 60 s"))
		diag("%s", err);
	setenv("LLM_KEYFILE", f, 1);
	unsetenv("LLM_KEYS_PASSPHRASE");
	unsetenv("LLM_KEYS_PASSPHRASE_FD");
	keyfile_install_lookup();
	runs = keyfile_kdf_runs;
	r = value_resolve("keyfile:zai", out, err);
	ok(r == 0 && keyfile_kdf_runs == runs &&
	    strcmp(out->data, "sk-test-vector-zai-0001") == 0,
	    "session: keyfile:zai resolves with no KDF at all");
	keyfile_uninstall_lookup();
	ok(keyfile_session_forget(&kf, err) == 0 &&
	    keyfile_session_forget(&kf, err) == 1, "session: forget, once");
	keyfile_release(&kf);
	secmem_free(out);
	secmem_free(p);
	free(f);
}

static void
test_passphrase_fd(void)
{
	struct secmem *s = secmem_new(PASSPHRASE_MAX);
	char err[ERRBUF_MAX];
	int fds[2];

	if (pipe(fds) == -1)
		return;
	write(fds[1], "pass\r\nmore", 10);
	close(fds[1]);
	ok(passphrase_read_fd(fds[0], s, err) == 0 &&
	    strcmp(s->data, "pass") == 0, "passphrase: one line, CR dropped");
	s->len = 0;
	ok(passphrase_read_fd(fds[0], s, err) == 0 &&
	    strcmp(s->data, "more") == 0,
	    "passphrase: the rest stays for the next read");
	close(fds[0]);
	s->len = 0;
	setenv("LLM_T_FD", "not-a-number", 1);
	ok(passphrase_from_env("LLM_T_FD", "LLM_T", s, err) == -1 &&
	    strstr(err, "is not a file descriptor") != NULL,
	    "passphrase: a bad descriptor number");
	setenv("LLM_T_FD", "", 1);
	setenv("LLM_T", "", 1);
	ok(passphrase_from_env("LLM_T_FD", "LLM_T", s, err) == 1,
	    "passphrase: empty variables count as unset");
	ok(passphrase_tty("x: ", s, err) == 1,
	    "passphrase: no terminal, no wait");
	secmem_free(s);
}

int
main(int argc, char *argv[])
{
	pid_t pid;
	int status;

	if (argc == 3 && strcmp(argv[1], "-g") == 0)
		return generate(argv[2]);
	/* Away from any terminal: see the comment at the top. */
	if (setsid() == -1) {
		if ((pid = fork()) == -1)
			return 1;
		if (pid > 0) {
			while (waitpid(pid, &status, 0) == -1)
				if (errno != EINTR)
					return 1;
			return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
		}
		setsid();
	}
	if (getenv("LLM_TEST_VECTORS") != NULL)
		vecdir = getenv("LLM_TEST_VECTORS");
	if (sodium_init() < 0 || mkdtemp(tmp) == NULL)
		return 1;
	test_names();
	test_kdf_check();
	test_vectors();
	test_raw_slot();
	test_truncation();
	test_header_bits();
	test_body_bits();
	test_roundtrip();
	test_rotation();
	test_fingerprint();
	test_open_checks();
	test_lookup();
	test_session();
	test_passphrase_fd();
	{
		char *cmd = xasprintf("rm -rf '%s'", tmp);

		system(cmd);
		free(cmd);
	}
	return done();
}
