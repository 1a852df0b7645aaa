/*
 * tests/batch/test_sweep.c - suite batch_sweep: strategy lists with parameters, seeds, sweep
 * files (grids of parameters, labels, errors naming the place), the plan's order, shards that
 * partition it, controller sets, and the canonical sweep.json read back to the same sweep.
 */
#include "base/err.h"
#include "batch/sweep.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static batch_sweep_t *make(const char *scn, const char *strat, const char *seeds) {
    batch_sweep_t *sw = batch_sweep_new();
    base_err_t err = {0};
    ck_assert_ptr_nonnull(sw);
    ck_assert_msg(batch_sweep_set_scenarios(sw, scn, &err) == 0, "%s", err.msg);
    ck_assert_msg(batch_sweep_set_strategies(sw, strat, &err) == 0, "%s", err.msg);
    ck_assert_msg(batch_sweep_set_seeds(sw, seeds, &err) == 0, "%s", err.msg);
    ck_assert_msg(batch_sweep_finish(sw, &err) == 0, "%s", err.msg);
    return sw;
}

START_TEST(test_strategies) {
    batch_sweep_t *sw = make("scenarios/bayiqi.json,x/grid.json",
                             "none,local:detection_range_s=30.0:transition=dwell,corridor:"
                             "margin=5,route-green:tsp=false",
                             "1-3");
    ck_assert_uint_eq(sw->n_scenarios, 2);
    ck_assert_str_eq(sw->scenarios[0].label, "bayiqi");
    ck_assert_str_eq(sw->scenarios[1].label, "grid");
    ck_assert_uint_eq(sw->n_variants, 4);
    ck_assert_str_eq(sw->variants[0].label, "none");
    /* Parameters in table order, values canonical. */
    ck_assert_str_eq(sw->variants[1].label, "local[transition=dwell,detection_range_s=30]");
    ck_assert_str_eq(sw->variants[1].slug, "local_transition-dwell_detection_range_s-30");
    ck_assert_str_eq(sw->variants[2].label, "corridor[margin_s=5]");
    char buf[256];
    batch_variant_params_text(&sw->variants[1], -1, buf, sizeof buf);
    ck_assert_str_eq(buf, "transition=dwell;detection_range_s=30");
    const char *argv[8];
    size_t n = batch_variant_args(&sw->variants[1], BATCH_PARAM_CONTROLLER, argv, 8);
    ck_assert_uint_eq(n, 4);
    ck_assert_str_eq(argv[0], "--transition");
    ck_assert_str_eq(argv[1], "dwell");
    ck_assert_str_eq(argv[2], "--detection-range");
    ck_assert_str_eq(argv[3], "30");
    n = batch_variant_args(&sw->variants[3], BATCH_PARAM_CONTROLLER, argv, 8);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(argv[0], "--no-tsp");
    batch_sweep_t *on = make("a.json", "corridor:tsp=true", "1");
    n = batch_variant_args(&on->variants[0], BATCH_PARAM_CONTROLLER, argv, 8);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(argv[0], "--tsp");
    batch_sweep_destroy(&on);
    /* Defaults: baseline first, main last; variants without parameters share controller 0. */
    ck_assert_uint_eq(sw->baseline, 0);
    ck_assert_uint_eq(sw->main, 3);
    ck_assert_uint_eq(sw->n_controllers, 4);
    ck_assert_uint_eq(sw->variants[0].controller, 0);
    ck_assert_ptr_nonnull(sw->measures);
    ck_assert_str_eq(sw->measures[0], "escort.travel_time_s");
    batch_sweep_destroy(&sw);
    ck_assert_ptr_null(sw);

    sw = make("a.json", "none,local,corridor,corridor:tick_ms=500", "5");
    ck_assert_uint_eq(sw->n_controllers, 1); /* tick_ms is the simulation's parameter */
    ck_assert_uint_eq(sw->variants[3].controller, 0);
    n = batch_variant_args(&sw->variants[3], BATCH_PARAM_SIM, argv, 8);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(argv[0], "--tick-ms");
    ck_assert_str_eq(argv[1], "500");
    batch_sweep_destroy(&sw);
}
END_TEST

