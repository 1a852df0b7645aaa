/*
 * viz/replay.h - random access to a recording (proto/frame.h's file format).
 *
 * Opening reads the whole file once through proto_rec_read: it keeps the first map's JSON, the
 * events, and an index of the frames (file offset, simulated time, escort state); reading frame
 * i later seeks to its offset and decodes it again, so memory stays O(frames), not O(bytes).
 * Any defect (not a recording, another version, a truncated or corrupt record, a frame that does
 * not decode, frames before the map, no frames at all) refuses the whole file with a message
 * naming the file and the defect. The replay owns its FILE and index. Not thread-safe.
 */
#ifndef VIZ_REPLAY_H
#define VIZ_REPLAY_H

#include "base/err.h"
#include "proto/frame.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

typedef struct viz_replay_entry {
    off_t offset;
    int64_t time_ms;
    int escort_state;
} viz_replay_entry_t;

typedef struct viz_replay_event {
    int64_t time_ms;
    char *text;
} viz_replay_event_t;

typedef struct viz_replay {
    FILE *f;
    char *path;
    char *map_json;
    viz_replay_entry_t *frames;
    size_t n_frames;
    viz_replay_event_t *events;
    size_t n_events;
    int64_t escort_start_ms; /* first frame with the escort travelling, -1 if never */
} viz_replay_t;

/* Opens and indexes the recording at path. Returns NULL with BASE_EIO (cannot open) or
 * BASE_EPROTO ("rec.gwrec: recording version 3, this build reads version 1",
 * "rec.gwrec: truncated record at byte 1234", ...) in err. Caller owns the replay. */
viz_replay_t *viz_replay_open(const char *path, base_err_t *err);

/* Closes the file and frees the index; NULL-safe; sets *replay_p to NULL. */
void viz_replay_destroy(viz_replay_t **replay_p);

/* Decodes frame i into *f (caller frees with proto_frame_fini). Returns 0, BASE_ERANGE, or
 * BASE_EIO/BASE_EPROTO if the file changed under us. */
int viz_replay_read(viz_replay_t *r, size_t i, proto_frame_t *f, base_err_t *err);

/* Index of the last frame at or before t_ms (0 if t_ms precedes them all). O(log n). */
size_t viz_replay_find(const viz_replay_t *r, int64_t t_ms);

#endif
