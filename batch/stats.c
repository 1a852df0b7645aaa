/*
 * batch/stats.c - mean and variance in two passes (the second over deviations from the mean,
 * which keeps the variance exact to rounding for values far from zero, such as travel times
 * of hundreds of seconds that differ by tenths), the median from a sorted copy, and the
 * t interval from gsl_cdf_tdist_Pinv. O(n log n) for the median; fine for any sweep size.
 */
#include "batch/stats.h"

#include "base/err.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

double batch_stats_t_quantile(double level, size_t df) {
    if (df < 1 || !(level > 0 && level < 1))
        return NAN;
    return gsl_cdf_tdist_Pinv(1.0 - (1.0 - level) / 2.0, (double)df);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int batch_stats_compute(const double *x, size_t n, double level, batch_stats_t *out) {
    out->n = n;
    out->mean = out->sd = out->half = out->lo = out->hi = NAN;
    out->median = out->min = out->max = NAN;
    if (!(level > 0 && level < 1))
        return BASE_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return BASE_EINVAL;
    if (n == 0)
        return BASE_OK;
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += x[i];
    double mean = sum / (double)n;
    out->mean = mean;
    if (n >= 2) {
        double ss = 0, comp = 0;
        for (size_t i = 0; i < n; i++) {
            ss += (x[i] - mean) * (x[i] - mean);
            comp += x[i] - mean;
        }
        /* Corrected two-pass formula: comp is zero in exact arithmetic. */
        double var = (ss - comp * comp / (double)n) / (double)(n - 1);
        out->sd = sqrt(var > 0 ? var : 0);
        out->half = batch_stats_t_quantile(level, n - 1) * out->sd / sqrt((double)n);
        out->lo = mean - out->half;
        out->hi = mean + out->half;
    }
    double *s = malloc(n * sizeof *s);
    if (s == NULL)
        return BASE_ENOMEM;
    memcpy(s, x, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    out->min = s[0];
    out->max = s[n - 1];
    out->median = n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0;
    free(s);
    return BASE_OK;
}

int batch_stats_paired(const double *x, const double *y, size_t n, double level,
                       batch_stats_t *out) {
    double *d = malloc((n > 0 ? n : 1) * sizeof *d);
    if (d == NULL) {
        memset(out, 0, sizeof *out);
        return BASE_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        d[i] = x[i] - y[i];
    int rc = batch_stats_compute(d, n, level, out);
    free(d);
    return rc;
}
