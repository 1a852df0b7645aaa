/*
 * tests/import/main.c - runner of the import/ suites (CK_RUN_SUITE selects one).
 */
#include <check.h>
#include <stdlib.h>

Suite *suite_import_sumo_tls(void);
Suite *suite_import_sumo(void);

int main(void) {
    SRunner *sr = srunner_create(suite_import_sumo_tls());
    srunner_add_suite(sr, suite_import_sumo());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
