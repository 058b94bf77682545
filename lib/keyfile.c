#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
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
#include "paths.h"
#include "value.h"
#include "xalloc.h"

/*
 * The layout of llm-keys(5), version 1.  All integers little-endian.
 */
static const unsigned char magic[8] = {
	0x89, 'L', 'L', 'M', 'K', '\r', '\n', 0x1a
};
#define OFF_VERSION	8	/* u16 */
#define OFF_HLEN	10	/* u16: header length, checksum included */
#define OFF_NSLOTS	12	/* u8 */
#define OFF_RES1	13	/* 3 zero bytes */
#define OFF_ID		16	/* 16 bytes */
#define OFF_BODYLEN	32	/* u32: bytes after the header */
#define OFF_RES2	36	/* u32 zero */
#define OFF_SLOTS	40
#define SUMBYTES	32	/* BLAKE2b-256 of the header before it */
#define HLEN(n)		(OFF_SLOTS + KEYFILE_SLOTBYTES * (n) + SUMBYTES)

/* Within a slot. */
#define S_TYPE		0	/* u8 */
#define S_KDF		1	/* u8 */
#define S_RES		2	/* u16 zero */
#define S_OPS		4	/* u32 */
#define S_MEM		8	/* u64 */
#define S_SALT		16	/* 16 bytes */
#define S_NONCE		32	/* 24 bytes */
#define S_WRAPPED	56	/* 32 + 16 bytes */
#define S_ADBYTES	32	/* what the slot's own AD covers */

#define NONCEBYTES	crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAGBYTES	crypto_aead_xchacha20poly1305_ietf_ABYTES
#define PADDING		256	/* the body is padded to a multiple */
#define BODY_MIN	(NONCEBYTES + 4 + TAGBYTES)
#define BODY_MAX	(NONCEBYTES + KEYFILE_PLAIN_MAX + TAGBYTES)
#define FILE_MAX	(HLEN(KEYFILE_SLOTS_MAX) + BODY_MAX)

unsigned long keyfile_kdf_runs;

