/*
 * base/err.c - error buffer helpers. Messages are truncated, never overflowed.
 */
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int base_err_set(base_err_t *err, int code, const char *fmt, ...) {
    if (err == NULL)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->code = code;
    return code;
}

int base_err_prefix(base_err_t *err, const char *fmt, ...) {
    if (err == NULL)
        return BASE_OK;
    char prefix[BASE_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    size_t np = strlen(prefix);
    size_t nm = strlen(err->msg);
    if (np >= sizeof err->msg)
        np = sizeof err->msg - 1;
    if (np + nm >= sizeof err->msg)
        nm = sizeof err->msg - 1 - np;
    memmove(err->msg + np, err->msg, nm);
    memcpy(err->msg, prefix, np);
    err->msg[np + nm] = '\0';
    return err->code;
}

void base_err_clear(base_err_t *err) {
    if (err == NULL)
        return;
    err->code = BASE_OK;
    err->msg[0] = '\0';
}

const char *base_strerror(int code) {
    switch (code) {
    case BASE_OK:
        return "ok";
    case BASE_ENOMEM:
        return "out of memory";
    case BASE_EINVAL:
        return "invalid input";
    case BASE_EPARSE:
        return "syntax error";
    case BASE_EIO:
        return "input/output error";
    case BASE_EPROTO:
        return "protocol error";
    case BASE_ERANGE:
        return "value out of range";
    case BASE_ESTATE:
        return "invalid state";
    default:
        return "unknown error";
    }
}
