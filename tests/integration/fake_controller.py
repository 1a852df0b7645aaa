#!/usr/bin/env python3
"""A misbehaving controller for the integration tests, written only from docs/protocol.md.

It binds a ROUTER socket and answers the simulator's hello with a welcome. To every tick it
first sends garbage bytes, then a message of an unknown protocol version, then a replay of its
previous control (a stale ack), then an impossible command (an unknown intersection, and a
force-off of the first intersection on every tick, which the simulator's conflict monitor
must refuse whenever the minimum green has not elapsed), and finally a well-formed control.
The simulator must refuse and count the bad ones and keep running.

usage: fake_controller.py ENDPOINT READY_FILE
"""
import json
import sys

import zmq


def main():
    endpoint, ready = sys.argv[1], sys.argv[2]
    ctx = zmq.Context()
    sock = ctx.socket(zmq.ROUTER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.bind(endpoint)
    open(ready, "w").close()  # the socket is bound: the test may start the simulator
    seq = 0
    last = None
    first_signal = None
    while True:
        if not sock.poll(600000):  # a hang guard only: no test outcome rests on it
            return 1  # the simulator went away without a bye
        ident, payload = sock.recv_multipart()
        msg = json.loads(payload)
        seq += 1
        if msg["type"] == "hello":
            nodes = msg["map"]["signals"]
            first_signal = nodes[0]["node"] if nodes else None
            reply = {"type": "welcome", "version": 1, "seq": seq,
                     "strategy": "fake", "controller": "fake_controller.py"}
            sock.send_multipart([ident, json.dumps(reply).encode()])
        elif msg["type"] == "tick":
            sock.send_multipart([ident, b"\x00\xffthis is not json"])
            bad = {"type": "control", "version": 2, "seq": seq, "ack": msg["seq"],
                   "commands": [], "ssm": [], "log": []}
            sock.send_multipart([ident, json.dumps(bad).encode()])
            if last is not None:
                sock.send_multipart([ident, last])
            cmds = [{"intersection": "no-such-node", "action": "hold"}]
            if first_signal is not None:
                cmds.append({"intersection": first_signal, "action": "force-off"})
            good = {"type": "control", "version": 1, "seq": seq, "ack": msg["seq"],
                    "commands": cmds, "ssm": [], "log": ["fake: force-off every tick"]}
            last = json.dumps(good).encode()
            sock.send_multipart([ident, last])
        elif msg["type"] == "bye":
            return 0


if __name__ == "__main__":
    sys.exit(main())
