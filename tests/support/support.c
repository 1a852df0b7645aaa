/*
 * tests/support/support.c - see support.h.
 */
#include "tests/support/support.h"

#include <stdio.h>

sim_scenario_t *gw_test_load(const char *json) {
    base_err_t err = {0};
    sim_scenario_t *scn = scn_loader_load_string(json, "test.json", &err);
    ck_assert_msg(scn != NULL, "load failed: %s", err.msg);
    return scn;
}

base_err_t gw_test_load_error(const char *json) {
    base_err_t err = {0};
    sim_scenario_t *scn = scn_loader_load_string(json, "test.json", &err);
    ck_assert_msg(scn == NULL, "expected the loader to refuse the scenario");
    return err;
}

const char *gw_test_source_path(const char *rel) {
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", GW_SOURCE_DIR, rel);
    return buf;
}
