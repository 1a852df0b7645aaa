/*
 * batch/table.c - the cells of runs.csv, its RFC 4180 reader and writer, and summary.json
 * flattening.
 *
 * A row's names are merged into the column order as a sequence: a new name goes right before
 * the next of the row's names that is already a column, else right after the previous one,
 * else at the end. Rows whose names keep one relative order (every summary.json does) thus
 * never contradict the columns. canonicalize() rebuilds the order of the non-fixed columns
 * the same way from an empty order and the rows sorted by run number, so that a table grown
 * by runs finishing in any order, or merged from shards, ends in one order.
 */
#include "batch/table.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

batch_table_t *batch_table_new(void) {
    return calloc(1, sizeof(batch_table_t));
}

static void free_row(char **row, size_t n) {
    if (row == NULL)
        return;
    for (size_t c = 0; c < n; c++)
        free(row[c]);
    free(row);
}

void batch_table_destroy(batch_table_t **self_p) {
    if (self_p == NULL || *self_p == NULL)
        return;
    batch_table_t *self = *self_p;
    for (size_t r = 0; r < self->n_rows; r++)
        free_row(self->rows[r], self->n_cols);
    free(self->rows);
    for (size_t c = 0; c < self->n_cols; c++)
        free(self->cols[c]);
    free(self->cols);
    free(self);
    *self_p = NULL;
}

long batch_table_col(const batch_table_t *self, const char *name) {
    for (size_t c = 0; c < self->n_cols; c++)
        if (strcmp(self->cols[c], name) == 0)
            return (long)c;
    return -1;
}

const char *batch_table_get(const batch_table_t *self, size_t r, const char *name) {
    long c = batch_table_col(self, name);
    if (c < 0 || r >= self->n_rows)
        return NULL;
    const char *v = self->rows[r][c];
    return v != NULL && v[0] != '\0' ? v : NULL;
}

/* Merges the sequence seq (m ids in their order) into order[from..*n): an id not yet in order
 * goes right before the next id of seq that is, else right after the previous id of seq, else
 * at the end. order has room for *n + m ids. */
static void merge_seq(size_t *order, size_t *n, size_t from, const size_t *seq, size_t m) {
    for (size_t i = 0; i < m; i++) {
        size_t pos = SIZE_MAX;
        for (size_t k = from; k < *n && pos == SIZE_MAX; k++)
            if (order[k] == seq[i])
                pos = k;
        if (pos != SIZE_MAX)
            continue;
        size_t at = *n;
        int found = 0;
        for (size_t j = i + 1; j < m && !found; j++) {
            for (size_t k = from; k < *n; k++) {
                if (order[k] == seq[j]) {
                    at = k;
                    found = 1;
                    break;
                }
            }
        }
        if (!found && i > 0) {
            for (size_t k = from; k < *n; k++)
                if (order[k] == seq[i - 1])
                    at = k + 1;
        }
        memmove(&order[at + 1], &order[at], (*n - at) * sizeof *order);
        order[at] = seq[i];
        (*n)++;
    }
}

/* Rearranges the columns to order (ids < n_old are old columns, n_old + i is names[i]). */
static int apply_order(batch_table_t *self, const size_t *order, size_t n_new,
                       const char *const *names) {
    size_t n_old = self->n_cols;
    char **cols = calloc(n_new > 0 ? n_new : 1, sizeof *cols);
    if (cols == NULL)
        return BASE_ENOMEM;
    for (size_t k = 0; k < n_new; k++) {
        if (order[k] < n_old) {
            cols[k] = self->cols[order[k]];
        } else if ((cols[k] = strdup(names[order[k] - n_old])) == NULL) {
            for (size_t j = 0; j < k; j++)
                if (order[j] >= n_old)
                    free(cols[j]);
            free(cols);
            return BASE_ENOMEM;
        }
    }
    char ***rows = calloc(self->n_rows > 0 ? self->n_rows : 1, sizeof *rows);
    for (size_t r = 0; rows != NULL && r < self->n_rows; r++) {
        rows[r] = calloc(n_new > 0 ? n_new : 1, sizeof **rows);
        if (rows[r] == NULL) {
            for (size_t q = 0; q < r; q++)
                free(rows[q]);
            free(rows);
            rows = NULL;
        }
    }
    if (rows == NULL) {
        for (size_t k = 0; k < n_new; k++)
            if (order[k] >= n_old)
                free(cols[k]);
        free(cols);
        return BASE_ENOMEM;
    }
    for (size_t r = 0; r < self->n_rows; r++) {
        for (size_t k = 0; k < n_new; k++)
            rows[r][k] = order[k] < n_old ? self->rows[r][order[k]] : NULL;
        free(self->rows[r]);
        self->rows[r] = rows[r];
    }
    free(rows);
    free(self->cols);
    self->cols = cols;
    self->n_cols = n_new;
    return BASE_OK;
}

