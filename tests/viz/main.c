/*
 * tests/viz/main.c - runner of the viz/ suites. CK_RUN_SUITE selects one suite (CTest sets it).
 * Only viz_render draws (offscreen, SDL's software renderer); the others run without SDL.
 */
#include <check.h>
#include <stdlib.h>

Suite *suite_viz_map(void);
Suite *suite_viz_project(void);
Suite *suite_viz_tsd(void);
Suite *suite_viz_replay(void);
Suite *suite_viz_live(void);
Suite *suite_viz_context(void);
Suite *suite_viz_render(void);

int main(void) {
    SRunner *sr = srunner_create(suite_viz_map());
    srunner_add_suite(sr, suite_viz_project());
    srunner_add_suite(sr, suite_viz_tsd());
    srunner_add_suite(sr, suite_viz_replay());
    srunner_add_suite(sr, suite_viz_live());
    srunner_add_suite(sr, suite_viz_context());
    srunner_add_suite(sr, suite_viz_render());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
