/*
 * auth/keys.h - CURVE key pairs and allowlists as files.
 *
 * A key pair is two files made by greenwave-keygen: NAME.key (the secret key and its public
 * key, mode 0600) and NAME.pub (the public key, to give to the other side). Both are text:
 * '#' comments and "public-key = Z85" / "secret-key = Z85" lines, where Z85 is the 40
 * character Z85 text of a 32-byte Curve25519 key. An allowlist names the client public keys
 * a server accepts, one a line: "Z85 [name]" or a "public-key = Z85" line (so .pub files can
 * simply be concatenated); blank lines and '#' comments are skipped. Keys are checked when
 * read (Z85 alphabet, length, the public key matching the secret one), a secret file
 * readable by group or others is refused like ssh does, and every error names the file and
 * line. No global state; the structures are plain values owned by the caller.
 */
#ifndef AUTH_KEYS_H
#define AUTH_KEYS_H

#include "base/err.h"

#include <stdint.h>

#define AUTH_Z85_LEN 40 /* Z85 text of a 32-byte key */

typedef struct auth_keypair {
    char public_z85[AUTH_Z85_LEN + 1];
    char secret_z85[AUTH_Z85_LEN + 1];
} auth_keypair_t;

typedef struct auth_allow {
    uint8_t (*keys)[32]; /* the public keys, binary */
    char **names;        /* a name per key ("" when the line gives none) */
    int n;
} auth_allow_t;

/* 1 when libzmq was built with CURVE (zmq_has("curve")), else 0. */
int auth_keys_curve_available(void);

/* Makes a new key pair with zmq_curve_keypair(). Returns 0, or BASE_ESTATE when libzmq has
 * no CURVE. */
int auth_keys_generate(auth_keypair_t *kp, base_err_t *err);

/* Writes BASE.key (mode 0600, created anew: an existing file is refused unless force) and
 * BASE.pub, with comment as their first line. Returns 0 or BASE_EIO naming the path. */
int auth_keys_write(const auth_keypair_t *kp, const char *base, const char *comment, int force,
                    base_err_t *err);

/* Reads a secret key file (NAME.key). Returns 0, BASE_EIO when it cannot be read or is
 * readable by others, BASE_EPARSE naming the line when a key is missing or malformed or the
 * public key does not match the secret one. */
int auth_keys_read_secret(const char *path, auth_keypair_t *kp, base_err_t *err);

/* Reads the public key of a .pub (or .key) file into out (Z85 text). Returns 0, BASE_EIO or
 * BASE_EPARSE as above. */
int auth_keys_read_public(const char *path, char out[AUTH_Z85_LEN + 1], base_err_t *err);

/* Loads an allowlist file into *allow (zeroed first; release with auth_allow_fini). An empty
 * list is an error: it would refuse everyone. Returns 0, BASE_EIO, BASE_EPARSE naming the
 * line, or BASE_ENOMEM. */
int auth_allow_load(auth_allow_t *allow, const char *path, base_err_t *err);

/* Frees what auth_allow_load() allocated; safe on a zeroed list. */
void auth_allow_fini(auth_allow_t *allow);

/* Index of a 32-byte public key in the list, or -1. O(n). */
int auth_allow_find(const auth_allow_t *allow, const uint8_t key[32]);

#endif