int batch_table_add_row(batch_table_t *self, const char *const *names, const char *const *values,
                        size_t n, size_t *cols_added) {
    size_t added = 0;
    size_t *seq = malloc((n > 0 ? n : 1) * sizeof *seq);
    size_t *order = malloc((self->n_cols + n + 1) * sizeof *order);
    long *where = malloc((n > 0 ? n : 1) * sizeof *where);
    int rc = seq && order && where ? BASE_OK : BASE_ENOMEM;
    for (size_t i = 0; i < n && rc == BASE_OK; i++) {
        int twice = 0;
        for (size_t j = 0; j < i && !twice; j++)
            twice = strcmp(names[j], names[i]) == 0;
        if (twice) {
            seq[i] = SIZE_MAX; /* a name given twice: its first value counts */
            continue;
        }
        long c = batch_table_col(self, names[i]);
        seq[i] = c >= 0 ? (size_t)c : self->n_cols + i;
        added += c < 0;
    }
    if (rc == BASE_OK && added > 0) {
        size_t m = 0, total = self->n_cols;
        for (size_t i = 0; i < n; i++)
            if (seq[i] != SIZE_MAX)
                seq[m++] = seq[i];
        for (size_t k = 0; k < total; k++)
            order[k] = k;
        merge_seq(order, &total, 0, seq, m);
        rc = apply_order(self, order, total, names);
    }
    for (size_t i = 0; i < n && rc == BASE_OK; i++)
        where[i] = batch_table_col(self, names[i]);
    if (rc == BASE_OK && self->n_rows == self->cap_rows) {
        size_t cap = self->cap_rows ? 2 * self->cap_rows : 64;
        char ***rows = realloc(self->rows, cap * sizeof *rows);
        if (rows == NULL) {
            rc = BASE_ENOMEM;
        } else {
            self->rows = rows;
            self->cap_rows = cap;
        }
    }
    char **row = rc == BASE_OK ? calloc(self->n_cols > 0 ? self->n_cols : 1, sizeof *row) : NULL;
    if (rc == BASE_OK && row == NULL)
        rc = BASE_ENOMEM;
    for (size_t i = 0; i < n && rc == BASE_OK; i++) {
        if (values[i] == NULL || row[where[i]] != NULL)
            continue;
        if ((row[where[i]] = strdup(values[i])) == NULL)
            rc = BASE_ENOMEM;
    }
    if (rc == BASE_OK) {
        self->rows[self->n_rows++] = row;
    } else {
        free_row(row, self->n_cols);
    }
    free(seq);
    free(order);
    free(where);
    if (cols_added != NULL)
        *cols_added = rc == BASE_OK ? added : 0;
    return rc;
}

void batch_table_remove_row(batch_table_t *self, size_t r) {
    if (r >= self->n_rows)
        return;
    free_row(self->rows[r], self->n_cols);
    memmove(&self->rows[r], &self->rows[r + 1], (self->n_rows - r - 1) * sizeof *self->rows);
    self->n_rows--;
}

/* ---- canonical order ---------------------------------------------------------------------- */

