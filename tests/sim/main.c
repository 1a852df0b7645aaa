/*
 * tests/sim/main.c - runner of the sim/ suites. CK_RUN_SUITE selects one suite (CTest sets it).
 */
#include <check.h>
#include <stdlib.h>

Suite *suite_sim_event_queue(void);
Suite *suite_sim_traffic(void);
Suite *suite_sim_signal_control(void);
Suite *suite_sim_demand(void);
Suite *suite_sim_router(void);
Suite *suite_sim_control(void);
Suite *suite_sim_kinematics(void);

int main(void) {
    SRunner *sr = srunner_create(suite_sim_event_queue());
    srunner_add_suite(sr, suite_sim_traffic());
    srunner_add_suite(sr, suite_sim_signal_control());
    srunner_add_suite(sr, suite_sim_demand());
    srunner_add_suite(sr, suite_sim_router());
    srunner_add_suite(sr, suite_sim_control());
    srunner_add_suite(sr, suite_sim_kinematics());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
