/*
 * batch/atspm.h - ATSPM charts from a hi-res event log: the Purdue Coordination Diagram and
 * the split monitor, one PNG of each per signal, drawn with gnuplot (batch/plot.h).
 *
 * Both are computed from the log alone (report/atspm.h reads it) and its config file, as
 * ATSPM computes them from a controller's log and its detector configuration:
 *   - PCD, per phase with advance detectors: a cycle runs from one start of red (Phase End
 *     Yellow, 9) to the next; each vehicle actuation (Detector On, 82) becomes an arrival at
 *     the stop bar after the detector's distance at the approach speed, and is drawn at (time
 *     of day, seconds since its cycle began), green when the phase was green, red otherwise;
 *     the start of green (1) and of yellow (8) are drawn as lines. The title gives the share of
 *     arrivals on green (AoG).
 *   - Split monitor: per phase and cycle, the time from Phase Begin Green (1) to the end of its
 *     clearance (End Red Clearance 11, or End Yellow 9 without red clearance), against the time
 *     of day; cycles cut by a controller force-off (6) or within a preemption (102..104) are
 *     marked.
 * Outputs: DIR/pcd-SIGNAL.{dat,gp,png} and DIR/split-SIGNAL.{dat,gp,png} (SIGNAL with any
 * character outside [A-Za-z0-9_.-] replaced by '_'), and DIR/atspm-summary.csv (per signal and
 * phase: cycles, arrivals, AoG %, mean split). Deterministic for a given log.
 */
#ifndef BATCH_ATSPM_H
#define BATCH_ATSPM_H

#include "base/err.h"
#include "report/atspm.h"

#include <stddef.h>

/* Draws the charts of every signal of log (or only signal id `only` if not NULL) into dir
 * (created if needed) with gnuplot. *n_png counts the PNGs drawn. Returns 0, or BASE_EINVAL
 * (no such signal / nothing to draw), BASE_EIO (cannot write, gnuplot failed), BASE_ENOMEM,
 * with the message in err. */
int batch_atspm_plots(const char *gnuplot, const report_atspm_log_t *log, const char *dir,
                      const char *only, size_t *n_png, base_err_t *err);

#endif
