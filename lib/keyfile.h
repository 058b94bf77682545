/*
 * keyfile: the encrypted key store, keys.llmk (format: llm-keys(5)).
 *
 * A keyfile is a header and a sealed body.  The header names the format
 * (magic, version), the file (a random id), and holds one to four wrapping
 * slots; each slot wraps the same random 32-byte data key, the passphrase
 * slot with a key derived by Argon2id from the passphrase and the salt and
 * parameters stored in the slot.  The body holds every entry (name,
 * creation time, secret), sealed with XChaCha20-Poly1305 under the data key
 * with the whole header as associated data.  A BLAKE2b checksum over the
 * header tells accidental damage from a wrong passphrase.
 *
 * Life cycle: keyfile_open (or keyfile_parse) reads a file and checks its
 * structure without any key; keyfile_unlock* recovers the data key and
 * opens the body into memory; keyfile_get, keyfile_set, keyfile_rm and
 * keyfile_passwd work on that memory; keyfile_save writes it back; and
 * keyfile_release wipes everything.  keyfile_create makes a new, unlocked
 * keyfile in memory.  A read-modify-write takes keyfile_flock first and
 * re-opens the file under the lock (see llm-keys.c).
 *
 * Secrets (passphrases, the data key, entry values, the decrypted body)
 * live only in sodium_malloc memory.  Names, times and paths are not
 * secret.  No message ever holds a secret, nor a name that failed
 * validation.
 *
 * The process-wide part at the end serves tools that resolve
 * "keyfile:NAME" values: keyfile_install_lookup makes value_resolve open
 * and unlock the user's keyfile on first use only.
 */
#ifndef LLM_KEYFILE_H
#define LLM_KEYFILE_H

#include <stddef.h>

#include "secmem.h"

#define KEYFILE_VERSION		1
#define KEYFILE_KEYBYTES	32	/* data key, raw slot key */
#define KEYFILE_IDBYTES		16
#define KEYFILE_SALTBYTES	16
#define KEYFILE_SLOTS_MAX	4
#define KEYFILE_SLOTBYTES	104
#define KEYFILE_NAME_MAX	128	/* bytes in an entry name */
#define KEYFILE_SECRET_MAX	(64u << 10)	/* bytes in one secret */
#define KEYFILE_ENTRIES_MAX	1024
#define KEYFILE_PLAIN_MAX	(1u << 20)	/* the decrypted body */
#define KEYFILE_FP_LEN		12	/* hex digits in a fingerprint */
#define KEYFILE_DESC_MAX	64	/* a session key description */

/* Slot types (llm-keys(5)); other values are kept and skipped. */
#define KEYFILE_SLOT_PASSPHRASE	1	/* Argon2id over a passphrase */
#define KEYFILE_SLOT_RAW	2	/* a raw 32-byte unlock key */

#define KEYFILE_KDF_NONE	0
#define KEYFILE_KDF_ARGON2ID13	1

/*
 * KDF parameters: libsodium's opslimit (passes) and memlimit (bytes).
 * Readers refuse anything outside these bounds before deriving, so a
 * doctored file cannot make an unlock take minutes or gigabytes; the
 * product bound is libsodium's SENSITIVE level (4 passes over 1 GiB).
 * The default is libsodium's MODERATE level, about 0.45 s on a 2-core
 * machine of 2024 (bench/keys.sh measures it).
 */
#define KEYFILE_OPS_MIN		1ULL
#define KEYFILE_OPS_MAX		32ULL
#define KEYFILE_MEM_MIN		(8ULL << 10)
#define KEYFILE_MEM_MAX		(1ULL << 30)
#define KEYFILE_WORK_MAX	(4ULL << 30)	/* opslimit * memlimit */
#define KEYFILE_OPS_DEFAULT	3ULL
#define KEYFILE_MEM_DEFAULT	(256ULL << 20)

struct keyfile_kdf {
	unsigned long long	opslimit;
	unsigned long long	memlimit;
};

struct keyfile_slot {
	unsigned char		raw[KEYFILE_SLOTBYTES];	/* as stored */
	int			type;
	int			kdf;
	struct keyfile_kdf	params;
};

struct keyfile_entry {
	char		 name[KEYFILE_NAME_MAX + 1];
	long long	 created;	/* seconds since the epoch, UTC */
	struct secmem	*secret;
};

struct keyfile {
	char			*path;		/* NULL: parsed from memory */
	unsigned char		 id[KEYFILE_IDBYTES];
	struct keyfile_slot	 slots[KEYFILE_SLOTS_MAX];
	size_t			 nslots;
	unsigned char		*header;	/* as last read or written */
	size_t			 headerlen;
	unsigned char		*body;		/* nonce and ciphertext */
	size_t			 bodylen;
	unsigned char		*key;		/* data key, NULL: locked */
	struct keyfile_entry	*entries;	/* sorted by name */
	size_t			 n;
};

/*
 * How many times this process has run the KDF (each costs about half a
 * second with the defaults).  For tests and benchmarks.
 */
