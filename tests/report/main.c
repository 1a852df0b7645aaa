/*
 * tests/report/main.c - runner of the report/ suites. CK_RUN_SUITE selects one suite (CTest
 * sets it).
 */
#include <check.h>
#include <stdlib.h>

Suite *suite_report_atspm(void);

int main(void) {
    SRunner *sr = srunner_create(suite_report_atspm());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
