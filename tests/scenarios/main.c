/*
 * tests/scenarios/main.c - runner of the scenarios/ suites.
 */
#include <check.h>
#include <stdlib.h>

Suite *suite_scenarios_loader(void);
Suite *suite_scenarios_json_split(void);

int main(void) {
    SRunner *sr = srunner_create(suite_scenarios_loader());
    srunner_add_suite(sr, suite_scenarios_json_split());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