typedef struct keyed_row {
    long long key;
    int has_key;
    size_t pos;
    char **row;
} keyed_row_t;

static int cmp_keyed(const void *a, const void *b) {
    const keyed_row_t *x = a, *y = b;
    if (x->has_key != y->has_key)
        return x->has_key ? -1 : 1;
    if (x->has_key && x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

int batch_table_canonicalize(batch_table_t *self, const char *key, const char *const *fixed,
                             size_t n_fixed) {
    long kc = batch_table_col(self, key);
    keyed_row_t *k = malloc((self->n_rows > 0 ? self->n_rows : 1) * sizeof *k);
    size_t *order = malloc((self->n_cols > 0 ? self->n_cols : 1) * sizeof *order);
    if (k == NULL || order == NULL) {
        free(k);
        free(order);
        return BASE_ENOMEM;
    }
    for (size_t r = 0; r < self->n_rows; r++) {
        const char *v = kc >= 0 ? self->rows[r][kc] : NULL;
        char *end = NULL;
        k[r].has_key = v != NULL && v[0] != '\0';
        k[r].key = k[r].has_key ? strtoll(v, &end, 10) : 0;
        if (k[r].has_key && *end != '\0')
            k[r].has_key = 0;
        k[r].pos = r;
        k[r].row = self->rows[r];
    }
    qsort(k, self->n_rows, sizeof *k, cmp_keyed);
    for (size_t r = 0; r < self->n_rows; r++)
        self->rows[r] = k[r].row;
    free(k);
    /* Column order: fixed ones, then by the rows' non-empty cells, then never-filled ones. */
    size_t n = 0;
    for (size_t f = 0; f < n_fixed; f++) {
        long c = batch_table_col(self, fixed[f]);
        if (c >= 0)
            order[n++] = (size_t)c;
    }
    size_t n_head = n;
    size_t *seq = malloc((self->n_cols > 0 ? self->n_cols : 1) * sizeof *seq);
    if (seq == NULL) {
        free(order);
        return BASE_ENOMEM;
    }
    for (size_t r = 0; r < self->n_rows; r++) {
        size_t m = 0;
        for (size_t c = 0; c < self->n_cols; c++) {
            const char *v = self->rows[r][c];
            int head = 0;
            for (size_t i = 0; i < n_head && !head; i++)
                head = order[i] == c;
            if (v != NULL && v[0] != '\0' && !head)
                seq[m++] = c;
        }
        merge_seq(order, &n, n_head, seq, m);
    }
    free(seq);
    for (size_t c = 0; c < self->n_cols; c++) {
        int seen = 0;
        for (size_t i = 0; i < n && !seen; i++)
            seen = order[i] == c;
        if (!seen)
            order[n++] = c;
    }
    /* Permute the header and every row. */
    char **tmp = malloc((self->n_cols > 0 ? self->n_cols : 1) * sizeof *tmp);
    if (tmp == NULL) {
        free(order);
        return BASE_ENOMEM;
    }
    for (size_t i = 0; i < self->n_cols; i++)
        tmp[i] = self->cols[order[i]];
    memcpy(self->cols, tmp, self->n_cols * sizeof *tmp);
    for (size_t r = 0; r < self->n_rows; r++) {
        for (size_t i = 0; i < self->n_cols; i++)
            tmp[i] = self->rows[r][order[i]];
        memcpy(self->rows[r], tmp, self->n_cols * sizeof *tmp);
    }
    free(tmp);
    free(order);
    return BASE_OK;
}

/* ---- CSV ---------------------------------------------------------------------------------- */

static int grow(char **buf, size_t *cap, size_t need) {
    if (need <= *cap)
        return BASE_OK;
    size_t nc = *cap ? *cap : 256;
    while (nc < need)
        nc *= 2;
    char *nb = realloc(*buf, nc);
    if (nb == NULL)
        return BASE_ENOMEM;
    *buf = nb;
    *cap = nc;
    return BASE_OK;
}

int batch_csv_field(char **buf, size_t *len, size_t *cap, const char *text) {
    if (text == NULL)
        text = "";
    size_t n = strlen(text);
    int quote = n > 0 && (text[0] == ' ' || text[n - 1] == ' ');
    for (size_t i = 0; i < n && !quote; i++)
        quote = text[i] == ',' || text[i] == '"' || text[i] == '\n' || text[i] == '\r';
    if (grow(buf, cap, *len + 2 * n + 3) < 0)
        return BASE_ENOMEM;
    char *o = *buf + *len;
    if (quote)
        *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        if (text[i] == '"')
            *o++ = '"';
        *o++ = text[i];
    }
    if (quote)
        *o++ = '"';
    *len = (size_t)(o - *buf);
    (*buf)[*len] = '\0';
    return BASE_OK;
}

/* Appends one CSV line (cells, n of them, then a newline) to buf. */
static int format_line(char **buf, size_t *len, size_t *cap, char *const *cells, size_t n) {
    for (size_t c = 0; c < n; c++) {
        if (c > 0) {
            if (grow(buf, cap, *len + 2) < 0)
                return BASE_ENOMEM;
            (*buf)[(*len)++] = ',';
        }
        if (batch_csv_field(buf, len, cap, cells[c]) < 0)
            return BASE_ENOMEM;
    }
    if (grow(buf, cap, *len + 2) < 0)
        return BASE_ENOMEM;
    (*buf)[(*len)++] = '\n';
    (*buf)[*len] = '\0';
    return BASE_OK;
}

static int write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

int batch_table_write(const batch_table_t *self, const char *path, base_err_t *err) {
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = format_line(&buf, &len, &cap, self->cols, self->n_cols);
    for (size_t r = 0; r < self->n_rows && rc == 0; r++)
        rc = format_line(&buf, &len, &cap, self->rows[r], self->n_cols);
    if (rc < 0) {
        free(buf);
        return base_err_set(err, BASE_ENOMEM, "out of memory");
    }
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 5);
    if (tmp == NULL) {
        free(buf);
        return base_err_set(err, BASE_ENOMEM, "out of memory");
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int bad = fd < 0 || write_all(fd, buf, len) < 0 || fsync(fd) < 0;
    int saved = errno;
    if (fd >= 0 && close(fd) < 0 && !bad) {
        bad = 1;
        saved = errno;
    }
    if (!bad && rename(tmp, path) < 0) {
        bad = 1;
        saved = errno;
    }
    if (bad)
        unlink(tmp);
    free(tmp);
    free(buf);
    if (bad)
        return base_err_set(err, BASE_EIO, "%s: cannot write: %s", path, strerror(saved));
    return BASE_OK;
}

int batch_table_append(const batch_table_t *self, size_t r, const char *path, base_err_t *err) {
    char *buf = NULL;
    size_t len = 0, cap = 0;
    if (r >= self->n_rows || format_line(&buf, &len, &cap, self->rows[r], self->n_cols) < 0) {
        free(buf);
        return base_err_set(err, BASE_ENOMEM, "out of memory");
    }
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    int bad = fd < 0 || write_all(fd, buf, len) < 0;
    int saved = errno;
    if (fd >= 0 && close(fd) < 0 && !bad) {
        bad = 1;
        saved = errno;
    }
    free(buf);
    if (bad)
        return base_err_set(err, BASE_EIO, "%s: cannot append: %s", path, strerror(saved));
    return BASE_OK;
}

/* Reads a whole file into a NUL-terminated buffer. */
static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (grow(&buf, &cap, n + 65536 + 1) < 0) {
            free(buf);
            fclose(f);
            errno = ENOMEM;
            return NULL;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        errno = EIO;
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Parses one record starting at *p (not past end). Fields go to *cells (grown). Returns 1 for a
 * complete record (ending in a newline), 0 for a record cut short at the end of the text, -1
 * for a bad quote. */
static int parse_record(const char **p, const char *end, char ***cells, size_t *n, size_t *cap) {
    *n = 0;
    const char *s = *p;
    for (;;) {
        char *field = malloc((size_t)(end - s) + 1);
        if (field == NULL)
            return -2;
        size_t fl = 0;
        if (s < end && *s == '"') {
            s++;
            for (;;) {
                if (s >= end) {
                    free(field);
                    return 0;
                }
                if (*s == '"') {
                    if (s + 1 < end && s[1] == '"') {
                        field[fl++] = '"';
                        s += 2;
                        continue;
                    }
                    s++;
                    break;
                }
                field[fl++] = *s++;
            }
            if (s < end && *s != ',' && *s != '\n' && *s != '\r') {
                free(field);
                return -1;
            }
        } else {
            while (s < end && *s != ',' && *s != '\n' && *s != '\r') {
                if (*s == '"') {
                    free(field);
                    return -1;
                }
                field[fl++] = *s++;
            }
        }
        field[fl] = '\0';
        if (*n == *cap) {
            size_t nc = *cap ? 2 * *cap : 32;
            char **nv = realloc(*cells, nc * sizeof *nv);
            if (nv == NULL) {
                free(field);
                return -2;
            }
            *cells = nv;
            *cap = nc;
        }
        (*cells)[(*n)++] = field;
        if (s >= end)
            return 0;
        if (*s == ',') {
            s++;
            continue;
        }
        if (*s == '\r')
            s++;
        if (s < end && *s == '\n') {
            *p = s + 1;
            return 1;
        }
        return s >= end ? 0 : -1;
    }
}

int batch_csv_each(const char *path, batch_csv_fn fn, void *ud, size_t *dropped, base_err_t *err) {
    size_t len = 0;
    if (dropped != NULL)
        *dropped = 0;
    char *text = slurp(path, &len);
    if (text == NULL)
        return base_err_set(err, BASE_EIO, "%s: %s", path, strerror(errno));
    const char *p = text, *end = text + len;
    char **cells = NULL;
    size_t n = 0, cap = 0, line = 1;
    int rc = BASE_OK;
    while (p < end && rc == BASE_OK) {
        size_t here = line;
        int got = parse_record(&p, end, &cells, &n, &cap);
        if (got == -2) {
            rc = base_err_set(err, BASE_ENOMEM, "out of memory");
        } else if (got == -1) {
            rc = base_err_set(err, BASE_EPARSE, "%s:%zu: bad quoting", path, here);
        } else if (got == 0) {
            if (dropped != NULL)
                (*dropped)++;
        } else {
            line++;
            for (size_t i = 0; i < n; i++)
                for (const char *q = cells[i]; *q; q++)
                    line += *q == '\n';
            rc = fn(ud, here, cells, n);
        }
        for (size_t i = 0; i < n; i++)
            free(cells[i]);
        n = 0;
        if (got == 0)
            break;
    }
    free(cells);
    free(text);
    return rc;
}

typedef struct read_ctx {
    batch_table_t *t;
    const char *path;
    base_err_t *err;
    int have_header;
} read_ctx_t;

static char **copy_cells(char **fields, size_t n) {
    char **c = calloc(n > 0 ? n : 1, sizeof *c);
    if (c == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if ((c[i] = strdup(fields[i])) == NULL) {
            free_row(c, i);
            return NULL;
        }
    }
    return c;
}

static int read_record(void *ud, size_t line, char **fields, size_t n) {
    read_ctx_t *rc = ud;
    batch_table_t *self = rc->t;
    if (!rc->have_header) {
        if ((self->cols = copy_cells(fields, n)) == NULL)
            return base_err_set(rc->err, BASE_ENOMEM, "out of memory");
        self->n_cols = n;
        rc->have_header = 1;
        return BASE_OK;
    }
    if (n != self->n_cols)
        return base_err_set(rc->err, BASE_EPARSE, "%s:%zu: %zu fields, the header has %zu",
                            rc->path, line, n, self->n_cols);
    if (self->n_rows == self->cap_rows) {
        size_t ncap = self->cap_rows ? 2 * self->cap_rows : 64;
        char ***rows = realloc(self->rows, ncap * sizeof *rows);
        if (rows == NULL)
            return base_err_set(rc->err, BASE_ENOMEM, "out of memory");
        self->rows = rows;
        self->cap_rows = ncap;
    }
    char **row = copy_cells(fields, n);
    if (row == NULL)
        return base_err_set(rc->err, BASE_ENOMEM, "out of memory");
    self->rows[self->n_rows++] = row;
    return BASE_OK;
}

int batch_table_read(batch_table_t *self, const char *path, size_t *dropped, base_err_t *err) {
    read_ctx_t ctx = {self, path, err, 0};
    int rc = batch_csv_each(path, read_record, &ctx, dropped, err);
    if (rc == BASE_OK && !ctx.have_header)
        rc = base_err_set(err, BASE_EPARSE, "%s: no header line", path);
    return rc;
}

/* ---- flattening --------------------------------------------------------------------------- */

void batch_format_double(double x, char *buf, size_t size) {
    /* Plain decimals for the magnitudes of measures; exponents only far out. */
    double ax = fabs(x);
    if (x == 0 || (ax >= 1e-4 && ax < 1e15)) {
        for (int d = 0; d <= 17; d++) {
            snprintf(buf, size, "%.*f", d, x);
            if (strtod(buf, NULL) == x)
                return;
        }
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            return;
    }
}

int batch_fields_add(batch_fields_t *out, const char *name, const char *value) {
    if (out->n == out->cap) {
        size_t cap = out->cap ? 2 * out->cap : 64;
        char **nn = realloc(out->names, cap * sizeof *nn);
        if (nn == NULL)
            return BASE_ENOMEM;
        out->names = nn;
        char **nv = realloc(out->values, cap * sizeof *nv);
        if (nv == NULL)
            return BASE_ENOMEM;
        out->values = nv;
        out->cap = cap;
    }
    out->names[out->n] = strdup(name);
    out->values[out->n] = strdup(value ? value : "");
    if (out->names[out->n] == NULL || out->values[out->n] == NULL) {
        free(out->names[out->n]);
        free(out->values[out->n]);
        return BASE_ENOMEM;
    }
    out->n++;
    return BASE_OK;
}

void batch_fields_clear(batch_fields_t *out) {
    for (size_t i = 0; i < out->n; i++) {
        free(out->names[i]);
        free(out->values[i]);
    }
    free(out->names);
    free(out->values);
    memset(out, 0, sizeof *out);
}

int batch_fields_flatten(batch_fields_t *out, const json_t *doc, const char *prefix) {
    char name[512], value[64];
    if (json_is_object(doc)) {
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)doc, key, v) {
            snprintf(name, sizeof name, "%s%s%s", prefix ? prefix : "", prefix ? "." : "", key);
            if (batch_fields_flatten(out, v, name) < 0)
                return BASE_ENOMEM;
        }
        return BASE_OK;
    }
    if (json_is_array(doc)) {
        size_t i;
        json_t *v;
        json_array_foreach(doc, i, v) {
            snprintf(name, sizeof name, "%s%s%zu", prefix ? prefix : "", prefix ? "." : "", i);
            if (batch_fields_flatten(out, v, name) < 0)
                return BASE_ENOMEM;
        }
        return BASE_OK;
    }
    if (prefix == NULL)
        return BASE_OK;
    if (json_is_integer(doc))
        snprintf(value, sizeof value, "%" JSON_INTEGER_FORMAT, json_integer_value(doc));
    else if (json_is_real(doc))
        batch_format_double(json_real_value(doc), value, sizeof value);
    else if (json_is_boolean(doc))
        snprintf(value, sizeof value, "%d", json_is_true(doc) ? 1 : 0);
    else
        return BASE_OK; /* strings and nulls are not measures */
    return batch_fields_add(out, prefix, value);
}
