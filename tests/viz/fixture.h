/*
 * tests/viz/fixture.h - a small network for the viz suites, frames built by hand, and
 * recordings written through proto/frame.h.
 *
 * The network: W -> A -> B -> E along y = 0 (200 m links, two lanes, both directions), a
 * one-lane cross street N -> A -> S; A and B signalized. Groups in map order: 0 A.EW, 1 A.NS,
 * 2 B.EW. Corridor "main" = W_A, A_B, B_E; escort e1 drives it.
 */
#ifndef TESTS_VIZ_FIXTURE_H
#define TESTS_VIZ_FIXTURE_H

#include "proto/frame.h"

#include <stdint.h>
#include <stdio.h>

extern const char VIZ_TEST_MAP[];

enum { G_A_EW = 0, G_A_NS = 1, G_B_EW = 2, N_GROUPS = 3 };
enum { L_W_A = 0, L_A_B = 1, L_B_E = 2 };

/* Fills *f with a frame owning its memory: groups set to `states` (N_GROUPS bytes), n vehicles
 * zeroed, escort e1 travelling. */
void fx_frame(proto_frame_t *f, int64_t seq, int64_t time_ms, const uint8_t *states, int n);

/* Writes a recording of the map and frames at 0, 1, ..., n-1 s (A.EW green before 30 s, red
 * after; vehicle 7 driving the corridor at 10 m/s; the escort from 5 s) plus one event, to
 * path. */
void fx_write_recording(const char *path, int n);

/* A path in the build tree for a test file (one of four static buffers, reused in turn). */
const char *fx_tmp(const char *name);

#endif
