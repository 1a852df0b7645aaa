/*
 * scenarios/loader.h - reads a scenario file (docs/scenario-format.md) into a prepared,
 * routed sim_scenario_t.
 *
 * The JSON is parsed by jansson; every field is then checked against the format with its
 * JSON path, so an error reads "bayiqi.json: $.links[3].lanes: must be an integer >= 1, got
 * 0", and a syntax error reads "bayiqi.json:12:7: syntax error: ...". Unknown fields are
 * errors. The loader builds the scenario only through sim/sim.h. Thread-safe: no shared state.
 * Memory: demand.trips is read one trip at a time from the text rather than as one jansson
 * tree (scenarios/json_split.h), and the text and tree are freed before routing; a syntax error
 * inside a trip is therefore reported after any content error in the network before it.
 */
#ifndef SCN_LOADER_H
#define SCN_LOADER_H

#include "base/err.h"
#include "sim/sim.h"

/* Loads and checks the scenario in the file at path. Returns a prepared scenario with routes
 * (caller owns it: sim_scenario_destroy), or NULL with the message in err: BASE_EIO when the
 * file cannot be read, BASE_EPARSE on a JSON syntax error, BASE_EINVAL on any content error. */
sim_scenario_t *scn_loader_load_file(const char *path, base_err_t *err);

/* The same from text in memory; name stands for the file name in messages. */
sim_scenario_t *scn_loader_load_string(const char *text, const char *name, base_err_t *err);

#endif
