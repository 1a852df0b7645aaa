/*
 * tests/scenarios/test_json_split.c - scenarios/json_split: locating demand.trips in the text,
 * the rest of the document, entries one at a time, and syntax errors at the line and column
 * jansson gives for the whole text.
 */
#include "scenarios/json_split.h"

#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char DOC[] = "{\n"
                          "  \"name\": \"x\",\n"
                          "  \"demand\": {\n"
                          "    \"flows\": [{\"a\": [1, 2]}, \"]\"],\n"
                          "    \"trips\": [\n"
                          "      {\"id\": \"t,0\", \"v\": [1, {\"w\": \"]}\\\"\"}]},\n"
                          "      {\"id\": \"t1\"},\n"
                          "      5,\n"
                          "      {\"id\": \"t3\", \"name\": \"\xe5\x85\xab\"}\n"
                          "    ],\n"
                          "    \"interval_s\": 60\n"
                          "  },\n"
                          "  \"after\": [1]\n"
                          "}\n";

static void find(scn_json_split_t *sp, const char *text) {
    scn_json_split_find(sp, text, strlen(text), "demand", "trips");
}

START_TEST(test_find_counts_entries) {
    scn_json_split_t sp;
    find(&sp, DOC);
    ck_assert_int_eq(sp.found, 1);
    ck_assert_uint_eq(sp.count, 4);
    ck_assert_int_eq(DOC[sp.open], '[');
    ck_assert_int_eq(DOC[sp.close], ']');
    find(&sp, "{\"demand\": {\"trips\": [ \n ]}}");
    ck_assert_int_eq(sp.found, 1);
    ck_assert_uint_eq(sp.count, 0);
    find(&sp, "{\"demand\": {\"trips\": [{}]}}");
    ck_assert_uint_eq(sp.count, 1);
}
END_TEST

/* Anything unexpected: not found, so the caller parses the whole text. */
START_TEST(test_find_not_found) {
    static const char *const texts[] = {
        "",
        "[]",
        "{}",
        "{\"demand\": 5}",
        "{\"demand\": {\"flows\": []}}",
        "{\"demand\": {\"trips\": {}}}",
        "{\"demand\": {\"trips\": [1, 2}}",
        "{\"demand\": {\"trips\": [1, 2",
        "{\"demand\": {\"trips\": [\"1, 2]}}",
        "{\"demand\": {\"tr\\u0069ps\": [1]}}",
        "{\"x\" 1, \"demand\": {\"trips\": [1]}}",
        "{\"x\": 1 \"demand\": {\"trips\": [1]}}",
        "{\"demand\" {\"trips\": [1]}}",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        scn_json_split_t sp;
        find(&sp, texts[i]);
        ck_assert_msg(!sp.found, "found in '%s'", texts[i]);
    }
}
END_TEST

START_TEST(test_rest_and_entries_match_whole) {
    json_error_t je;
    json_t *whole = json_loads(DOC, JSON_REJECT_DUPLICATES, &je);
    ck_assert_msg(whole != NULL, "%s", je.text);
    scn_json_split_t sp;
    find(&sp, DOC);
    json_t *rest = scn_json_split_load_rest(&sp, JSON_REJECT_DUPLICATES, &je);
    ck_assert_msg(rest != NULL, "%d:%d: %s", je.line, je.column, je.text);
    json_t *trips = json_object_get(json_object_get(whole, "demand"), "trips");
    json_t *empty = json_object_get(json_object_get(rest, "demand"), "trips");
    ck_assert(json_is_array(empty) && json_array_size(empty) == 0);
    /* With the entries put back, the rest is the whole document. */
    json_object_set(json_object_get(rest, "demand"), "trips", trips);
    ck_assert(json_equal(rest, whole));
    for (size_t i = 0; i < 4; i++) {
        json_t *e = NULL;
        ck_assert_int_eq(scn_json_split_next(&sp, JSON_REJECT_DUPLICATES, &e, &je), 1);
        ck_assert_msg(json_equal(e, json_array_get(trips, i)), "entry %zu", i);
        json_decref(e);
    }
    json_t *e = NULL;
    ck_assert_int_eq(scn_json_split_next(&sp, JSON_REJECT_DUPLICATES, &e, &je), 0);
    ck_assert_ptr_null(e);
    json_decref(rest);
    json_decref(whole);
}
END_TEST

