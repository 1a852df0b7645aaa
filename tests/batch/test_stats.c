/*
 * tests/batch/test_stats.c - suite batch_stats: mean, sample sd, t interval, median and paired
 * differences against values computed by hand for tiny inputs; the t quantiles against
 * printed tables; empty, single and non-finite inputs.
 */
#include "base/err.h"
#include "batch/stats.h"

#include <check.h>
#include <math.h>

#define EPS 1e-9

START_TEST(test_quantiles) {
    /* Two-sided 95 % Student-t quantiles from any printed table. */
    ck_assert_double_eq_tol(batch_stats_t_quantile(0.95, 1), 12.7062047361747, 1e-9);
    ck_assert_double_eq_tol(batch_stats_t_quantile(0.95, 2), 4.30265272974946, 1e-9);
    ck_assert_double_eq_tol(batch_stats_t_quantile(0.95, 7), 2.36462425159278, 1e-9);
    ck_assert_double_eq_tol(batch_stats_t_quantile(0.95, 9), 2.26215716279820, 1e-9);
    ck_assert_double_eq_tol(batch_stats_t_quantile(0.95, 29), 2.04522964213270, 1e-9);
    ck_assert_double_eq_tol(batch_stats_t_quantile(0.99, 9), 3.24983554159213, 1e-9);
    ck_assert(isnan(batch_stats_t_quantile(0.95, 0)));
    ck_assert(isnan(batch_stats_t_quantile(1.0, 5)));
    ck_assert(isnan(batch_stats_t_quantile(0.0, 5)));
}
END_TEST

START_TEST(test_by_hand) {
    /* 2 4 4 4 5 5 7 9: sum 40, mean 5; squared deviations 9+1+1+1+0+0+4+16 = 32; sample
     * variance 32/7, sd 2.13808993529939; half-width t(0.975, 7) * sd / sqrt(8) =
     * 2.36462425159278 * 2.13808993529939 / 2.82842712474619 = 1.78748791823621. */
    const double x[] = {2, 4, 4, 4, 5, 5, 7, 9};
    batch_stats_t s;
    ck_assert_int_eq(batch_stats_compute(x, 8, 0.95, &s), BASE_OK);
    ck_assert_uint_eq(s.n, 8);
    ck_assert_double_eq_tol(s.mean, 5.0, EPS);
    ck_assert_double_eq_tol(s.sd, 2.13808993529939, 1e-12);
    ck_assert_double_eq_tol(s.half, 1.78748791823621, 1e-11);
    ck_assert_double_eq_tol(s.lo, 5.0 - 1.78748791823621, 1e-11);
    ck_assert_double_eq_tol(s.hi, 5.0 + 1.78748791823621, 1e-11);
    ck_assert_double_eq_tol(s.median, 4.5, EPS);
    ck_assert_double_eq_tol(s.min, 2, EPS);
    ck_assert_double_eq_tol(s.max, 9, EPS);
    /* Odd count: the middle value, whatever the order. */
    const double y[] = {9, 1, 5};
    ck_assert_int_eq(batch_stats_compute(y, 3, 0.95, &s), BASE_OK);
    ck_assert_double_eq_tol(s.median, 5, EPS);
    ck_assert_double_eq_tol(s.mean, 5, EPS);
    ck_assert_double_eq_tol(s.sd, 4, EPS);
}
END_TEST

START_TEST(test_large_offset) {
    /* Travel times of ~1e6 s differing by tenths: the two-pass variance stays exact. */
    const double x[] = {1e6 + 0.1, 1e6 + 0.2, 1e6 + 0.3};
    batch_stats_t s;
    ck_assert_int_eq(batch_stats_compute(x, 3, 0.95, &s), BASE_OK);
    ck_assert_double_eq_tol(s.sd, 0.1, 1e-9);
}
END_TEST

START_TEST(test_paired) {
    /* 10 12 15 against 8 11 11: differences 2 1 4, mean 7/3; deviations -1/3 -4/3 5/3, sum of
     * squares 14/3, variance 7/3, sd 1.52752523165195; half-width 4.30265272974946 *
     * 1.52752523165195 / sqrt(3) = 3.79458303359676. */
    const double x[] = {10, 12, 15}, y[] = {8, 11, 11};
    batch_stats_t d;
    ck_assert_int_eq(batch_stats_paired(x, y, 3, 0.95, &d), BASE_OK);
    ck_assert_uint_eq(d.n, 3);
    ck_assert_double_eq_tol(d.mean, 7.0 / 3.0, EPS);
    ck_assert_double_eq_tol(d.sd, 1.52752523165195, 1e-12);
    ck_assert_double_eq_tol(d.half, 3.79458303359676, 1e-11);
    ck_assert_double_eq_tol(d.median, 2, EPS);
    /* The paired interval is much narrower than the unpaired spread suggests. */
    batch_stats_t sx;
    ck_assert_int_eq(batch_stats_compute(x, 3, 0.95, &sx), BASE_OK);
    ck_assert(d.half < sx.half);
}
END_TEST

START_TEST(test_degenerate) {
    batch_stats_t s;
    ck_assert_int_eq(batch_stats_compute(NULL, 0, 0.95, &s), BASE_OK);
    ck_assert_uint_eq(s.n, 0);
    ck_assert(isnan(s.mean) && isnan(s.sd) && isnan(s.lo) && isnan(s.median));
    const double one[] = {42};
    ck_assert_int_eq(batch_stats_compute(one, 1, 0.95, &s), BASE_OK);
    ck_assert_double_eq(s.mean, 42);
    ck_assert_double_eq(s.median, 42);
    ck_assert(isnan(s.sd) && isnan(s.half));
    const double same[] = {3, 3, 3};
    ck_assert_int_eq(batch_stats_compute(same, 3, 0.95, &s), BASE_OK);
    ck_assert_double_eq(s.sd, 0);
    ck_assert_double_eq(s.lo, 3);
    ck_assert_double_eq(s.hi, 3);
    const double bad[] = {1, NAN, 3};
    ck_assert_int_eq(batch_stats_compute(bad, 3, 0.95, &s), BASE_EINVAL);
    const double inf[] = {1, INFINITY};
    ck_assert_int_eq(batch_stats_compute(inf, 2, 0.95, &s), BASE_EINVAL);
    ck_assert_int_eq(batch_stats_compute(same, 3, 1.5, &s), BASE_EINVAL);
    ck_assert_int_eq(batch_stats_paired(same, same, 0, 0.95, &s), BASE_OK);
    ck_assert(isnan(s.mean));
}
END_TEST

Suite *suite_batch_stats(void);

Suite *suite_batch_stats(void) {
    Suite *s = suite_create("batch_stats");
    TCase *tc = tcase_create("stats");
    tcase_add_test(tc, test_quantiles);
    tcase_add_test(tc, test_by_hand);
    tcase_add_test(tc, test_large_offset);
    tcase_add_test(tc, test_paired);
    tcase_add_test(tc, test_degenerate);
    suite_add_tcase(s, tc);
    return s;
}
