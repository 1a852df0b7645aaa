/*
 * tests/fuzz/fuzz_scenario.c - the scenario loader (scenarios/loader.c), then, for a scenario
 * it accepts, a simulation of its first five minutes (sim/): every number the loader lets in
 * must keep the simulator's integer time arithmetic defined (UBSan aborts on any overflow).
 * The same loader reads the map of a controller's hello, so this covers hello maps too.
 */
#include "scenarios/loader.h"
#include "sim/sim.h"
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    base_err_t err = {0};
    sim_scenario_t *scn = scn_loader_load_string(text, "fuzz.json", &err);
    free(text);
    if (scn == NULL)
        return 0;
    sim_t *sim = sim_new(scn, 1, NULL, &err);
    if (sim != NULL) {
        sim_time_t until = scn->duration < 300000 ? scn->duration : 300000;
        (void)sim_run_until(sim, until);
        (void)sim_stats(sim, 1);
        sim_destroy(&sim);
    }
    sim_scenario_destroy(&scn);
    return 0;
}
