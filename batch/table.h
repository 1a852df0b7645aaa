/*
 * batch/table.h - runs.csv: a table of text cells with named columns, its CSV form, and the
 * flattening of a run's summary.json into dotted column names ("escort.travel_time_s").
 *
 * Cells are strings owned by the table (NULL: empty). Columns are added as rows bring new
 * names: a new column goes right before the next of the row's names that is already a column
 * (else right after the previous one), so rows whose names come in one consistent order (every
 * summary.json does) keep that order, and batch_table_canonicalize() makes it independent of
 * the order the rows arrived in. The file is always a valid CSV: it is written whole through a
 * temporary file and a rename, or grown by appending one complete line in one write(); a
 * reader drops a last line without its newline (a write cut short). Not thread-safe.
 */
#ifndef BATCH_TABLE_H
#define BATCH_TABLE_H

#include "base/err.h"

#include <jansson.h>
#include <stddef.h>

typedef struct batch_table {
    char **cols;
    size_t n_cols;
    char ***rows; /* rows[r][c] */
    size_t n_rows, cap_rows;
} batch_table_t;

/* A flattened document: parallel arrays of names and values, owned by the struct. */
typedef struct batch_fields {
    char **names;
    char **values;
    size_t n, cap;
} batch_fields_t;

/* Returns an empty table, or NULL when out of memory. */
batch_table_t *batch_table_new(void);

/* Frees the table; NULL-safe; sets *self_p to NULL. */
void batch_table_destroy(batch_table_t **self_p);

/* Returns the index of column name, or -1. */
long batch_table_col(const batch_table_t *self, const char *name);

/* Returns the cell of row r in column name, or NULL (no such column, or empty). */
const char *batch_table_get(const batch_table_t *self, size_t r, const char *name);

/* Adds a row with cells values[i] in columns names[i] (i < n; a name given twice counts once),
 * adding the columns it lacks as described above. Sets *cols_added (if not NULL) to the number of
 * new columns. Returns 0 or BASE_ENOMEM. */
int batch_table_add_row(batch_table_t *self, const char *const *names, const char *const *values,
                        size_t n, size_t *cols_added);

/* Removes row r (order of the others kept). */
void batch_table_remove_row(batch_table_t *self, size_t r);

/* Sorts the rows by the integer in column key (rows without it last, stable), then orders the
 * columns: the n_fixed names of fixed first, then the others as the rows' non-empty cells
 * order them, merged row by row in the sorted order (see above), then columns that are empty
 * everywhere. Returns 0 or BASE_ENOMEM. */
int batch_table_canonicalize(batch_table_t *self, const char *key, const char *const *fixed,
                             size_t n_fixed);

/* Reads a CSV file (RFC 4180; first line the header) into the empty table self. A last line
 * without its newline is dropped and counted in *dropped (if not NULL). Returns 0, BASE_EIO
 * (unreadable; errno kept) or BASE_EPARSE (a row with the wrong number of fields, a bad quote:
 * path:line: what). */
int batch_table_read(batch_table_t *self, const char *path, size_t *dropped, base_err_t *err);

/* Calls fn(ud, line, fields, n) for each complete record of the CSV file path (line: where
 * the record starts; the header is record 1). Stops at the first non-zero return of fn and
 * returns it. A last record without its newline is skipped and counted in *dropped (if not
 * NULL). Returns 0, fn's non-zero value, BASE_EIO (unreadable) or BASE_EPARSE (bad quoting). */
typedef int (*batch_csv_fn)(void *ud, size_t line, char **fields, size_t n);
int batch_csv_each(const char *path, batch_csv_fn fn, void *ud, size_t *dropped, base_err_t *err);

/* Writes the whole table to path through path.tmp and a rename. Returns 0 or BASE_EIO. */
int batch_table_write(const batch_table_t *self, const char *path, base_err_t *err);

/* Appends row r to path as one complete line in one write (the file's header must be the
 * table's columns). Returns 0 or BASE_EIO. */
int batch_table_append(const batch_table_t *self, size_t r, const char *path, base_err_t *err);

/* Writes one CSV field (quoted when it holds a comma, a quote, a line break or edge spaces)
 * into buf at *len, growing it. Returns 0 or BASE_ENOMEM. */
int batch_csv_field(char **buf, size_t *len, size_t *cap, const char *text);

/* Formats x with the fewest significant digits that read back to the same double. */
void batch_format_double(double x, char *buf, size_t size);

/* Appends the numeric and boolean leaves of doc (numbers as batch_format_double or integers,
 * true/false as 1/0) to out as dotted names under prefix (NULL: none); array elements are
 * named by index ("escorts.0.stops"). Strings and nulls are skipped. Returns 0 or BASE_ENOMEM. */
int batch_fields_flatten(batch_fields_t *out, const json_t *doc, const char *prefix);

/* Appends one name/value pair (copied). Returns 0 or BASE_ENOMEM. */
int batch_fields_add(batch_fields_t *out, const char *name, const char *value);

/* Frees the pairs and empties out. */
void batch_fields_clear(batch_fields_t *out);

#endif