static unsigned
get16(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void
put16(unsigned char *p, unsigned v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

static void
put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static int
allzero(const unsigned char *p, size_t n)
{
	while (n-- > 0)
		if (*p++ != 0)
			return 0;
	return 1;
}

void
keyfile_init(struct keyfile *kf)
{
	memset(kf, 0, sizeof(*kf));
}

static void
clear_entries(struct keyfile *kf)
{
	size_t i;

	for (i = 0; i < kf->n; i++)
		secmem_free(kf->entries[i].secret);
	free(kf->entries);
	kf->entries = NULL;
	kf->n = 0;
}

/* Back to locked: drops the data key and the entries. */
static void
relock(struct keyfile *kf)
{
	clear_entries(kf);
	if (kf->key != NULL)
		sodium_free(kf->key);
	kf->key = NULL;
}

void
keyfile_release(struct keyfile *kf)
{
	relock(kf);
	free(kf->path);
	free(kf->header);
	free(kf->body);
	sodium_memzero(kf->slots, sizeof(kf->slots));
	keyfile_init(kf);
}

int
keyfile_kdf_check(const struct keyfile_kdf *kdf, char *err)
{
	if (kdf->opslimit < KEYFILE_OPS_MIN ||
	    kdf->opslimit > KEYFILE_OPS_MAX ||
	    kdf->memlimit < KEYFILE_MEM_MIN ||
	    kdf->memlimit > KEYFILE_MEM_MAX ||
	    kdf->opslimit * kdf->memlimit > KEYFILE_WORK_MAX)
		return errbuf_set(err, "KDF parameters out of range (opslimit "
		    "%llu, memlimit %llu): refusing to derive", kdf->opslimit,
		    kdf->memlimit);
	return 0;
}

static int
parse_slot(struct keyfile_slot *s, const unsigned char *p, size_t i,
    char *err)
{
	memcpy(s->raw, p, KEYFILE_SLOTBYTES);
	s->type = p[S_TYPE];
	s->kdf = p[S_KDF];
	s->params.opslimit = get32(p + S_OPS);
	s->params.memlimit = get64(p + S_MEM);
	if (s->type == KEYFILE_SLOT_PASSPHRASE) {
		if (s->kdf != KEYFILE_KDF_ARGON2ID13)
			return errbuf_set(err, "unsupported KDF %d in slot %zu",
			    s->kdf, i + 1);
		if (get16(p + S_RES) != 0)
			return errbuf_set(err, "corrupt keyfile header "
			    "(reserved bytes in slot %zu)", i + 1);
		return keyfile_kdf_check(&s->params, err);
	}
	if (s->type == KEYFILE_SLOT_RAW && s->kdf != KEYFILE_KDF_NONE)
		return errbuf_set(err, "unsupported KDF %d in slot %zu", s->kdf,
		    i + 1);
	/* Other types are a later version's: kept as they are, skipped. */
	return 0;
}

int
keyfile_parse(struct keyfile *kf, const void *data, size_t len, char *err)
{
	const unsigned char *p = data;
	unsigned char sum[SUMBYTES];
	size_t hlen, nslots, bodylen, i;
	unsigned version;

	if (sodium_init() < 0)
		return errbuf_set(err, "cannot initialise libsodium");
	if (len < sizeof(magic)) {
		if (memcmp(p, magic, len) == 0)
			return errbuf_set(err, "truncated keyfile");
		return errbuf_set(err, "not an llm-keys keyfile (bad magic)");
	}
	if (memcmp(p, magic, sizeof(magic)) != 0)
		return errbuf_set(err, "not an llm-keys keyfile (bad magic)");
	if (len < OFF_HLEN)
		return errbuf_set(err, "truncated keyfile");
	if ((version = get16(p + OFF_VERSION)) != KEYFILE_VERSION)
		return errbuf_set(err, "unsupported keyfile version %u (this "
		    "llm-keys reads version %d)", version, KEYFILE_VERSION);
	if (len < OFF_SLOTS)
		return errbuf_set(err, "truncated keyfile");
	hlen = get16(p + OFF_HLEN);
	nslots = p[OFF_NSLOTS];
	if (nslots < 1 || nslots > KEYFILE_SLOTS_MAX || hlen != HLEN(nslots))
		return errbuf_set(err, "corrupt keyfile header (bad length)");
	if (len < hlen)
		return errbuf_set(err, "truncated keyfile");
	crypto_generichash(sum, sizeof(sum), p, hlen - SUMBYTES, NULL, 0);
	if (sodium_memcmp(sum, p + hlen - SUMBYTES, SUMBYTES) != 0)
		return errbuf_set(err, "corrupt keyfile header (checksum "
		    "mismatch)");
	/* Past the checksum, only a forged or buggy header fails. */
	if (!allzero(p + OFF_RES1, 3) || get32(p + OFF_RES2) != 0)
		return errbuf_set(err, "corrupt keyfile header (reserved "
		    "bytes)");
	bodylen = get32(p + OFF_BODYLEN);
	if (bodylen < BODY_MIN || bodylen > BODY_MAX ||
	    (bodylen - NONCEBYTES - TAGBYTES) % PADDING != 0)
		return errbuf_set(err, "corrupt keyfile header (bad body "
		    "length)");
	if (len < hlen + bodylen)
		return errbuf_set(err, "truncated keyfile");
	if (len > hlen + bodylen)
		return errbuf_set(err, "corrupt keyfile (data after the end)");
	for (i = 0; i < nslots; i++)
		if (parse_slot(&kf->slots[i], p + OFF_SLOTS +
		    i * KEYFILE_SLOTBYTES, i, err) == -1)
			return -1;
	kf->nslots = nslots;
	memcpy(kf->id, p + OFF_ID, KEYFILE_IDBYTES);
	free(kf->header);
	free(kf->body);
	kf->header = xmalloc(hlen);
	memcpy(kf->header, p, hlen);
	kf->headerlen = hlen;
	kf->body = xmalloc(bodylen);
	memcpy(kf->body, p + hlen, bodylen);
	kf->bodylen = bodylen;
	return 0;
}

/* The directory part of path, new. */
static char *
dirpart(const char *path)
{
	const char *s = strrchr(path, '/');

	if (s == NULL)
		return xstrdup(".");
	if (s == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(s - path));
}

static int
check_dir(const char *path, char *err)
{
	char *dir = dirpart(path);
	struct stat st;
	int r = 0;

	if (stat(dir, &st) == -1)
		r = errbuf_errno(err, "stat '%s'", dir);
	else if (st.st_uid != geteuid() && st.st_uid != 0)
		r = errbuf_set(err, "directory '%s' belongs to uid %ld, not "
		    "you: refusing", dir, (long)st.st_uid);
	else if ((st.st_mode & 022) && !(st.st_mode & S_ISVTX))
		r = errbuf_set(err, "directory '%s' is writable by others "
		    "(mode %04o): refusing", dir, (unsigned)st.st_mode & 07777);
	free(dir);
	return r;
}

int
keyfile_open(struct keyfile *kf, const char *path, char *err)
{
	struct stat st;
	unsigned char *data;
	size_t off = 0;
	ssize_t n;
	int fd, e;

	/* O_NONBLOCK: a FIFO planted at path must not block the open. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1) {
		e = errno;
		if (e == ELOOP)
			errbuf_set(err, "'%s' is a symbolic link: refusing",
			    path);
		else
			errbuf_errno(err, "open '%s'", path);
		errno = e;
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return errbuf_errno(err, "stat '%s'", path);
	}
	if (S_ISDIR(st.st_mode) || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		return errbuf_set(err, "'%s' is %s", path, S_ISDIR(st.st_mode) ?
		    "a directory" : "not a regular file");
	}
	if (st.st_uid != geteuid()) {
		close(fd);
		errno = EPERM;
		return errbuf_set(err, "'%s' belongs to uid %ld, not you: "
		    "refusing", path, (long)st.st_uid);
	}
	if (st.st_mode & 077) {
		close(fd);
		errno = EPERM;
		return errbuf_set(err, "'%s' is accessible by others (mode "
		    "%04o): refusing; chmod 600 it", path,
		    (unsigned)st.st_mode & 07777);
	}
	if (check_dir(path, err) == -1) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	if ((unsigned long long)st.st_size > FILE_MAX) {
		close(fd);
		errno = EFBIG;
		return errbuf_set(err, "'%s' is larger than a keyfile can be",
		    path);
	}
	data = xmalloc((size_t)st.st_size + 1);
	for (;;) {
		n = read(fd, data + off, (size_t)st.st_size + 1 - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			free(data);
			close(fd);
			errno = e;
			return errbuf_errno(err, "read '%s'", path);
		}
		if (n == 0 || (off += (size_t)n) > (size_t)st.st_size)
			break;
	}
	close(fd);
	if (off > (size_t)st.st_size) {
		free(data);
		errno = EAGAIN;
		return errbuf_set(err, "'%s' changed while it was read", path);
	}
	if (keyfile_parse(kf, data, off, err) == -1) {
		free(data);
		errno = EINVAL;
		return errbuf_prefix(err, "'%s'", path);
	}
	free(data);
	free(kf->path);
	kf->path = xstrdup(path);
	return 0;
}

/* The associated data of a slot's wrap: magic, version, id, parameters. */
static void
slot_ad(const struct keyfile *kf, const struct keyfile_slot *s,
    unsigned char *ad)
{
	memcpy(ad, magic, sizeof(magic));
	put16(ad + OFF_VERSION, KEYFILE_VERSION);
	memcpy(ad + OFF_HLEN, kf->id, KEYFILE_IDBYTES);
	memcpy(ad + OFF_HLEN + KEYFILE_IDBYTES, s->raw, S_ADBYTES);
}
#define SLOT_ADBYTES	(OFF_HLEN + KEYFILE_IDBYTES + S_ADBYTES)

/* Derives the key-encryption key of a passphrase slot into kek. */
static int
derive(const struct keyfile_slot *s, const struct secmem *pass,
    unsigned char *kek, char *err)
{
	if (keyfile_kdf_check(&s->params, err) == -1)
		return -1;
	keyfile_kdf_runs++;
	if (crypto_pwhash(kek, KEYFILE_KEYBYTES, pass->data, pass->len,
	    s->raw + S_SALT, s->params.opslimit, (size_t)s->params.memlimit,
	    crypto_pwhash_ALG_ARGON2ID13) != 0)
		return errbuf_set(err, "KDF failed: out of memory (memlimit "
		    "%llu)", s->params.memlimit);
	return 0;
}

/* Opens a slot's wrapped key with kek into key.  Returns 0 or -1. */
static int
unwrap(const struct keyfile *kf, const struct keyfile_slot *s,
    const unsigned char *kek, unsigned char *key)
{
	unsigned char ad[SLOT_ADBYTES];
	unsigned long long n;

	slot_ad(kf, s, ad);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(key, &n, NULL,
	    s->raw + S_WRAPPED, KEYFILE_KEYBYTES + TAGBYTES, ad, sizeof(ad),
	    s->raw + S_NONCE, kek) != 0 || n != KEYFILE_KEYBYTES)
		return -1;
	return 0;
}

/* Fills a slot of the given type wrapping kf->key under kek. */
static void
wrap(const struct keyfile *kf, struct keyfile_slot *s, int type, int kdf,
    const struct keyfile_kdf *params, const unsigned char *salt,
    const unsigned char *kek)
{
	unsigned char ad[SLOT_ADBYTES];

	memset(s->raw, 0, sizeof(s->raw));
	s->type = s->raw[S_TYPE] = (unsigned char)type;
	s->kdf = s->raw[S_KDF] = (unsigned char)kdf;
	s->params.opslimit = params ? params->opslimit : 0;
	s->params.memlimit = params ? params->memlimit : 0;
	put32(s->raw + S_OPS, (uint32_t)s->params.opslimit);
	put64(s->raw + S_MEM, s->params.memlimit);
	if (salt)
		memcpy(s->raw + S_SALT, salt, KEYFILE_SALTBYTES);
	randombytes_buf(s->raw + S_NONCE, NONCEBYTES);
	slot_ad(kf, s, ad);
	crypto_aead_xchacha20poly1305_ietf_encrypt(s->raw + S_WRAPPED, NULL,
	    kf->key, KEYFILE_KEYBYTES, ad, sizeof(ad), NULL, s->raw + S_NONCE,
	    kek);
}

static int
cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct keyfile_entry *)a)->name,
	    ((const struct keyfile_entry *)b)->name);
}

