/*
 * tests/batch/main.c - runner of the batch/ suites. CK_RUN_SUITE selects one suite (CTest sets
 * it).
 */
#include <check.h>
#include <stdlib.h>

Suite *suite_batch_stats(void);
Suite *suite_batch_sweep(void);
Suite *suite_batch_table(void);
Suite *suite_batch_tsd(void);
Suite *suite_batch_runner(void);
Suite *suite_batch_report(void);
Suite *suite_batch_pair(void);

int main(void) {
    SRunner *sr = srunner_create(suite_batch_stats());
    srunner_add_suite(sr, suite_batch_sweep());
    srunner_add_suite(sr, suite_batch_table());
    srunner_add_suite(sr, suite_batch_tsd());
    srunner_add_suite(sr, suite_batch_runner());
    srunner_add_suite(sr, suite_batch_report());
    srunner_add_suite(sr, suite_batch_pair());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
