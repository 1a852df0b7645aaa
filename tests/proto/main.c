/*
 * tests/proto/main.c - runner of the proto/ suites. CK_RUN_SUITE selects one suite (CTest sets
 * it).
 */
#include <check.h>
#include <stdlib.h>

Suite *suite_proto_msg(void);
Suite *suite_proto_frame(void);

int main(void) {
    SRunner *sr = srunner_create(suite_proto_msg());
    srunner_add_suite(sr, suite_proto_frame());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
