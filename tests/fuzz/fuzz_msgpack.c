/*
 * tests/fuzz/fuzz_msgpack.c - the MessagePack side of the message decoder (proto/msg.c: the
 * bounded pre-scan, msgpack-c, the conversion to the document the field walk reads). Inputs
 * that do not start with a map header are skipped (the decoder reads them as JSON, which
 * fuzz_msg covers). A message it accepts must encode again as MessagePack, and decode and
 * encode to the same bytes (tests/fuzz/roundtrip.c).
 */
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/roundtrip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 0 && proto_msg_sniff(data, size) == PROTO_ENC_MSGPACK)
        fuzz_msg_roundtrip(data, size, PROTO_ENC_MSGPACK);
    return 0;
}
