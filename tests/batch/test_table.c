/*
 * tests/batch/test_table.c - suite batch_table: CSV quoting round trips, a file cut short in
 * its last line, malformed files, columns placed after their predecessor whatever the order
 * rows arrive in, canonical order, appends, number formatting and summary.json flattening.
 */
#include "base/err.h"
#include "batch/table.h"

#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static void setup(void) {
    snprintf(dir, sizeof dir, "/tmp/gw-test-table-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static const char *path_of(const char *name) {
    static char buf[128];
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static char *read_text(const char *path) {
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

START_TEST(test_round_trip) {
    batch_table_t *t = batch_table_new();
    const char *names[] = {"run", "reason", "x"};
    const char *v1[] = {"0", "exit status 2: a.json:3:1: syntax error, \"x\"", "1.5"};
    const char *v2[] = {"1", "line\nbreak", " padded "};
    const char *v3[] = {"2", NULL, ""};
    ck_assert_int_eq(batch_table_add_row(t, names, v1, 3, NULL), BASE_OK);
    ck_assert_int_eq(batch_table_add_row(t, names, v2, 3, NULL), BASE_OK);
    ck_assert_int_eq(batch_table_add_row(t, names, v3, 3, NULL), BASE_OK);
    base_err_t err = {0};
    const char *p = path_of("runs.csv");
    ck_assert_int_eq(batch_table_write(t, p, &err), BASE_OK);
    ck_assert_str_eq(read_text(p), "run,reason,x\n"
                                   "0,\"exit status 2: a.json:3:1: syntax error, \"\"x\"\"\",1.5\n"
                                   "1,\"line\nbreak\",\" padded \"\n"
                                   "2,,\n");
    batch_table_t *r = batch_table_new();
    size_t dropped = 9;
    ck_assert_int_eq(batch_table_read(r, p, &dropped, &err), BASE_OK);
    ck_assert_uint_eq(dropped, 0);
    ck_assert_uint_eq(r->n_rows, 3);
    ck_assert_uint_eq(r->n_cols, 3);
    ck_assert_str_eq(batch_table_get(r, 0, "reason"), v1[1]);
    ck_assert_str_eq(batch_table_get(r, 1, "reason"), "line\nbreak");
    ck_assert_str_eq(batch_table_get(r, 1, "x"), " padded ");
    ck_assert_ptr_null(batch_table_get(r, 2, "reason"));
    ck_assert_ptr_null(batch_table_get(r, 0, "nope"));
    /* Appending one line keeps the file valid. */
    const char *v4[] = {"3", "ok", "2"};
    ck_assert_int_eq(batch_table_add_row(t, names, v4, 3, NULL), BASE_OK);
    ck_assert_int_eq(batch_table_append(t, 3, p, &err), BASE_OK);
    batch_table_destroy(&r);
    r = batch_table_new();
    ck_assert_int_eq(batch_table_read(r, p, NULL, &err), BASE_OK);
    ck_assert_uint_eq(r->n_rows, 4);
    ck_assert_str_eq(batch_table_get(r, 3, "x"), "2");
    batch_table_destroy(&r);
    batch_table_destroy(&t);
    ck_assert_ptr_null(t);
}
END_TEST

START_TEST(test_cut_short) {
    base_err_t err = {0};
    const char *p = path_of("cut.csv");
    /* A write cut short: the last line has no newline (even inside quotes). */
    write_text(p, "a,b\n1,2\n3,4");
    batch_table_t *t = batch_table_new();
    size_t dropped = 0;
    ck_assert_int_eq(batch_table_read(t, p, &dropped, &err), BASE_OK);
    ck_assert_uint_eq(dropped, 1);
    ck_assert_uint_eq(t->n_rows, 1);
    batch_table_destroy(&t);
    write_text(p, "a,b\n1,2\n3,\"4\n5");
    t = batch_table_new();
    ck_assert_int_eq(batch_table_read(t, p, &dropped, &err), BASE_OK);
    ck_assert_uint_eq(dropped, 1);
    ck_assert_uint_eq(t->n_rows, 1);
    batch_table_destroy(&t);
    /* CRLF line ends are read too. */
    write_text(p, "a,b\r\n1,2\r\n");
    t = batch_table_new();
    ck_assert_int_eq(batch_table_read(t, p, &dropped, &err), BASE_OK);
    ck_assert_uint_eq(t->n_rows, 1);
    ck_assert_str_eq(batch_table_get(t, 0, "b"), "2");
    batch_table_destroy(&t);
}
END_TEST

static void refuse(const char *text, int code, const char *want) {
    base_err_t err = {0};
    const char *p = path_of("bad.csv");
    write_text(p, text);
    batch_table_t *t = batch_table_new();
    ck_assert_int_eq(batch_table_read(t, p, NULL, &err), code);
    ck_assert_msg(strstr(err.msg, want) != NULL, "'%s' lacks '%s'", err.msg, want);
    batch_table_destroy(&t);
}

START_TEST(test_malformed) {
    refuse("a,b\n1,2,3\n", BASE_EPARSE, "bad.csv:2: 3 fields, the header has 2");
    refuse("a,b\n1,2\n\n", BASE_EPARSE, "bad.csv:3: 1 fields");
    refuse("a,b\n1,x\"y\n", BASE_EPARSE, "bad.csv:2: bad quoting");
    refuse("a,b\n\"1\"x,2\n", BASE_EPARSE, "bad quoting");
    refuse("", BASE_EPARSE, "no header");
    base_err_t err = {0};
    batch_table_t *t = batch_table_new();
    ck_assert_int_eq(batch_table_read(t, path_of("missing.csv"), NULL, &err), BASE_EIO);
    batch_table_destroy(&t);
}
END_TEST

START_TEST(test_column_order) {
    /* Documents keep the order A B C D E and share A and E (as every summary.json shares its
     * first and last members; C stands for a section that is null in some runs). */
    const char *n1[] = {"run", "A", "C", "E"};
    const char *n2[] = {"run", "A", "B", "C", "D", "E"};
    const char *n3[] = {"run", "A", "E"};
    const char *v[] = {"1", "x", "x", "x", "x", "x"};
    const char *w[] = {"0", "y", "y", "y", "y", "y"};
    const char *want[] = {"run", "A", "B", "C", "D", "E"};
    const char *fixed[] = {"run"};
    batch_table_t *t = batch_table_new();
    size_t added = 0;
    ck_assert_int_eq(batch_table_add_row(t, n3, w, 3, &added), BASE_OK);
    ck_assert_uint_eq(added, 3);
    ck_assert_int_eq(batch_table_add_row(t, n1, v, 4, &added), BASE_OK);
    ck_assert_uint_eq(added, 1);
    ck_assert_int_eq(batch_table_add_row(t, n2, v, 6, &added), BASE_OK);
    ck_assert_uint_eq(added, 2);
    /* Already in document order before canonicalize. */
    ck_assert_uint_eq(t->n_cols, 6);
    for (size_t i = 0; i < 6; i++)
        ck_assert_str_eq(t->cols[i], want[i]);
    ck_assert_int_eq(batch_table_canonicalize(t, "run", fixed, 1), BASE_OK);
    for (size_t i = 0; i < 6; i++)
        ck_assert_str_eq(t->cols[i], want[i]);
    /* Rows sorted by run (stable); cells moved with their columns. */
    ck_assert_str_eq(t->rows[0][0], "0");
    ck_assert_str_eq(t->rows[0][1], "y");
    ck_assert_ptr_null(t->rows[0][2]);
    ck_assert_str_eq(batch_table_get(t, 1, "C"), "x");
    ck_assert_ptr_null(batch_table_get(t, 1, "B"));
    ck_assert_str_eq(batch_table_get(t, 2, "D"), "x");
    /* Another arrival order, the same canonical header. */
    batch_table_t *u = batch_table_new();
    ck_assert_int_eq(batch_table_add_row(u, n2, v, 6, NULL), BASE_OK);
    ck_assert_int_eq(batch_table_add_row(u, n1, v, 4, NULL), BASE_OK);
    ck_assert_int_eq(batch_table_add_row(u, n3, w, 3, NULL), BASE_OK);
    ck_assert_int_eq(batch_table_canonicalize(u, "run", fixed, 1), BASE_OK);
    for (size_t i = 0; i < 6; i++)
        ck_assert_str_eq(u->cols[i], want[i]);
    ck_assert_str_eq(u->rows[0][0], "0");
    /* A name twice in one row counts once; removing rows keeps the others in order. */
    const char *dup[] = {"run", "A", "A"};
    const char *dv[] = {"7", "first", "second"};
    ck_assert_int_eq(batch_table_add_row(u, dup, dv, 3, &added), BASE_OK);
    ck_assert_uint_eq(added, 0);
    ck_assert_str_eq(batch_table_get(u, 3, "A"), "first");
    batch_table_remove_row(u, 0);
    ck_assert_uint_eq(u->n_rows, 3);
    ck_assert_str_eq(batch_table_get(u, 2, "run"), "7");
    batch_table_destroy(&u);
    batch_table_destroy(&t);
}
END_TEST

START_TEST(test_format_and_flatten) {
    char buf[64];
    batch_format_double(1200.0, buf, sizeof buf);
    ck_assert_str_eq(buf, "1200");
    batch_format_double(657.491, buf, sizeof buf);
    ck_assert_str_eq(buf, "657.491");
    batch_format_double(0.1, buf, sizeof buf);
    ck_assert_str_eq(buf, "0.1");
    batch_format_double(-2.5, buf, sizeof buf);
    ck_assert_str_eq(buf, "-2.5");
    batch_format_double(1e-9, buf, sizeof buf);
    ck_assert_str_eq(buf, "1e-09");
    batch_format_double(1.0 / 3.0, buf, sizeof buf);
    ck_assert_double_eq(strtod(buf, NULL), 1.0 / 3.0);
    json_error_t je;
    json_t *doc = json_loads("{\"scenario\": \"bayiqi\", \"seed\": 3, \"escort\": {\"arrived\": "
                             "true, \"travel_time_s\": 412.5, \"id\": \"e1\"},"
                             "\"escorts\": [{\"stops\": 2}, {\"stops\": 0}], \"controller\": null,"
                             "\"traffic\": {\"during_escort\": {\"vehicles\": 10}}}",
                             0, &je);
    ck_assert_ptr_nonnull(doc);
    batch_fields_t f = {0};
    ck_assert_int_eq(batch_fields_flatten(&f, doc, NULL), BASE_OK);
    const char *names[] = {"seed",
                           "escort.arrived",
                           "escort.travel_time_s",
                           "escorts.0.stops",
                           "escorts.1.stops",
                           "traffic.during_escort.vehicles"};
    const char *values[] = {"3", "1", "412.5", "2", "0", "10"};
    ck_assert_uint_eq(f.n, 6);
    for (size_t i = 0; i < 6; i++) {
        ck_assert_str_eq(f.names[i], names[i]);
        ck_assert_str_eq(f.values[i], values[i]);
    }
    batch_fields_clear(&f);
    ck_assert_uint_eq(f.n, 0);
    json_decref(doc);
}
END_TEST

Suite *suite_batch_table(void);

Suite *suite_batch_table(void) {
    Suite *s = suite_create("batch_table");
    TCase *tc = tcase_create("table");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_cut_short);
    tcase_add_test(tc, test_malformed);
    tcase_add_test(tc, test_column_order);
    tcase_add_test(tc, test_format_and_flatten);
    suite_add_tcase(s, tc);
    return s;
}