extern unsigned long keyfile_kdf_runs;

/* Sets kf to an empty, locked keyfile that keyfile_release accepts. */
void	keyfile_init(struct keyfile *kf);

/*
 * Wipes and frees everything kf holds and leaves it as keyfile_init does.
 */
void	keyfile_release(struct keyfile *kf);

/*
 * Checks the structure of len bytes of data (borrowed) and fills kf
 * (initialised) with a locked keyfile.  Returns 0, or -1 with one of the
 * messages of llm-keys(5), DIAGNOSTICS: "truncated keyfile", "not an
 * llm-keys keyfile (bad magic)", "unsupported keyfile version N",
 * "corrupt keyfile header (checksum mismatch)", "KDF parameters out of
 * range ...", and the like.
 */
int	keyfile_parse(struct keyfile *kf, const void *data, size_t len,
	    char *err);

/*
 * Opens and parses the file at path (borrowed, copied).  Refuses a
 * symbolic link, anything but a regular file (a directory, a FIFO: never
 * blocks), a file not owned by the effective user or with any group or
 * other permission bit, and a directory writable by others (unless
 * sticky) or owned by another user but root.  Returns 0, or -1 with a
 * message naming the path; errno is ENOENT when there is no file, so the
 * caller can suggest `llm-keys init`.
 */
int	keyfile_open(struct keyfile *kf, const char *path, char *err);

/*
 * Makes kf (initialised) a new, unlocked keyfile for path with no entries:
 * a random id and data key, and one passphrase slot with the parameters
 * kdf (NULL for the defaults) and a random salt.  Runs the KDF once.
 * Nothing is written until keyfile_save.  Returns 0 or -1.
 */
int	keyfile_create(struct keyfile *kf, const char *path,
	    const struct secmem *pass, const struct keyfile_kdf *kdf,
	    char *err);

/*
 * Unlocks kf with a passphrase: derives a key for each passphrase slot
 * and unwraps the data key, then opens the body.  Returns 0; 1 with
 * "wrong passphrase" when no slot opens; -1 when the body fails
 * authentication under the unwrapped key ("corrupt keyfile (entries fail
 * authentication)") or another error.
 */
int	keyfile_unlock(struct keyfile *kf, const struct secmem *pass,
	    char *err);

/*
 * Unlocks kf with a data key (borrowed, KEYFILE_KEYBYTES) such as a
 * session unlock left in the keyring.  Returns 0; 1 when the key does not
 * open the body (a stale session, or a damaged body: the caller falls
 * back to the passphrase, which tells the two apart); -1 on other errors.
 */
int	keyfile_unlock_key(struct keyfile *kf, const unsigned char *key,
	    char *err);

/*
 * Unlocks kf with a raw unlock key (KEYFILE_KEYBYTES) through a raw slot.
 * Returns as keyfile_unlock, "no raw slot opens with this key" for 1.
 */
int	keyfile_unlock_raw(struct keyfile *kf, const unsigned char *raw,
	    char *err);

/* keyfile_unlock_auto flags */
#define KEYFILE_NO_SESSION	0x1	/* skip the session keyring */
#define KEYFILE_NO_TTY		0x2	/* never prompt */

/*
 * Unlocks kf from the first source that is there, in llm-keys(1)'s order:
 * LLM_KEYS_PASSPHRASE_FD, LLM_KEYS_PASSPHRASE, the session unlock in the
 * kernel keyring (unless KEYFILE_NO_SESSION; a key that does not open the
 * file is passed over), the terminal (three tries).  A passphrase from a
 * variable is used once and its variable cleared (passphrase.h).  With no
 * source at all it fails at once: "no passphrase: set
 * LLM_KEYS_PASSPHRASE_FD or LLM_KEYS_PASSPHRASE, run 'llm-keys unlock', or
 * use a terminal".  Returns 0 or -1.
 */
int	keyfile_unlock_auto(struct keyfile *kf, int flags, char *err);

/*
 * Re-wraps the data key of unlocked kf under a new passphrase with a new
 * salt and the parameters kdf (NULL: defaults), replacing the passphrase
 * slot(s).  Entries, the id, raw slots and a session unlock stay valid.
 * Returns 0 or -1.
 */
int	keyfile_passwd(struct keyfile *kf, const struct secmem *pass,
	    const struct keyfile_kdf *kdf, char *err);

/*
 * Replaces the data key and the id of unlocked kf and wraps the new key
 * under pass alone: every other slot is dropped and a session unlock no
 * longer applies.  For a passphrase that leaked with a copy of the file.
 * Returns 0 or -1.
 */
int	keyfile_rekey(struct keyfile *kf, const struct secmem *pass,
	    const struct keyfile_kdf *kdf, char *err);

/*
 * Adds a raw slot wrapping the data key of unlocked kf under raw
 * (KEYFILE_KEYBYTES, borrowed).  Returns 0, or -1 when all slots are used.
 */
int	keyfile_add_raw_slot(struct keyfile *kf, const unsigned char *raw,
	    char *err);

