/*
 * tests/controller/main.c - runner of the controller/ suites. CK_RUN_SUITE selects one suite
 * (CTest sets it).
 */
#include <check.h>
#include <stdlib.h>

Suite *suite_ctl(void);
Suite *suite_ctl_view(void);
Suite *suite_ctl_actuated(void);
Suite *suite_ctl_local(void);
Suite *suite_ctl_corridor(void);
Suite *suite_ctl_route_green(void);
Suite *suite_ctl_tsp(void);
Suite *suite_ctl_safety(void);
Suite *suite_ctl_closed_loop(void);
Suite *suite_bridge_pub(void);

int main(void) {
    SRunner *sr = srunner_create(suite_ctl());
    srunner_add_suite(sr, suite_ctl_view());
    srunner_add_suite(sr, suite_ctl_actuated());
    srunner_add_suite(sr, suite_ctl_local());
    srunner_add_suite(sr, suite_ctl_corridor());
    srunner_add_suite(sr, suite_ctl_route_green());
    srunner_add_suite(sr, suite_ctl_tsp());
    srunner_add_suite(sr, suite_ctl_safety());
    srunner_add_suite(sr, suite_ctl_closed_loop());
    srunner_add_suite(sr, suite_bridge_pub());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