static void refuse_strategies(const char *list, const char *want) {
    batch_sweep_t *sw = batch_sweep_new();
    base_err_t err = {0};
    ck_assert_int_eq(batch_sweep_set_strategies(sw, list, &err), BASE_EINVAL);
    ck_assert_msg(strstr(err.msg, want) != NULL, "'%s': message '%s' lacks '%s'", list, err.msg,
                  want);
    batch_sweep_destroy(&sw);
}

START_TEST(test_strategy_errors) {
    refuse_strategies("none,fast", "unknown strategy 'fast'");
    refuse_strategies("none,,local", "empty item");
    refuse_strategies("local:range=3", "unknown parameter 'range'");
    refuse_strategies("local:transition=sideways", "dwell|shortway|longway");
    refuse_strategies("local:detection_range_s=-1", "[0, 1e6]");
    refuse_strategies("local:detection_range_s=abc", "got 'abc'");
    refuse_strategies("local:tsp=maybe", "true or false");
    refuse_strategies("local:tick_ms=0", "tick_ms");
    refuse_strategies("local:margin_s", "not key=value");
    refuse_strategies("local:margin_s=1:margin=2", "given twice");
    /* Duplicates are found at finish. */
    batch_sweep_t *sw = batch_sweep_new();
    base_err_t err = {0};
    batch_sweep_set_scenarios(sw, "a.json", &err);
    batch_sweep_set_seeds(sw, "1", &err);
    batch_sweep_set_strategies(sw, "local:margin_s=1,local:margin=1.0", &err);
    ck_assert_int_eq(batch_sweep_finish(sw, &err), BASE_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "listed twice"));
    batch_sweep_set_strategies(sw, "none,local", &err);
    batch_sweep_set_baseline(sw, "corridor");
    ck_assert_int_eq(batch_sweep_finish(sw, &err), BASE_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "baseline 'corridor'"));
    batch_sweep_set_baseline(sw, "local");
    batch_sweep_set_main(sw, "none");
    ck_assert_int_eq(batch_sweep_finish(sw, &err), BASE_OK);
    ck_assert_uint_eq(sw->baseline, 1);
    ck_assert_uint_eq(sw->main, 0);
    batch_sweep_set_scenarios(sw, "a/x.json,b/x.json", &err);
    ck_assert_int_eq(batch_sweep_finish(sw, &err), BASE_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "same name"));
    batch_sweep_destroy(&sw);
}
END_TEST

START_TEST(test_seeds) {
    batch_sweep_t *sw = batch_sweep_new();
    base_err_t err = {0};
    ck_assert_int_eq(batch_sweep_set_seeds(sw, "3,1-2,10-12", &err), BASE_OK);
    ck_assert_uint_eq(sw->n_seeds, 6);
    ck_assert_uint_eq(sw->seeds[0], 3);
    ck_assert_uint_eq(sw->seeds[1], 1);
    ck_assert_uint_eq(sw->seeds[5], 12);
    ck_assert_int_eq(batch_sweep_set_seeds(sw, "9223372036854775807", &err), BASE_OK);
    ck_assert_uint_eq(sw->seeds[0], 9223372036854775807ull);
    const char *bad[] = {
        "",          "1,", "a", "5-3", "1-2,2", "-1", "1--2", "1-1e3", "9223372036854775808",
        "0-1000000", NULL};
    for (size_t i = 0; bad[i] != NULL; i++) {
        ck_assert_msg(batch_sweep_set_seeds(sw, bad[i], &err) == BASE_EINVAL, "'%s' accepted",
                      bad[i]);
        ck_assert(strstr(err.msg, "seed") != NULL || strstr(err.msg, "empty") != NULL);
    }
    batch_sweep_destroy(&sw);
}
END_TEST

