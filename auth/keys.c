/*
 * auth/keys.c - key files and allowlists.
 *
 * Files are read line by line (at most 1023 bytes a line); the first "public-key" and
 * "secret-key" lines win. The secret file is created with open(O_CREAT | O_EXCL, 0600) so it
 * is never readable by others, even for an instant.
 */
#include "auth/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

int auth_keys_curve_available(void) {
    return zmq_has("curve") ? 1 : 0;
}

int auth_keys_generate(auth_keypair_t *kp, base_err_t *err) {
    memset(kp, 0, sizeof *kp);
    if (!auth_keys_curve_available() || zmq_curve_keypair(kp->public_z85, kp->secret_z85) != 0)
        return base_err_set(err, BASE_ESTATE,
                            "this libzmq has no CURVE security (zmq_has(\"curve\") is false): "
                            "install a libzmq built with libsodium");
    return BASE_OK;
}

static int write_file(const char *path, int mode, int force, const char *comment, const char *lines,
                      base_err_t *err) {
    int flags = O_WRONLY | O_CREAT | (force ? O_TRUNC : O_EXCL);
    int fd = open(path, flags, mode);
    if (fd < 0)
        return base_err_set(err, BASE_EIO, "%s: %s%s", path, strerror(errno),
                            errno == EEXIST ? " (use --force to overwrite)" : "");
    if (force && fchmod(fd, (mode_t)mode) != 0) {
        close(fd);
        return base_err_set(err, BASE_EIO, "%s: chmod: %s", path, strerror(errno));
    }
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        return base_err_set(err, BASE_EIO, "%s: %s", path, strerror(errno));
    }
    int bad = fprintf(f, "# %s\n%s", comment, lines) < 0;
    bad |= fclose(f) != 0;
    return bad ? base_err_set(err, BASE_EIO, "%s: cannot write", path) : BASE_OK;
}

int auth_keys_write(const auth_keypair_t *kp, const char *base, const char *comment, int force,
                    base_err_t *err) {
    char path[4096], lines[256];
    snprintf(path, sizeof path, "%s.key", base);
    snprintf(lines, sizeof lines, "public-key = %s\nsecret-key = %s\n", kp->public_z85,
             kp->secret_z85);
    char c[512];
    snprintf(c, sizeof c, "%s: CURVE secret key, keep it private", comment);
    int rc = write_file(path, 0600, force, c, lines, err);
    if (rc < 0)
        return rc;
    snprintf(path, sizeof path, "%s.pub", base);
    snprintf(lines, sizeof lines, "public-key = %s\n", kp->public_z85);
    snprintf(c, sizeof c, "%s: CURVE public key", comment);
    return write_file(path, 0644, force, c, lines, err);
}

/* Checks that text is 40 characters of Z85 naming a key; decodes into bin if not NULL. */
static int z85_ok(const char *text, uint8_t bin[32]) {
    uint8_t tmp[32];
    return strlen(text) == AUTH_Z85_LEN && zmq_z85_decode(bin ? bin : tmp, text) != NULL;
}