int
keyfile_name_check(const char *name, char *err)
{
	const unsigned char *p;

	if (*name == '\0')
		return errbuf_set(err, "entry name is empty");
	if (strlen(name) > KEYFILE_NAME_MAX)
		return errbuf_set(err, "entry name is longer than %d bytes",
		    KEYFILE_NAME_MAX);
	for (p = (const unsigned char *)name; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return errbuf_set(err, "entry name contains a control "
			    "character");
		if (*p == '=' || *p == ' ' || *p > 0x7f)
			return errbuf_set(err, "entry name may hold only "
			    "printable ASCII other than space and '='");
	}
	return 0;
}

/* Decodes the decrypted body into kf's entries. */
static int
decode_entries(struct keyfile *kf, const unsigned char *p, size_t len,
    char *err)
{
	struct keyfile_entry *e;
	size_t off = 4, count, i, nlen, slen;

	if (len < 4 || (count = get32(p)) > KEYFILE_ENTRIES_MAX)
		goto bad;
	kf->entries = xcalloc(count ? count : 1, sizeof(*kf->entries));
	for (i = 0; i < count; i++) {
		e = &kf->entries[i];
		if (len - off < 1 || (nlen = p[off]) == 0 ||
		    len - off - 1 < nlen + 8 + 4)
			goto bad;
		memcpy(e->name, p + off + 1, nlen);
		e->name[nlen] = '\0';
		off += 1 + nlen;
		if (strlen(e->name) != nlen ||
		    keyfile_name_check(e->name, NULL) == -1)
			goto bad;
		e->created = (long long)get64(p + off);
		slen = get32(p + off + 8);
		off += 12;
		if (slen == 0 || slen > KEYFILE_SECRET_MAX ||
		    len - off < slen || memchr(p + off, '\0', slen) != NULL)
			goto bad;
		if ((e->secret = secmem_new(KEYFILE_SECRET_MAX)) == NULL ||
		    secmem_append(e->secret, p + off, slen) == -1) {
			kf->n = i + 1;
			return errbuf_set(err, "out of secure memory");
		}
		off += slen;
		kf->n = i + 1;
		if (i > 0 && strcmp(kf->entries[i - 1].name, e->name) >= 0)
			goto bad;
	}
	if (!allzero(p + off, len - off))
		goto bad;
	return 0;
bad:
	clear_entries(kf);
	return errbuf_set(err, "corrupt keyfile (bad entry table)");
}

