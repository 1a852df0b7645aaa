/*
 * tests/support/support.h - helpers shared by the Check suites: load a scenario from a JSON
 * string (failing the test with the loader's message), and the path of the source tree.
 */
#ifndef TESTS_SUPPORT_H
#define TESTS_SUPPORT_H

#include "scenarios/loader.h"
#include "sim/sim.h"

#include <check.h>

/* Loads a scenario from JSON text; fails the current test with the loader's message. */
sim_scenario_t *gw_test_load(const char *json);

/* Loads JSON text expecting failure; returns the error (code and message). */
base_err_t gw_test_load_error(const char *json);

/* Returns GW_SOURCE_DIR "/" rel in a static buffer (tests are single-threaded). */
const char *gw_test_source_path(const char *rel);

#endif
