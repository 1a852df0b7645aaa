/*
 * batch/stats.h - descriptive statistics of a sweep's measures: mean, sample standard
 * deviation, Student-t confidence interval of the mean (GSL's t quantile), median, and the same
 * for paired differences (common random numbers: run i of a strategy and run i of the baseline
 * share a seed, so the difference of each pair is one observation).
 *
 * Pure functions over caller-owned arrays; NaN marks what a sample cannot give (the sd of one
 * value, anything of none). Thread-safe. GSL's error handler must not abort: the functions
 * never pass GSL out-of-domain arguments, but main() should still call
 * gsl_set_error_handler_off().
 */
#ifndef BATCH_STATS_H
#define BATCH_STATS_H

#include <stddef.h>

typedef struct batch_stats {
    size_t n;      /* observations */
    double mean;   /* NaN when n == 0 */
    double sd;     /* sample standard deviation (n - 1); NaN when n < 2 */
    double half;   /* half-width of the confidence interval; NaN when n < 2 */
    double lo, hi; /* mean -+ half */
    double median; /* middle value, or the mean of the two middle values */
    double min, max;
} batch_stats_t;

/* Fills out with the statistics of x[0..n) at confidence level (0.95 for 95 %): the interval
 * is mean +- t(1 - (1 - level) / 2, n - 1) * sd / sqrt(n). Non-finite values are refused.
 * Returns 0, or BASE_EINVAL for a non-finite value or a level outside (0, 1); BASE_ENOMEM. */
int batch_stats_compute(const double *x, size_t n, double level, batch_stats_t *out);

/* Fills out with the statistics of the paired differences x[i] - y[i], i < n (the same seed
 * under two strategies). Same errors as batch_stats_compute(). */
int batch_stats_paired(const double *x, const double *y, size_t n, double level,
                       batch_stats_t *out);

/* Returns the two-sided Student-t quantile for level and df degrees of freedom (2.262 for
 * 0.95 and 9), or NaN when df < 1 or level is outside (0, 1). */
double batch_stats_t_quantile(double level, size_t df);

#endif