/*
 * Opens the body with the data key now in kf->key.  Returns 0, 1 when it
 * does not authenticate, -1 on a bad table.
 */
static int
open_body(struct keyfile *kf, char *err)
{
	unsigned char *plain;
	unsigned long long n;
	size_t clen = kf->bodylen - NONCEBYTES;
	int r;

	if ((plain = sodium_malloc(clen)) == NULL)
		return errbuf_set(err, "out of secure memory");
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &n, NULL,
	    kf->body + NONCEBYTES, clen, kf->header, kf->headerlen, kf->body,
	    kf->key) != 0) {
		sodium_free(plain);
		errbuf_set(err, "corrupt keyfile (entries fail "
		    "authentication)");
		return 1;
	}
	clear_entries(kf);
	r = decode_entries(kf, plain, (size_t)n, err);
	sodium_free(plain);
	return r;
}

static unsigned char *
new_key(char *err)
{
	unsigned char *k = sodium_malloc(KEYFILE_KEYBYTES);

	if (k == NULL)
		errbuf_set(err, "out of secure memory");
	return k;
}

int
keyfile_unlock(struct keyfile *kf, const struct secmem *pass, char *err)
{
	unsigned char *kek;
	size_t i;
	int tried = 0, r;

	if (kf->header == NULL)
		return errbuf_set(err, "keyfile is not open");
	relock(kf);
	if ((kek = new_key(err)) == NULL)
		return -1;
	if ((kf->key = new_key(err)) == NULL) {
		sodium_free(kek);
		return -1;
	}
	for (i = 0; i < kf->nslots; i++) {
		if (kf->slots[i].type != KEYFILE_SLOT_PASSPHRASE)
			continue;
		tried = 1;
		if (derive(&kf->slots[i], pass, kek, err) == -1) {
			sodium_free(kek);
			relock(kf);
			return -1;
		}
		if (unwrap(kf, &kf->slots[i], kek, kf->key) == 0)
			break;
	}
	sodium_free(kek);
	if (i == kf->nslots) {
		relock(kf);
		if (!tried)
			return errbuf_set(err, "keyfile has no passphrase "
			    "slot");
		errbuf_set(err, "wrong passphrase");
		return 1;
	}
	/* The key is right: a body that does not open is damaged. */
	if ((r = open_body(kf, err)) != 0) {
		relock(kf);
		return -1;
	}
	return 0;
}

int
keyfile_unlock_key(struct keyfile *kf, const unsigned char *key, char *err)
{
	int r;

	if (kf->header == NULL)
		return errbuf_set(err, "keyfile is not open");
	relock(kf);
	if ((kf->key = new_key(err)) == NULL)
		return -1;
	memcpy(kf->key, key, KEYFILE_KEYBYTES);
	if ((r = open_body(kf, err)) != 0)
		relock(kf);
	return r;
}

