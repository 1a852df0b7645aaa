/*
 * tests/fuzz/fuzz_sweep.c - the sweep file of greenwave-bench (batch/sweep.c): parsed JSON
 * read into a sweep, finished, its plan walked (every run's key and arguments) and written
 * back as canonical JSON, as the bench does before it starts any run.
 */
#include "batch/sweep.h"
#include "tests/fuzz/fuzz.h"

#include <jansson.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    json_error_t je;
    json_t *doc = json_loadb((const char *)data, size, 0, &je);
    if (doc == NULL)
        return 0;
    batch_sweep_t *sw = batch_sweep_new();
    base_err_t err = {0};
    if (sw != NULL && batch_sweep_load_json(sw, doc, "fuzz.json", &err) == 0 &&
        batch_sweep_finish(sw, &err) == 0) {
        size_t n = batch_sweep_n_runs(sw);
        for (size_t i = 0; i < n && i < 1000; i++) {
            batch_run_t run;
            char key[512];
            batch_sweep_run_at(sw, i, &run);
            batch_sweep_run_key(sw, &run, key, sizeof key);
        }
        json_t *out = batch_sweep_to_json(sw, 0);
        char *text = out != NULL ? json_dumps(out, JSON_SORT_KEYS) : NULL;
        free(text);
        json_decref(out);
    }
    batch_sweep_destroy(&sw);
    json_decref(doc);
    return 0;
}