/* Strips the line of its newline and surrounding blanks; returns the start. */
static char *trim(char *s) {
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

/* "NAME = VALUE" lines: returns VALUE if the line starts with name, else NULL. */
static char *value_of(char *line, const char *name) {
    size_t n = strlen(name);
    if (strncmp(line, name, n) != 0)
        return NULL;
    char *v = line + n;
    while (*v == ' ' || *v == '\t')
        v++;
    if (*v != '=')
        return NULL;
    return trim(v + 1);
}

static int read_keys(const char *path, char *pub, char *sec, base_err_t *err) {
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return base_err_set(err, BASE_EIO, "%s: %s", path, strerror(errno));
    char buf[1024];
    int line = 0, rc = BASE_OK;
    while (rc == 0 && fgets(buf, sizeof buf, f) != NULL) {
        line++;
        char *s = trim(buf), *v;
        if (*s == '\0' || *s == '#')
            continue;
        if ((v = value_of(s, "public-key")) != NULL && pub != NULL && pub[0] == '\0') {
            if (!z85_ok(v, NULL))
                rc = base_err_set(err, BASE_EPARSE, "%s:%d: public-key: not a 40-character Z85 key",
                                  path, line);
            else
                memcpy(pub, v, AUTH_Z85_LEN + 1);
        } else if ((v = value_of(s, "secret-key")) != NULL && sec != NULL && sec[0] == '\0') {
            if (!z85_ok(v, NULL))
                rc = base_err_set(err, BASE_EPARSE, "%s:%d: secret-key: not a 40-character Z85 key",
                                  path, line);
            else
                memcpy(sec, v, AUTH_Z85_LEN + 1);
        } else if (value_of(s, "public-key") == NULL && value_of(s, "secret-key") == NULL) {
            rc = base_err_set(err, BASE_EPARSE,
                              "%s:%d: expected 'public-key = KEY' or 'secret-key = KEY'", path,
                              line);
        }
    }
    fclose(f);
    if (rc == 0 && pub != NULL && pub[0] == '\0')
        rc = base_err_set(err, BASE_EPARSE, "%s: no 'public-key = KEY' line", path);
    if (rc == 0 && sec != NULL && sec[0] == '\0')
        rc = base_err_set(err, BASE_EPARSE,
                          "%s: no 'secret-key = KEY' line (a .pub file where a .key is needed?)",
                          path);
    return rc;
}

int auth_keys_read_secret(const char *path, auth_keypair_t *kp, base_err_t *err) {
    memset(kp, 0, sizeof *kp);
    struct stat st;
    if (stat(path, &st) != 0)
        return base_err_set(err, BASE_EIO, "%s: %s", path, strerror(errno));
    if ((st.st_mode & 077) != 0)
        return base_err_set(err, BASE_EIO,
                            "%s: permissions %04o are too open: a secret key must be readable "
                            "by its owner only (chmod 600)",
                            path, (unsigned)(st.st_mode & 07777));
    int rc = read_keys(path, kp->public_z85, kp->secret_z85, err);
    if (rc < 0)
        return rc;
    char derived[AUTH_Z85_LEN + 1];
    if (zmq_curve_public(derived, kp->secret_z85) != 0 || strcmp(derived, kp->public_z85) != 0)
        return base_err_set(err, BASE_EPARSE, "%s: the public key is not the one of the secret key",
                            path);
    return BASE_OK;
}

int auth_keys_read_public(const char *path, char out[AUTH_Z85_LEN + 1], base_err_t *err) {
    memset(out, 0, AUTH_Z85_LEN + 1);
    return read_keys(path, out, NULL, err);
}

void auth_allow_fini(auth_allow_t *allow) {
    for (int i = 0; i < allow->n; i++)
        free(allow->names[i]);
    free(allow->names);
    free(allow->keys);
    memset(allow, 0, sizeof *allow);
}

int auth_allow_load(auth_allow_t *allow, const char *path, base_err_t *err) {
    memset(allow, 0, sizeof *allow);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return base_err_set(err, BASE_EIO, "%s: %s", path, strerror(errno));
    char buf[1024];
    int line = 0, cap = 0, rc = BASE_OK;
    while (rc == 0 && fgets(buf, sizeof buf, f) != NULL) {
        line++;
        char *s = trim(buf);
        if (*s == '\0' || *s == '#')
            continue;
        char *key = value_of(s, "public-key");
        const char *name = "";
        if (key == NULL) {
            key = s;
            char *sp = strpbrk(s, " \t");
            if (sp != NULL) {
                *sp = '\0';
                name = trim(sp + 1);
            }
        }
        uint8_t bin[32];
        if (!z85_ok(key, bin)) {
            rc = base_err_set(err, BASE_EPARSE,
                              "%s:%d: not a 40-character Z85 public key: \"%.60s\"", path, line,
                              key);
            break;
        }
        if (allow->n == cap) {
            cap = cap ? 2 * cap : 8;
            uint8_t(*keys)[32] = realloc(allow->keys, (size_t)cap * sizeof *keys);
            if (keys != NULL)
                allow->keys = keys;
            char **names = realloc(allow->names, (size_t)cap * sizeof *names);
            if (names != NULL)
                allow->names = names;
            if (keys == NULL || names == NULL) {
                rc = base_err_set(err, BASE_ENOMEM, "out of memory");
                break;
            }
        }
        allow->names[allow->n] = strdup(name);
        if (allow->names[allow->n] == NULL) {
            rc = base_err_set(err, BASE_ENOMEM, "out of memory");
            break;
        }
        memcpy(allow->keys[allow->n++], bin, 32);
    }
    fclose(f);
    if (rc == 0 && allow->n == 0)
        rc =
            base_err_set(err, BASE_EPARSE, "%s: no key: an empty allowlist refuses everyone", path);
    if (rc < 0)
        auth_allow_fini(allow);
    return rc;
}

int auth_allow_find(const auth_allow_t *allow, const uint8_t key[32]) {
    for (int i = 0; i < allow->n; i++)
        if (memcmp(allow->keys[i], key, 32) == 0)
            return i;
    return -1;
}