int
keyfile_unlock_raw(struct keyfile *kf, const unsigned char *raw, char *err)
{
	size_t i;

	if (kf->header == NULL)
		return errbuf_set(err, "keyfile is not open");
	relock(kf);
	if ((kf->key = new_key(err)) == NULL)
		return -1;
	for (i = 0; i < kf->nslots; i++)
		if (kf->slots[i].type == KEYFILE_SLOT_RAW &&
		    unwrap(kf, &kf->slots[i], raw, kf->key) == 0)
			break;
	if (i == kf->nslots) {
		relock(kf);
		errbuf_set(err, "no raw slot opens with this key");
		return 1;
	}
	if (open_body(kf, err) != 0) {
		relock(kf);
		return -1;
	}
	return 0;
}

/* A passphrase slot for kf->key: new salt, parameters kdf. */
static int
wrap_passphrase(struct keyfile *kf, struct keyfile_slot *s,
    const struct secmem *pass, const struct keyfile_kdf *kdf, char *err)
{
	struct keyfile_kdf dflt = { KEYFILE_OPS_DEFAULT, KEYFILE_MEM_DEFAULT };
	unsigned char salt[KEYFILE_SALTBYTES], *kek;

	if (kdf == NULL)
		kdf = &dflt;
	if (keyfile_kdf_check(kdf, err) == -1)
		return -1;
	if (pass->len == 0)
		return errbuf_set(err, "empty passphrase");
	if ((kek = new_key(err)) == NULL)
		return -1;
	randombytes_buf(salt, sizeof(salt));
	/* derive() reads the salt and parameters from the slot. */
	memset(s->raw, 0, sizeof(s->raw));
	memcpy(s->raw + S_SALT, salt, sizeof(salt));
	s->params = *kdf;
	if (derive(s, pass, kek, err) == -1) {
		sodium_free(kek);
		return -1;
	}
	wrap(kf, s, KEYFILE_SLOT_PASSPHRASE, KEYFILE_KDF_ARGON2ID13, kdf, salt,
	    kek);
	sodium_free(kek);
	return 0;
}

int
keyfile_create(struct keyfile *kf, const char *path,
    const struct secmem *pass, const struct keyfile_kdf *kdf, char *err)
{
	if (sodium_init() < 0)
		return errbuf_set(err, "cannot initialise libsodium");
	keyfile_release(kf);
	if ((kf->key = new_key(err)) == NULL)
		return -1;
	randombytes_buf(kf->key, KEYFILE_KEYBYTES);
	randombytes_buf(kf->id, sizeof(kf->id));
	if (wrap_passphrase(kf, &kf->slots[0], pass, kdf, err) == -1) {
		keyfile_release(kf);
		return -1;
	}
	kf->nslots = 1;
	kf->path = path ? xstrdup(path) : NULL;
	return 0;
}

int
keyfile_passwd(struct keyfile *kf, const struct secmem *pass,
    const struct keyfile_kdf *kdf, char *err)
{
	struct keyfile_slot slots[KEYFILE_SLOTS_MAX];
	size_t i, j = 1;

	if (kf->key == NULL)
		return errbuf_set(err, "keyfile is locked");
	/* The new passphrase slot first, then the others as they were. */
	for (i = 0; i < kf->nslots; i++) {
		if (kf->slots[i].type == KEYFILE_SLOT_PASSPHRASE)
			continue;
		if (j == KEYFILE_SLOTS_MAX)
			return errbuf_set(err, "every slot is in use");
		slots[j++] = kf->slots[i];
	}
	if (wrap_passphrase(kf, &slots[0], pass, kdf, err) == -1) {
		sodium_memzero(slots, sizeof(slots));
		return -1;
	}
	memcpy(kf->slots, slots, j * sizeof(slots[0]));
	kf->nslots = j;
	sodium_memzero(slots, sizeof(slots));
	return 0;
}

int
keyfile_rekey(struct keyfile *kf, const struct secmem *pass,
    const struct keyfile_kdf *kdf, char *err)
{
	unsigned char *old, oldid[KEYFILE_IDBYTES];
	struct keyfile_slot s;

	if (kf->key == NULL)
		return errbuf_set(err, "keyfile is locked");
	if ((old = new_key(err)) == NULL)
		return -1;
	memcpy(old, kf->key, KEYFILE_KEYBYTES);
	memcpy(oldid, kf->id, sizeof(oldid));
	randombytes_buf(kf->key, KEYFILE_KEYBYTES);
	randombytes_buf(kf->id, sizeof(kf->id));
	if (wrap_passphrase(kf, &s, pass, kdf, err) == -1) {
		memcpy(kf->key, old, KEYFILE_KEYBYTES);
		memcpy(kf->id, oldid, sizeof(oldid));
		sodium_free(old);
		return -1;
	}
	sodium_free(old);
	kf->slots[0] = s;
	kf->nslots = 1;
	sodium_memzero(&s, sizeof(s));
	return 0;
}

int
keyfile_add_raw_slot(struct keyfile *kf, const unsigned char *raw,
    char *err)
{
	if (kf->key == NULL)
		return errbuf_set(err, "keyfile is locked");
	if (kf->nslots == KEYFILE_SLOTS_MAX)
		return errbuf_set(err, "every slot is in use");
	wrap(kf, &kf->slots[kf->nslots], KEYFILE_SLOT_RAW, KEYFILE_KDF_NONE,
	    NULL, NULL, raw);
	kf->nslots++;
	return 0;
}

