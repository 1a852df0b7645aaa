/*
 * tests/auth/main.c - runner of the auth/ suites. CK_RUN_SUITE selects one suite (CTest sets
 * it).
 */
#include <check.h>
#include <stdlib.h>

Suite *suite_auth_keys(void);
Suite *suite_auth_zap(void);

int main(void) {
    SRunner *sr = srunner_create(suite_auth_keys());
    srunner_add_suite(sr, suite_auth_zap());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