START_TEST(test_plan_and_shards) {
    batch_sweep_t *sw = make("a.json,b.json", "none,local,corridor", "1-5");
    size_t n = batch_sweep_n_runs(sw);
    ck_assert_uint_eq(n, 30);
    batch_run_t r;
    batch_sweep_run_at(sw, 0, &r);
    ck_assert(r.scenario == 0 && r.variant == 0 && r.seed == 1);
    batch_sweep_run_at(sw, 7, &r); /* scenario a, local, seed 3 */
    ck_assert(r.scenario == 0 && r.variant == 1 && r.seed == 3);
    batch_sweep_run_at(sw, 29, &r);
    ck_assert(r.scenario == 1 && r.variant == 2 && r.seed == 5);
    char key[128];
    batch_sweep_run_key(sw, &r, key, sizeof key);
    ck_assert_str_eq(key, "b/corridor/5");
    /* Shards I/4 partition the plan: each run in exactly one. */
    int count[30] = {0};
    for (unsigned i = 1; i <= 4; i++) {
        char spec[16];
        base_err_t err = {0};
        snprintf(spec, sizeof spec, "%u/4", i);
        ck_assert_int_eq(batch_sweep_set_shard(sw, spec, &err), BASE_OK);
        for (size_t k = 0; k < n; k++)
            count[k] += batch_sweep_in_shard(sw, k);
    }
    for (size_t k = 0; k < n; k++)
        ck_assert_int_eq(count[k], 1);
    base_err_t err = {0};
    const char *bad[] = {"0/4", "5/4", "1/0", "1", "a/b", "1/4x", NULL};
    for (size_t i = 0; bad[i] != NULL; i++)
        ck_assert_int_eq(batch_sweep_set_shard(sw, bad[i], &err), BASE_EINVAL);
    batch_sweep_destroy(&sw);
}
END_TEST

