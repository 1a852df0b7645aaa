/*
 * scenarios/json_split.h - parse a JSON document whose one big array is read entry by entry.
 *
 * A scenario's demand.trips list can hold hundreds of thousands of trips; jansson's tree of
 * it takes about 1 KB a trip, ten times the file. A split locates that array in the text
 * (without parsing it), lets jansson parse the rest of the document with the array's entries
 * blanked out (as whitespace that keeps every line and column, so syntax errors elsewhere are
 * reported where they are in the file), and then hands out the entries one parsed object at a
 * time, each freed by the caller before the next: memory is the text plus one entry.
 *
 * Locating is a fast path, not a parser: whenever the text does not look like an object with
 * member key1 holding an object with member key2 holding an array, the split reports "not
 * found" and the caller parses the whole text as usual (which then also reports any syntax
 * error). Syntax errors inside the array are reported by the entry reader with the line and
 * column they have in the whole text. The split borrows the text, which must outlive it.
 * Not thread-safe; one split per text.
 */
#ifndef SCN_JSON_SPLIT_H
#define SCN_JSON_SPLIT_H

#include <jansson.h>
#include <stddef.h>

typedef struct scn_json_split {
    const char *text;
    size_t len;
    int found;    /* the array was located */
    size_t open;  /* offset of its '[' */
    size_t close; /* offset of its ']' */
    size_t count; /* entries (separators at its top level + 1; 0 when empty) */
    /* Reading: the offset after the last entry read, its line (from 1), entries read. */
    size_t pos, line, read;
} scn_json_split_t;

/* Looks in text for the array text.key1.key2 (the first member of each name, spelt without
 * escapes). Sets split->found; never fails. */
void scn_json_split_find(scn_json_split_t *split, const char *text, size_t len, const char *key1,
                         const char *key2);

/* Parses the document with the located array empty (flags as for json_loadb; when the array
 * was not found, the whole text). Returns a new reference, or NULL with jansson's error in
 * *error, its line and column those of the whole text. */
json_t *scn_json_split_load_rest(const scn_json_split_t *split, size_t flags, json_error_t *error);

/* Parses the next entry of the located array (any JSON value). Returns 1 with a new reference
 * in *out, 0 when every entry has been read, or -1 on a syntax error (a malformed entry, or a
 * separator other than ',' between entries) with *error set, its line and column those of
 * the whole text. */
int scn_json_split_next(scn_json_split_t *split, size_t flags, json_t **out, json_error_t *error);

#endif
