/*
 * tests/fuzz/fuzz_msgpack.c - the MessagePack side of the message decoder (proto/msg.c: the
 * bounded pre-scan, msgpack-c, the conversion to the document the field walk reads). Inputs
 * that do not start with a map header are made to (the decoder would read them as JSON, which
 * fuzz_msg covers). A message it accepts must encode again as MessagePack, and decode and
 * encode to the same bytes (a fixed point).
 */
#include "proto/msg.h"
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0 || proto_msg_sniff(data, size) != PROTO_ENC_MSGPACK)
        return 0;
    proto_msg_t msg;
    base_err_t err = {0};
    if (proto_msg_decode(data, size, &msg, &err) < 0)
        return 0;
    size_t len = 0;
    char *once = proto_msg_encode_as(&msg, PROTO_ENC_MSGPACK, &len, &err);
    proto_msg_fini(&msg);
    if (once == NULL)
        abort(); /* accepted by the decoder but refused by the encoder */
    proto_msg_t again;
    if (proto_msg_decode(once, len, &again, &err) < 0)
        abort(); /* our own encoding refused */
    size_t len2 = 0;
    char *twice = proto_msg_encode_as(&again, PROTO_ENC_MSGPACK, &len2, &err);
    proto_msg_fini(&again);
    if (twice == NULL || len2 != len || memcmp(once, twice, len) != 0)
        abort(); /* not a fixed point */
    free(once);
    free(twice);
    return 0;
}
