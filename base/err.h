/*
 * base/err.h - error codes and the error buffer every context carries.
 *
 * Functions in greenwave return 0 (BASE_OK) or a negative BASE_E* code; the human-readable
 * message goes into a base_err_t owned by the caller or embedded in a context, in the manner
 * of sqlite3_errmsg. base_err_set() returns the code it stores, so a failure is one line.
 * A NULL base_err_t pointer is accepted everywhere and discards the message. Not thread-safe
 * per buffer; one buffer per context.
 */
#ifndef BASE_ERR_H
#define BASE_ERR_H

#include <stddef.h>

enum {
    BASE_OK = 0,
    BASE_ENOMEM = -1, /* allocation failed */
    BASE_EINVAL = -2, /* invalid argument or invalid input data */
    BASE_EPARSE = -3, /* syntax error in a file */
    BASE_EIO = -4,    /* file or socket error */
    BASE_EPROTO = -5, /* malformed or impossible message */
    BASE_ERANGE = -6, /* value out of range */
    BASE_ESTATE = -7, /* call not valid in the current state */
};

#define BASE_ERR_MSG_MAX 1024

typedef struct base_err {
    int code;
    char msg[BASE_ERR_MSG_MAX];
} base_err_t;

/* Stores code and a printf-style message in err (if not NULL) and returns code. */
int base_err_set(base_err_t *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the message already in err with a printf-style context ("file.json: ").
 * Returns err->code (BASE_OK if err is NULL). */
int base_err_prefix(base_err_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Resets err to BASE_OK with an empty message. */
void base_err_clear(base_err_t *err);

/* Returns a static name for a BASE_E* code ("out of memory", ...). */
const char *base_strerror(int code);

#endif