const struct keyfile_entry *
keyfile_get(const struct keyfile *kf, const char *name)
{
	struct keyfile_entry key;

	if (kf->n == 0 || strlen(name) > KEYFILE_NAME_MAX)
		return NULL;
	strcpy(key.name, name);
	return bsearch(&key, kf->entries, kf->n, sizeof(key), cmp_entry);
}

/* The size of the decrypted body, unpadded. */
static size_t
plain_size(const struct keyfile *kf)
{
	size_t i, n = 4;

	for (i = 0; i < kf->n; i++)
		n += 1 + strlen(kf->entries[i].name) + 8 + 4 +
		    kf->entries[i].secret->len;
	return n;
}

int
keyfile_set(struct keyfile *kf, const char *name, const void *secret,
    size_t len, long long created, char *err)
{
	struct keyfile_entry *e;
	struct secmem *s;
	size_t room;

	if (kf->key == NULL)
		return errbuf_set(err, "keyfile is locked");
	if (keyfile_name_check(name, err) == -1)
		return -1;
	if (len == 0)
		return errbuf_set(err, "empty secret");
	if (len > KEYFILE_SECRET_MAX)
		return errbuf_set(err, "secret is longer than %u bytes",
		    KEYFILE_SECRET_MAX);
	if (memchr(secret, '\0', len) != NULL)
		return errbuf_set(err, "secret contains a NUL byte");
	e = (struct keyfile_entry *)keyfile_get(kf, name);
	room = plain_size(kf) - (e ? e->secret->len : 0) + len +
	    (e ? 0 : 1 + strlen(name) + 12);
	if (room > KEYFILE_PLAIN_MAX || (!e && kf->n == KEYFILE_ENTRIES_MAX))
		return errbuf_set(err, "keyfile is full");
	if ((s = secmem_new(KEYFILE_SECRET_MAX)) == NULL ||
	    secmem_append(s, secret, len) == -1) {
		secmem_free(s);
		return errbuf_set(err, "out of secure memory");
	}
	if (e == NULL) {
		kf->entries = xrealloc(kf->entries, (kf->n + 1) *
		    sizeof(*kf->entries));
		e = &kf->entries[kf->n++];
		strcpy(e->name, name);
		e->secret = NULL;
	}
	secmem_free(e->secret);
	e->secret = s;
	e->created = created;
	qsort(kf->entries, kf->n, sizeof(*kf->entries), cmp_entry);
	return 0;
}

int
keyfile_rm(struct keyfile *kf, const char *name)
{
	struct keyfile_entry *e;
	size_t i;

	if ((e = (struct keyfile_entry *)keyfile_get(kf, name)) == NULL)
		return 1;
	i = (size_t)(e - kf->entries);
	secmem_free(e->secret);
	memmove(e, e + 1, (kf->n - i - 1) * sizeof(*e));
	kf->n--;
	return 0;
}