/* Reads every entry; returns the first error (or fails when there is none). */
static json_error_t split_error(const char *text) {
    scn_json_split_t sp;
    find(&sp, text);
    ck_assert_msg(sp.found, "not found in:\n%s", text);
    json_error_t je;
    json_t *rest = scn_json_split_load_rest(&sp, JSON_REJECT_DUPLICATES, &je);
    if (rest == NULL)
        return je;
    json_decref(rest);
    for (;;) {
        json_t *e = NULL;
        int rc = scn_json_split_next(&sp, JSON_REJECT_DUPLICATES, &e, &je);
        json_decref(e);
        if (rc < 0)
            return je;
        ck_assert_msg(rc == 1, "no error in:\n%s", text);
    }
}

/* DOC with the first occurrence of what replaced by with. */
static char *edit(const char *what, const char *with) {
    const char *at = strstr(DOC, what);
    ck_assert_ptr_nonnull(at);
    size_t n = strlen(DOC) - strlen(what) + strlen(with);
    char *out = malloc(n + 1);
    ck_assert_ptr_nonnull(out);
    size_t head = (size_t)(at - DOC);
    memcpy(out, DOC, head);
    strcpy(out + head, with);
    strcat(out, at + strlen(what));
    return out;
}

/* Syntax errors in an entry, and in the rest, are where jansson puts them in the whole text. */
START_TEST(test_error_positions_as_whole) {
    static const char *const edits[][2] = {
        {"{\"id\": \"t1\"}", "{\"id\": t1}"}, /* first line of an entry */
        {"\"name\": \"\xe5\x85\xab\"}", "\"name\": \"\xe5\x85\xab\" x}"}, /* after a UTF-8 char */
        {"\"v\": [1, {", "\"v\": [1,\n {,"},                 /* a later line of the entry */
        {"{\"id\": \"t1\"}", "{\"id\": \"t1\", \"id\": 2}"}, /* duplicate key */
        {"\"after\": [1]", "\"after\": [1,]"},               /* after the array */
        {"\"name\": \"x\",", "\"name\": x,"},                /* before the array */
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        char *text = edit(edits[i][0], edits[i][1]);
        json_error_t whole;
        json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES, &whole);
        ck_assert_msg(doc == NULL, "edit %zu parses", i);
        json_error_t je = split_error(text);
        ck_assert_msg(je.line == whole.line && je.column == whole.column,
                      "edit %zu: split %d:%d (%s), whole %d:%d (%s)", i, je.line, je.column,
                      je.text, whole.line, whole.column, whole.text);
        free(text);
    }
}
END_TEST

/* Between entries only whitespace and one comma. */
START_TEST(test_separator_errors) {
    static const char *const edits[][2] = {
        {"{\"id\": \"t1\"},", "{\"id\": \"t1\"}"},
        {"{\"id\": \"t1\"},", "{\"id\": \"t1\"},,"},
        {"{\"id\": \"t1\"},", "{\"id\": \"t1\"};"},
        {"\"\xe5\x85\xab\"}\n", "\"\xe5\x85\xab\"},\n"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        char *text = edit(edits[i][0], edits[i][1]);
        json_error_t whole;
        json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES, &whole);
        ck_assert_msg(doc == NULL, "edit %zu parses", i);
        json_error_t je = split_error(text);
        ck_assert_msg(je.line == whole.line, "edit %zu: split line %d (%s), whole line %d (%s)", i,
                      je.line, je.text, whole.line, whole.text);
        free(text);
    }
}
END_TEST

Suite *suite_scenarios_json_split(void);

Suite *suite_scenarios_json_split(void) {
    Suite *s = suite_create("scenarios_json_split");
    TCase *tc = tcase_create("split");
    tcase_add_test(tc, test_find_counts_entries);
    tcase_add_test(tc, test_find_not_found);
    tcase_add_test(tc, test_rest_and_entries_match_whole);
    tcase_add_test(tc, test_error_positions_as_whole);
    tcase_add_test(tc, test_separator_errors);
    suite_add_tcase(s, tc);
    return s;
}
