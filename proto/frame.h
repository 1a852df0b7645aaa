/*
 * proto/frame.h - what the simulator publishes for the visualiser and any other subscriber
 * (ZeroMQ PUB, topic-prefixed multipart messages), and the recording file that stores the
 * same messages, so that the live stream and a replay share one decoder.
 *
 * Messages (each a multipart message whose first part is the topic):
 *   ["map",   JSON]          the map: a scenario document without demand, plus
 *                            "frame_version"; sent first, and again every few seconds for
 *                            subscribers that join late
 *   ["frame", JSON, BINARY]  one picture of the run: the JSON header (time, pace, escort,
 *                            priority states, last decisions) and a compact little-endian
 *                            body: one byte per signal group (map order: signals, then their
 *                            groups), then 16 bytes per vehicle (proto_vehicle_t)
 *   ["event", JSON]          something worth a line: {"time_ms", "text"}
 * Vehicle frames are binary because a 10 000-vehicle frame is 160 kB this way against about
 * 700 kB of JSON, and decodes without allocation (docs/protocol.md, "Published frames").
 *
 * A recording is the file magic "GWREC" + version byte + "\n", then each message as
 * u32 part count, then per part u32 length + bytes (little-endian). A truncated recording or
 * one of another version is refused with a clear error, never read past its end.
 *
 * Decoded frames own their memory (proto_frame_fini). Thread-safe: no shared state.
 */
#ifndef PROTO_FRAME_H
#define PROTO_FRAME_H

#include "base/err.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PROTO_FRAME_VERSION 1
#define PROTO_REC_VERSION   1
#define PROTO_MAX_PARTS     4
#define PROTO_PART_MAX      (64u * 1024 * 1024)

/* Vehicle flags. */
#define PROTO_VEH_QUEUED  0x01 /* standing in a queue at the stop line */
#define PROTO_VEH_ESCORT  0x02
#define PROTO_VEH_WAITING 0x04 /* waiting outside the network to enter */

/* One vehicle in a frame: 16 bytes on the wire, little-endian. */
typedef struct proto_vehicle {
    uint32_t id;
    int32_t link;   /* index in the map's links */
    float pos_m;    /* distance from the start of the link to its front */
    uint8_t lane;   /* 0 = rightmost */
    uint8_t vclass; /* index in the map's vehicle classes (defaults: car, bus, motorbike, escort) */
    uint8_t flags;
    uint8_t reserved;
} proto_vehicle_t;

/* Priority state of a signal on an escort's route, as the visualiser marks it. */
typedef enum {
    PROTO_PRIO_NONE = 0,
    PROTO_PRIO_REQUESTED,  /* the escort's SRM lists it */
    PROTO_PRIO_GRANTED,    /* the controller has taken it (external) */
    PROTO_PRIO_SERVING,    /* the escort's movement shows green under priority */
    PROTO_PRIO_RECOVERING, /* released, returning to coordination */
} proto_prio_t;

typedef struct proto_frame {
    int64_t seq;
    int64_t time_ms;
    double speed; /* pace: simulated seconds per wall second (0: as fast as possible) */
    int paused;
    /* The first escort (has_escort = 0 when the scenario has none). */
    int has_escort;
    char escort_id[64];
    int escort_state;         /* 0 waiting, 1 travelling, 2 arrived */
    int64_t escort_depart_ms; /* -1 before departure */
    int64_t escort_arrive_ms; /* -1 before arrival */
    int64_t escort_eta_ms;    /* estimated arrival at the end of its route, -1 unknown */
    double escort_free_flow_s;
    /* Priority state per signal (map order), n_signals entries. */
    uint8_t *prio;
    int32_t n_signals;
    /* Decisions since the previous frame, newest last. */
    char **decisions;
    int32_t n_decisions;
    /* Body. */
    uint8_t *group_states; /* sim_signal_state_t per group: 0 dark, 1 red, 2 yellow, 3 green */
    int32_t n_group_states;
    proto_vehicle_t *vehicles;
    int32_t n_vehicles;
} proto_frame_t;

/* A multipart message: parts point into owned buffers (proto_parts_fini). */
typedef struct proto_parts {
    int n;
    unsigned char *data[PROTO_MAX_PARTS];
    size_t len[PROTO_MAX_PARTS];
} proto_parts_t;

/* Frees the parts' buffers and zeroes them. */
void proto_parts_fini(proto_parts_t *p);

/* Encodes a frame as ["frame", header JSON, body]. Returns 0 or BASE_ENOMEM/BASE_EINVAL. */
int proto_frame_encode(const proto_frame_t *f, proto_parts_t *out, base_err_t *err);

/* Encodes ["map", JSON] from the map's JSON text (a scenario document without demand). */
int proto_map_encode(const char *map_json, proto_parts_t *out, base_err_t *err);

/* Encodes ["event", {"time_ms", "text"}]. */
int proto_event_encode(int64_t time_ms, const char *text, proto_parts_t *out, base_err_t *err);

/* Returns the topic of a message ("frame", "map", "event"), or NULL if the first part is not
 * one of them. */
const char *proto_parts_topic(const proto_parts_t *p);

/* Decodes a "frame" message into *f (owning its memory). Returns 0 or BASE_EPROTO with the
 * reason (wrong version, body length not matching the counts, ...). */
int proto_frame_decode(const proto_parts_t *p, proto_frame_t *f, base_err_t *err);

/* Frees a decoded frame; safe on a zeroed one. */
void proto_frame_fini(proto_frame_t *f);

/* Returns the map JSON text of a "map" message (malloc'd, caller frees), or NULL with
 * BASE_EPROTO. */
char *proto_map_decode(const proto_parts_t *p, base_err_t *err);

/* Decodes an "event" message: time and text (malloc'd, caller frees). */
int proto_event_decode(const proto_parts_t *p, int64_t *time_ms, char **text, base_err_t *err);

/* ---- recordings -------------------------------------------------------------------- */

/* Writes the file header to f. Returns 0 or BASE_EIO. */
int proto_rec_write_header(FILE *f, base_err_t *err);

/* Appends one message. Returns 0 or BASE_EIO. */
int proto_rec_write(FILE *f, const proto_parts_t *p, base_err_t *err);

/* Checks the file header. Returns 0, or BASE_EPROTO ("not a greenwave recording",
 * "recording version 3, this build reads version 1"). */
int proto_rec_read_header(FILE *f, base_err_t *err);

/* Reads the next message into *p. Returns 1, 0 at a clean end of file, or BASE_EPROTO for
 * a truncated or corrupt record (naming its byte offset). */
int proto_rec_read(FILE *f, proto_parts_t *p, base_err_t *err);

#endif
