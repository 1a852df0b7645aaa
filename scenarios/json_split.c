/*
 * scenarios/json_split.c - locating an array in JSON text and reading it entry by entry.
 *
 * Locating walks the text with a skipper that knows strings (and their escapes) and bracket
 * depth but checks nothing else; it follows key1 then key2 from the top-level object and
 * counts the commas at depth 1 of the array to size the caller's table. The rest of the
 * document reaches jansson through json_load_callback() as four pieces: the text up to and
 * including '[', one '\n' per newline of the array's contents, one ' ' per character after
 * the last of them (so what follows the array keeps its line and column), and the text from
 * ']' on. Entries are parsed in place with json_loadb(JSON_DISABLE_EOF_CHECK |
 * JSON_DECODE_ANY), which reports in error.position how many bytes the value took; between
 * entries only whitespace and one ',' are allowed. The current line is kept by counting
 * newlines over each entry, so an error's line is exact; its column is counted back to the
 * start of its line only when needed.
 */
#include "scenarios/json_split.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int is_ws(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t skip_ws(const char *s, size_t i, size_t n) {
    while (i < n && is_ws(s[i]))
        i++;
    return i;
}

/* At '"': moves past the closing quote. Returns 0, or -1 when unterminated. */
static int skip_string(const char *s, size_t *i, size_t n) {
    for (size_t k = *i + 1; k < n; k++) {
        if (s[k] == '\\')
            k++;
        else if (s[k] == '"') {
            *i = k + 1;
            return 0;
        }
    }
    return -1;
}

/* At the first character of a value: moves past it. For an array or object, counts the
 * commas at its own level in *commas (if not NULL). Returns 0, or -1 when it runs off. */
static int skip_value(const char *s, size_t *i, size_t n, size_t *commas) {
    size_t k = *i;
    if (k >= n)
        return -1;
    if (s[k] == '"')
        return skip_string(s, i, n);
    if (s[k] != '[' && s[k] != '{') {
        while (k < n && !is_ws(s[k]) && s[k] != ',' && s[k] != ']' && s[k] != '}')
            k++;
        if (k == *i)
            return -1;
        *i = k;
        return 0;
    }
    size_t depth = 0;
    while (k < n) {
        char c = s[k];
        if (c == '"') {
            if (skip_string(s, &k, n) < 0)
                return -1;
            continue;
        }
        if (c == '[' || c == '{') {
            depth++;
        } else if (c == ']' || c == '}') {
            if (--depth == 0) {
                *i = k + 1;
                return 0;
            }
        } else if (c == ',' && depth == 1 && commas != NULL) {
            (*commas)++;
        }
        k++;
    }
    return -1;
}

/* At '{': finds member key (spelt without escapes) and leaves *i at its value. Returns 0, or
 * -1 when it is absent or the text is not what it should be. */
static int find_member(const char *s, size_t *i, size_t n, const char *key) {
    size_t klen = strlen(key);
    size_t k = *i + 1;
    for (;;) {
        k = skip_ws(s, k, n);
        if (k >= n || s[k] != '"')
            return -1;
        size_t name = k + 1;
        if (skip_string(s, &k, n) < 0)
            return -1;
        int match = k - 1 - name == klen && memcmp(s + name, key, klen) == 0;
        k = skip_ws(s, k, n);
        if (k >= n || s[k] != ':')
            return -1;
        k = skip_ws(s, k + 1, n);
        if (match) {
            *i = k;
            return 0;
        }
        if (skip_value(s, &k, n, NULL) < 0)
            return -1;
        k = skip_ws(s, k, n);
        if (k >= n || s[k] != ',')
            return -1;
        k++;
    }
}

void scn_json_split_find(scn_json_split_t *split, const char *text, size_t len, const char *key1,
                         const char *key2) {
    memset(split, 0, sizeof *split);
    split->text = text;
    split->len = len;
    split->line = 1;
    size_t i = skip_ws(text, 0, len);
    if (i >= len || text[i] != '{' || find_member(text, &i, len, key1) < 0)
        return;
    if (i >= len || text[i] != '{' || find_member(text, &i, len, key2) < 0)
        return;
    if (i >= len || text[i] != '[')
        return;
    size_t open = i, commas = 0;
    if (skip_value(text, &i, len, &commas) < 0 || text[i - 1] != ']')
        return;
    split->found = 1;
    split->open = open;
    split->close = i - 1;
    split->count = skip_ws(text, open + 1, len) == split->close ? 0 : commas + 1;
    split->pos = open + 1;
    for (size_t k = 0; k < split->pos; k++)
        split->line += text[k] == '\n';
}

