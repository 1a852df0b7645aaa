/*
 * tests/fuzz/fuzz_msg.c - the message decoder (proto/msg.c): any bytes from a peer (JSON, or
 * MessagePack when the first byte is a map header). A message it accepts must encode again as
 * JSON, and decode and encode to the same bytes (tests/fuzz/roundtrip.c).
 */
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/roundtrip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_msg_roundtrip(data, size, PROTO_ENC_JSON);
    return 0;
}