static char *write_tmp(const char *text) {
    char *path = strdup("/tmp/gw-test-sweep-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

START_TEST(test_file_grid) {
    char *path = write_tmp(
        "{\"scenarios\": [\"scenarios/bayiqi.json\"],\n"
        " \"seeds\": \"1-30\",\n"
        " \"strategies\": [\"none\",\n"
        "   {\"strategy\": \"local\", \"label\": \"local-pre\",\n"
        "    \"params\": {\"detection_range_s\": [20, 30.5], \"transition\": [\"dwell\", "
        "\"longway\"]}},\n"
        "   {\"strategy\": \"corridor\", \"params\": {\"margin_s\": 5, \"tsp\": false}}],\n"
        " \"baseline\": \"none\", \"main\": \"corridor\", \"until_s\": 900,\n"
        " \"measures\": [\"escort.travel_time_s\", \"traffic.mean_delay_s\"]}\n");
    batch_sweep_t *sw = batch_sweep_new();
    base_err_t err = {0};
    ck_assert_msg(batch_sweep_load_file(sw, path, &err) == 0, "%s", err.msg);
    ck_assert_msg(batch_sweep_finish(sw, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(sw->n_seeds, 30);
    ck_assert_uint_eq(sw->n_variants, 6); /* none, 2 x 2 local, corridor */
    ck_assert_str_eq(sw->variants[1].label, "local-pre[transition=dwell,detection_range_s=20]");
    ck_assert_str_eq(sw->variants[2].label, "local-pre[transition=dwell,detection_range_s=30.5]");
    ck_assert_str_eq(sw->variants[3].label, "local-pre[transition=longway,detection_range_s=20]");
    ck_assert_str_eq(sw->variants[5].label, "corridor[margin_s=5,tsp=false]");
    ck_assert_uint_eq(sw->main, 5);
    ck_assert_double_eq(sw->until_s, 900);
    ck_assert_uint_eq(sw->n_measures, 2);
    ck_assert_uint_eq(sw->n_controllers, 6);
    /* Canonical JSON, written and read back: the same sweep. */
    char out[64];
    snprintf(out, sizeof out, "%s.out", path);
    ck_assert_int_eq(batch_sweep_write(sw, out, &err), BASE_OK);
    batch_sweep_t *again = batch_sweep_new();
    ck_assert_msg(batch_sweep_load_file(again, out, &err) == 0, "%s", err.msg);
    ck_assert_msg(batch_sweep_finish(again, &err) == 0, "%s", err.msg);
    json_t *a = batch_sweep_to_json(sw, 0), *b = batch_sweep_to_json(again, 0);
    ck_assert(json_equal(a, b));
    ck_assert_str_eq(json_string_value(json_object_get(a, "seeds")), "1-30");
    json_decref(a);
    json_decref(b);
    batch_sweep_destroy(&again);
    batch_sweep_destroy(&sw);
    unlink(out);
    unlink(path);
    free(path);
}
END_TEST

static void refuse_file(const char *text, int code, const char *want) {
    char *path = write_tmp(text);
    batch_sweep_t *sw = batch_sweep_new();
    base_err_t err = {0};
    int rc = batch_sweep_load_file(sw, path, &err);
    if (rc == 0)
        rc = batch_sweep_finish(sw, &err);
    ck_assert_msg(rc == code, "%s: rc %d, want %d (%s)", text, rc, code, err.msg);
    ck_assert_msg(strstr(err.msg, want) != NULL, "message '%s' lacks '%s'", err.msg, want);
    batch_sweep_destroy(&sw);
    unlink(path);
    free(path);
}

START_TEST(test_file_errors) {
    refuse_file("{\"scenarios\": [\"a.json\"],", BASE_EPARSE, "syntax error");
    refuse_file("[]", BASE_EINVAL, "$: must be an object");
    refuse_file("{\"scenario\": []}", BASE_EINVAL, "$.scenario: unknown field");
    refuse_file("{\"scenarios\": []}", BASE_EINVAL, "$.scenarios: must be a non-empty array");
    refuse_file("{\"scenarios\": [1]}", BASE_EINVAL, "$.scenarios[0]");
    refuse_file("{\"strategies\": [{\"strategy\": \"local\", \"params\": {\"x\": 1}}]}",
                BASE_EINVAL, "$.strategies[0].params: unknown parameter \"x\"");
    refuse_file("{\"strategies\": [{\"strategy\": \"local\", \"params\": {\"margin_s\": []}}]}",
                BASE_EINVAL, "empty array");
    refuse_file("{\"strategies\": [{\"strategy\": \"local\", \"colour\": 1}]}", BASE_EINVAL,
                "unknown field \"colour\"");
    refuse_file("{\"strategies\": [{\"strategy\": \"local\", \"label\": \"a b\"}]}", BASE_EINVAL,
                ".label");
    refuse_file("{\"strategies\": [\"warp\"]}", BASE_EINVAL, "$.strategies[0]: unknown strategy");
    refuse_file("{\"seeds\": [1, -2]}", BASE_EINVAL, "$.seeds[1]");
    refuse_file("{\"seeds\": {}}", BASE_EINVAL, "$.seeds: must be");
    refuse_file("{\"until_s\": -1}", BASE_EINVAL, "$.until_s");
    refuse_file("{\"version\": 2}", BASE_EINVAL, "$.version");
    refuse_file("{\"scenarios\": [\"a.json\"], \"strategies\": [\"none\"]}", BASE_EINVAL,
                "no seeds");
    base_err_t err = {0};
    batch_sweep_t *sw = batch_sweep_new();
    ck_assert_int_eq(batch_sweep_load_file(sw, "/nonexistent/sweep.json", &err), BASE_EIO);
    batch_sweep_destroy(&sw);
}
END_TEST

Suite *suite_batch_sweep(void);

Suite *suite_batch_sweep(void) {
    Suite *s = suite_create("batch_sweep");
    TCase *tc = tcase_create("sweep");
    tcase_add_test(tc, test_strategies);
    tcase_add_test(tc, test_strategy_errors);
    tcase_add_test(tc, test_seeds);
    tcase_add_test(tc, test_plan_and_shards);
    tcase_add_test(tc, test_file_grid);
    tcase_add_test(tc, test_file_errors);
    suite_add_tcase(s, tc);
    return s;
}