int
keyfile_serialize(struct keyfile *kf, unsigned char **out, size_t *outlen,
    char *err)
{
	unsigned char *plain, *buf, *p;
	size_t plen, padded, hlen, bodylen, i, nl;

	if (kf->key == NULL)
		return errbuf_set(err, "keyfile is locked");
	plen = plain_size(kf);
	padded = (plen + PADDING - 1) / PADDING * PADDING;
	if ((plain = sodium_malloc(padded)) == NULL)
		return errbuf_set(err, "out of secure memory");
	memset(plain, 0, padded);
	put32(plain, (uint32_t)kf->n);
	for (p = plain + 4, i = 0; i < kf->n; i++) {
		const struct keyfile_entry *e = &kf->entries[i];

		nl = strlen(e->name);
		*p++ = (unsigned char)nl;
		memcpy(p, e->name, nl);
		p += nl;
		put64(p, (uint64_t)e->created);
		put32(p + 8, (uint32_t)e->secret->len);
		p += 12;
		memcpy(p, e->secret->data, e->secret->len);
		p += e->secret->len;
	}
	hlen = HLEN(kf->nslots);
	bodylen = NONCEBYTES + padded + TAGBYTES;
	buf = xcalloc(1, hlen + bodylen);
	memcpy(buf, magic, sizeof(magic));
	put16(buf + OFF_VERSION, KEYFILE_VERSION);
	put16(buf + OFF_HLEN, (unsigned)hlen);
	buf[OFF_NSLOTS] = (unsigned char)kf->nslots;
	memcpy(buf + OFF_ID, kf->id, KEYFILE_IDBYTES);
	put32(buf + OFF_BODYLEN, (uint32_t)bodylen);
	for (i = 0; i < kf->nslots; i++)
		memcpy(buf + OFF_SLOTS + i * KEYFILE_SLOTBYTES,
		    kf->slots[i].raw, KEYFILE_SLOTBYTES);
	crypto_generichash(buf + hlen - SUMBYTES, SUMBYTES, buf,
	    hlen - SUMBYTES, NULL, 0);
	p = buf + hlen;
	randombytes_buf(p, NONCEBYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(p + NONCEBYTES, NULL,
	    plain, padded, buf, hlen, NULL, p, kf->key);
	sodium_free(plain);
	free(kf->header);
	free(kf->body);
	kf->header = xmalloc(hlen);
	memcpy(kf->header, buf, hlen);
	kf->headerlen = hlen;
	kf->body = xmalloc(bodylen);
	memcpy(kf->body, p, bodylen);
	kf->bodylen = bodylen;
	*out = buf;
	*outlen = hlen + bodylen;
	return 0;
}

int
keyfile_save(struct keyfile *kf, char *err)
{
	unsigned char *data;
	char *dir;
	size_t len;
	int fd, r;

	if (kf->path == NULL)
		return errbuf_set(err, "keyfile has no path");
	dir = dirpart(kf->path);
	if (paths_mkdir(dir, 0700, err) == -1) {
		free(dir);
		return -1;
	}
	if (keyfile_serialize(kf, &data, &len, err) == -1) {
		free(dir);
		return -1;
	}
	r = fsutil_write_atomic(kf->path, data, len, 0600, err);
	free(data);
	/* The rename is durable once the directory is. */
	if (r == 0 && (fd = open(dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) != -1) {
		fsync(fd);
		close(fd);
	}
	free(dir);
	return r;
}

int
keyfile_flock(const char *path, char *err)
{
	char *lock = xasprintf("%s.lock", path), *dir = dirpart(path);
	int fd;

	if (paths_mkdir(dir, 0700, err) == -1) {
		free(dir);
		free(lock);
		return -1;
	}
	free(dir);
	fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1) {
		errbuf_errno(err, "open '%s'", lock);
		free(lock);
		return -1;
	}
	while (flock(fd, LOCK_EX) == -1) {
		if (errno == EINTR)
			continue;
		errbuf_errno(err, "lock '%s'", lock);
		close(fd);
		free(lock);
		return -1;
	}
	free(lock);
	return fd;
}

void
keyfile_funlock(int fd)
{
	if (fd != -1)
		close(fd);
}

void
keyfile_fingerprint(const void *secret, size_t len, char *out)
{
	unsigned char h[32];

	crypto_generichash(h, sizeof(h), secret, len, NULL, 0);
	sodium_bin2hex(out, KEYFILE_FP_LEN + 1, h, KEYFILE_FP_LEN / 2);
}

/* N of "provider#N" (N >= 2, no leading zero), or 0. */
static unsigned long
rotation_index(const char *name, const char *provider)
{
	size_t pl = strlen(provider);
	unsigned long n = 0;
	const char *s;

	if (strncmp(name, provider, pl) != 0)
		return 0;
	if (name[pl] == '\0')
		return 1;
	if (name[pl] != '#' || name[pl + 1] < '1' || name[pl + 1] > '9')
		return 0;
	for (s = name + pl + 1; *s; s++) {
		if (*s < '0' || *s > '9' || n > (ULONG_MAX - 9) / 10)
			return 0;
		n = n * 10 + (unsigned long)(*s - '0');
	}
	return n >= 2 ? n : 0;
}

const char **
keyfile_rotation_names(const struct keyfile *kf, const char *provider,
    size_t *n)
{
	const char **names = NULL;
	unsigned long *idx = NULL, k;
	size_t i, j, m = 0;

	for (i = 0; i < kf->n; i++) {
		if ((k = rotation_index(kf->entries[i].name, provider)) == 0)
			continue;
		names = xrealloc(names, (m + 1) * sizeof(*names));
		idx = xrealloc(idx, (m + 1) * sizeof(*idx));
		/* Insertion sort by index: rotations are short. */
		for (j = m++; j > 0 && idx[j - 1] > k; j--) {
			idx[j] = idx[j - 1];
			names[j] = names[j - 1];
		}
		idx[j] = k;
		names[j] = kf->entries[i].name;
	}
	free(idx);
	*n = m;
	return names;
}

void
keyfile_session_desc(const struct keyfile *kf, char *out)
{
	char hex[KEYFILE_IDBYTES * 2 + 1];

	sodium_bin2hex(hex, sizeof(hex), kf->id, sizeof(kf->id));
	snprintf(out, KEYFILE_DESC_MAX, "llm-keys:%s", hex);
}

int
keyfile_session_store(const struct keyfile *kf, unsigned ttl, char *err)
{
	char desc[KEYFILE_DESC_MAX];

	if (kf->key == NULL)
		return errbuf_set(err, "keyfile is locked");
	keyfile_session_desc(kf, desc);
	return keyring_store(desc, kf->key, KEYFILE_KEYBYTES, ttl, err);
}

int
keyfile_session_forget(const struct keyfile *kf, char *err)
{
	char desc[KEYFILE_DESC_MAX];

	keyfile_session_desc(kf, desc);
	return keyring_remove(desc, err);
}

/* The session unlock: 0 when it opened kf, 1 otherwise. */
static int
unlock_session(struct keyfile *kf)
{
	char desc[KEYFILE_DESC_MAX], err[ERRBUF_MAX];
	unsigned char *key;
	size_t len;
	int r;

	if ((key = sodium_malloc(KEYFILE_KEYBYTES)) == NULL)
		return 1;
	keyfile_session_desc(kf, desc);
	r = keyring_fetch(desc, key, KEYFILE_KEYBYTES, &len, err);
	if (r == 0 && len == KEYFILE_KEYBYTES)
		r = keyfile_unlock_key(kf, key, err);
	else
		r = 1;
	sodium_free(key);
	return r == 0 ? 0 : 1;
}

int
keyfile_unlock_auto(struct keyfile *kf, int flags, char *err)
{
	struct secmem *pass;
	char prompt[PATH_MAX + 32];
	int r, i;

	if ((pass = secmem_new(PASSPHRASE_MAX)) == NULL)
		return errbuf_set(err, "out of secure memory");
	r = passphrase_from_env("LLM_KEYS_PASSPHRASE_FD",
	    "LLM_KEYS_PASSPHRASE", pass, err);
	if (r == 0) {
		r = keyfile_unlock(kf, pass, err);
		secmem_free(pass);
		return r == 0 ? 0 : -1;
	}
	if (r == -1) {
		secmem_free(pass);
		return -1;
	}
	if (!(flags & KEYFILE_NO_SESSION) && unlock_session(kf) == 0) {
		secmem_free(pass);
		return 0;
	}
	if (flags & KEYFILE_NO_TTY)
		r = 1;
	snprintf(prompt, sizeof(prompt), "Passphrase for %s: ",
	    kf->path ? kf->path : "the keyfile");
	for (i = 0; i < 3 && r != -1; i++) {
		if (!(flags & KEYFILE_NO_TTY))
			r = passphrase_tty(prompt, pass, err);
		if (r == 1) {
			errbuf_set(err, "no passphrase: set "
			    "LLM_KEYS_PASSPHRASE_FD or LLM_KEYS_PASSPHRASE, "
			    "run 'llm-keys unlock', or use a terminal");
			r = -1;
			break;
		}
		if (r == -1)
			break;
		if ((r = keyfile_unlock(kf, pass, err)) == 0)
			break;
		if (r == 1 && i < 2)
			passphrase_tty_note("wrong passphrase, try again");
	}
	secmem_free(pass);
	return r == 0 ? 0 : -1;
}

/*
 * The process-wide keyfile behind "keyfile:NAME".  State: 0 not tried, 1
 * open and unlocked, 2 no keyfile, -1 failed (message kept).
 */
static struct keyfile proc_kf;
static int proc_state;
static char proc_err[ERRBUF_MAX];

static int
proc_open(char *err)
{
	char *path;

	switch (proc_state) {
	case 1:
		return 0;
	case 2:
		errbuf_set(err, "%s", proc_err);
		return 1;
	case -1:
		return errbuf_set(err, "%s", proc_err);
	}
	path = paths_keyfile();
	keyfile_init(&proc_kf);
	if (keyfile_open(&proc_kf, path, proc_err) == -1) {
		if (errno == ENOENT) {
			proc_state = 2;
			snprintf(proc_err, sizeof(proc_err), "no keyfile at "
			    "'%s'", path);
		} else
			proc_state = -1;
		free(path);
		keyfile_release(&proc_kf);
		return proc_open(err);
	}
	free(path);
	if (secmem_nodump(proc_err) == -1 ||
	    keyfile_unlock_auto(&proc_kf, 0, proc_err) == -1) {
		errbuf_prefix(proc_err, "keyfile '%s'", proc_kf.path);
		keyfile_release(&proc_kf);
		proc_state = -1;
		return proc_open(err);
	}
	proc_state = 1;
	return 0;
}

static int
lookup(const char *name, struct secmem *out, char *err)
{
	const struct keyfile_entry *e;
	int r;

	if ((r = proc_open(err)) != 0) {
		errbuf_prefix(err, "keyfile entry '%s'", name);
		return r;
	}
	if ((e = keyfile_get(&proc_kf, name)) == NULL) {
		errbuf_set(err, "keyfile has no entry '%s'", name);
		return 1;
	}
	if (secmem_append(out, e->secret->data, e->secret->len) == -1)
		return errbuf_set(err, "keyfile entry '%s' is too long", name);
	return 0;
}

void
keyfile_install_lookup(void)
{
	value_keyfile_lookup = lookup;
}

void
keyfile_uninstall_lookup(void)
{
	if (value_keyfile_lookup == lookup)
		value_keyfile_lookup = NULL;
	keyfile_release(&proc_kf);
	proc_state = 0;
	proc_err[0] = '\0';
}

int
keyfile_rotation(const char *provider, const char ***names, size_t *n,
    char *err)
{
	int r;

	*names = NULL;
	*n = 0;
	if ((r = proc_open(err)) == 1)
		return 0;
	if (r == -1)
		return -1;
	*names = keyfile_rotation_names(&proc_kf, provider, n);
	return 0;
}