/* ---- the rest of the document ------------------------------------------------------- */

typedef struct {
    const scn_json_split_t *split;
    size_t piece;       /* 0 head, 1 newlines, 2 spaces, 3 tail, 4 done */
    size_t done;        /* bytes of the current piece already given */
    size_t newlines;    /* piece 1's length */
    size_t last_column; /* piece 2's length */
} feed_t;

static size_t feed(void *buffer, size_t buflen, void *data) {
    feed_t *f = data;
    const scn_json_split_t *sp = f->split;
    char *out = buffer;
    size_t n = 0;
    while (n < buflen && f->piece < 4) {
        size_t piece_len = f->piece == 0   ? sp->open + 1
                           : f->piece == 1 ? f->newlines
                           : f->piece == 2 ? f->last_column
                                           : sp->len - sp->close;
        size_t take = piece_len - f->done;
        if (take > buflen - n)
            take = buflen - n;
        if (f->piece == 0)
            memcpy(out + n, sp->text + f->done, take);
        else if (f->piece == 1)
            memset(out + n, '\n', take);
        else if (f->piece == 2)
            memset(out + n, ' ', take);
        else
            memcpy(out + n, sp->text + sp->close + f->done, take);
        n += take;
        f->done += take;
        if (f->done == piece_len) {
            f->piece++;
            f->done = 0;
        }
    }
    return n;
}

json_t *scn_json_split_load_rest(const scn_json_split_t *split, size_t flags, json_error_t *error) {
    if (!split->found)
        return json_loadb(split->text, split->len, flags, error);
    feed_t f = {.split = split};
    for (size_t k = split->open + 1; k < split->close; k++) {
        unsigned char c = (unsigned char)split->text[k];
        if (c == '\n') {
            f.newlines++;
            f.last_column = 0;
        } else if ((c & 0xC0) != 0x80) {
            f.last_column++; /* jansson counts columns in characters */
        }
    }
    return json_load_callback(feed, &f, flags, error);
}

/* ---- entries ------------------------------------------------------------------------ */

/* Moves the read position to i, counting the newlines passed. */
static void advance(scn_json_split_t *sp, size_t i) {
    for (const char *p = sp->text + sp->pos, *end = sp->text + i;
         (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
        sp->line++;
    sp->pos = i;
}

/* Column (in characters, as jansson counts) of offset i on its line, 0 at the line start. */
static int column_at(const scn_json_split_t *sp, size_t i) {
    size_t k = i;
    while (k > 0 && sp->text[k - 1] != '\n')
        k--;
    int col = 0;
    for (; k < i; k++)
        col += ((unsigned char)sp->text[k] & 0xC0) != 0x80;
    return col;
}

static int syntax_error(scn_json_split_t *sp, size_t i, json_error_t *error, const char *what) {
    char msg[JSON_ERROR_TEXT_LENGTH];
    snprintf(msg, sizeof msg, "%s", what); /* what may be error->text */
    advance(sp, i);
    error->line = (int)sp->line;
    error->column = column_at(sp, i) + 1;
    error->position = (int)i;
    snprintf(error->source, sizeof error->source, "<buffer>");
    snprintf(error->text, sizeof error->text, "%s", msg);
    return -1;
}

int scn_json_split_next(scn_json_split_t *sp, size_t flags, json_t **out, json_error_t *error) {
    *out = NULL;
    size_t i = skip_ws(sp->text, sp->pos, sp->close);
    if (i == sp->close)
        return sp->read == 0 || sp->read == sp->count
                   ? 0
                   : syntax_error(sp, i, error, "value expected near ']'");
    if (sp->read > 0) {
        if (sp->text[i] != ',')
            return syntax_error(sp, i, error, "',' or ']' expected");
        i = skip_ws(sp->text, i + 1, sp->close);
    }
    if (sp->read == sp->count)
        return syntax_error(sp, i, error, "unexpected entry");
    advance(sp, i);
    json_t *v = json_loadb(sp->text + i, sp->close - i,
                           flags | JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, error);
    if (v == NULL) {
        /* jansson counts from the entry: line 1 is the entry's first line. */
        if (error->line < 1)
            return syntax_error(sp, i, error, error->text);
        int col0 = error->line == 1 ? column_at(sp, i) : 0;
        error->line = (int)sp->line + error->line - 1;
        error->column += col0;
        error->position += (int)i;
        return -1;
    }
    advance(sp, i + (size_t)error->position);
    sp->read++;
    *out = v;
    return 1;
}
