/*
 * proto/check.h - the physical ranges of the numbers in protocol messages, checked over a
 * decoded (or about to be encoded) proto_msg_t, so that every wire encoding shares them: the
 * JSON decoder calls proto_msg_check() after decoding, any other decoder must do the same, and
 * the encoder calls it first (an encoder never writes what a decoder refuses).
 *
 * Why the bounds make the controller's time arithmetic safe by construction: every absolute
 * time is <= PROTO_TIME_MS_MAX (1e12 ms) and every duration <= PROTO_DURATION_MS_MAX (8.64e7
 * ms), so any sum of up to 9 million of them stays below INT64_MAX (~9.22e18); positions and
 * speeds are finite and bounded, and a speed used as a divisor is compared with a minimum by
 * its user, so no double -> int64 conversion of a quotient overflows. Counters (seq, ack,
 * detector counts) are <= 2^53: exact in a double, and +1 never overflows. Array lengths are
 * bounded by PROTO_MSG_MAX. docs/protocol.md, "Numeric ranges", lists the same table.
 * Thread-safe: no state.
 */
#ifndef PROTO_CHECK_H
#define PROTO_CHECK_H

#include "proto/msg.h"

#define PROTO_TIME_MS_MAX     INT64_C(1000000000000) /* any time on the wire (~31.7 years) */
#define PROTO_DURATION_MS_MAX INT64_C(86400000)      /* tick_ms, an ETA window: one day */
#define PROTO_COUNT_MAX       (INT64_C(1) << 53)     /* seq, ack, detector counts */
#define PROTO_POS_M_MAX       200000.0               /* pos_m: twice the longest link */
#define PROTO_SPEED_MPS_MAX   100.0                  /* speed_mps: 360 km/h */
#define PROTO_PACE_MAX        10000.0 /* a frame's pace (greenwave-sim --realtime's range) */

/* Checks every number of msg against its range. Returns 0, or code with a message naming the
 * field by its wire path and giving the range ("tick.srm[0].requests[1].eta_ms: must be in
 * [0, 1000000000000], got 9223372036854775807"). */
int proto_msg_check(const proto_msg_t *msg, int code, base_err_t *err);

#endif