/*
 * Whether kdf is within the bounds above.  Returns 0, or -1 with "KDF
 * parameters out of range (opslimit N, memlimit N): refusing to derive".
 */
int	keyfile_kdf_check(const struct keyfile_kdf *kdf, char *err);

/*
 * Whether name may name an entry: 1 to KEYFILE_NAME_MAX printable ASCII
 * bytes other than space and '='.  Returns 0, or -1 with a reason that
 * does not quote the name.
 */
int	keyfile_name_check(const char *name, char *err);

/* The entry name in unlocked kf, borrowed, or NULL. */
const struct keyfile_entry *keyfile_get(const struct keyfile *kf,
	    const char *name);

/*
 * Adds or replaces entry name of unlocked kf with len bytes of secret
 * (borrowed, copied into secure memory), created at the given time.
 * Refuses a bad name, an empty secret, a NUL byte, more than
 * KEYFILE_SECRET_MAX bytes, and a body that would pass KEYFILE_PLAIN_MAX.
 * Returns 0 or -1.
 */
int	keyfile_set(struct keyfile *kf, const char *name, const void *secret,
	    size_t len, long long created, char *err);

/* Removes entry name from unlocked kf.  Returns 0, or 1 when absent. */
int	keyfile_rm(struct keyfile *kf, const char *name);

/*
 * Encodes unlocked kf with a fresh body nonce, updating kf->header and
 * kf->body; *out is a new buffer the caller frees (it holds no secret in
 * the clear).  Returns 0 or -1.
 */
int	keyfile_serialize(struct keyfile *kf, unsigned char **out,
	    size_t *len, char *err);

/*
 * Writes unlocked kf to kf->path: a temporary file beside it (mode 0600,
 * O_EXCL), fsync, rename, fsync of the directory.  On any failure the old
 * file is untouched and the temporary file removed.  Creates the
 * directory (0700) when missing.  Returns 0 or -1.
 */
int	keyfile_save(struct keyfile *kf, char *err);

/*
 * Takes an exclusive flock(2) on "<path>.lock" (created 0600), waiting for
 * other writers.  Returns the descriptor, or -1 with a message.
 */
int	keyfile_flock(const char *path, char *err);

/* Releases a lock from keyfile_flock. */
void	keyfile_funlock(int fd);

/*
 * A short fingerprint of a secret: the first KEYFILE_FP_LEN hex digits of
 * its BLAKE2b-256 hash, into out (KEYFILE_FP_LEN + 1 bytes).  Shown by
 * `llm-keys list` to tell keys apart without showing them.
 */
void	keyfile_fingerprint(const void *secret, size_t len, char *out);

/*
 * The entries of unlocked kf that rotate for provider, in order: provider
 * itself, then provider#N for decimal N >= 2 without leading zeros, by N.
 * Returns a new array of *n borrowed names (caller frees the array only),
 * or NULL when there are none.
 */
const char **keyfile_rotation_names(const struct keyfile *kf,
	    const char *provider, size_t *n);

/*
 * The kernel keyring description of kf's session unlock,
 * "llm-keys:<hex id>", into out (KEYFILE_DESC_MAX bytes).
 */
void	keyfile_session_desc(const struct keyfile *kf, char *out);

/*
 * Leaves the data key of unlocked kf in the kernel keyring for ttl
 * seconds (keyring.h).  Returns 0 or -1 ("kernel keyrings are
 * unavailable ..." where they are).
 */
int	keyfile_session_store(const struct keyfile *kf, unsigned ttl,
	    char *err);

/* Ends kf's session unlock.  Returns 0, 1 when there was none, or -1. */
int	keyfile_session_forget(const struct keyfile *kf, char *err);

/*
 * Process-wide lookup for "keyfile:NAME" values.  Sets
 * value_keyfile_lookup to a function that, on its first call, opens the
 * user's keyfile (paths_keyfile), turns core dumps off (secmem_nodump)
 * and unlocks it with keyfile_unlock_auto; later calls reuse that, and a
 * failure is remembered rather than retried, so a process unlocks at most
 * once and not at all when a session unlock is there.  The lookup returns
 * 1 (unresolved: the next key source is tried) when there is no keyfile
 * or no such entry, and -1 when the keyfile exists but cannot be opened
 * or unlocked: a sender may treat that as fatal for an explicit
 * "keyfile:NAME" and as a warning for the default lookup.
 */
void	keyfile_install_lookup(void);

/* Wipes the process-wide keyfile and clears value_keyfile_lookup. */
void	keyfile_uninstall_lookup(void);

/*
 * The rotation of provider in the process-wide keyfile (opened as by the
 * lookup): *names is a new array of *n names, borrowed until
 * keyfile_uninstall_lookup; the caller frees the array.  A sender tries
 * "keyfile:" each name in order, then the provider's variables.  Returns
 * 0 (n may be 0: no keyfile, no entries), or -1 with a message when the
 * keyfile cannot be opened or unlocked.
 */
int	keyfile_rotation(const char *provider, const char ***names, size_t *n,
	    char *err);

#endif
