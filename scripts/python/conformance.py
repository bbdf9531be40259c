#!/usr/bin/env python3
"""BMBP/1 conformance checks of a running bizra-core, by a client written from docs/PROTOCOL.md.

Usage: conformance.py --data-dir DATA --node n1 [--http-port PORT]

Prints one PASS/FAIL line per check and a final `conformance: N passed, M failed`; exits 1 on
any failure. The node's core and two `worker` instances must be up, and the client identity
`client/py` must exist (`bizra keys gen --client py`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
import urllib.request

sys.dont_write_bytecode = True  # leave no __pycache__ in the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bizra_client import (  # noqa: E402
    KIND_ERROR,
    KIND_REPLY,
    SCOPE_LOCAL,
    BusClient,
    Destination,
    Principal,
    load_keyring,
)


class CheckFailed(Exception):
    pass


def expect(cond, message):
    if not cond:
        raise CheckFailed(message)


class Conformance:
    def __init__(self, data_dir: str, node: str, http_port: int):
        self.data_dir = data_dir
        self.node = node
        self.http_port = http_port
        self.keyring = load_keyring(os.path.join(data_dir, "keyring.yaml"))
        self.client = BusClient(data_dir, node, name="py", keyring=self.keyring)
        self.passed = 0
        self.failed = 0

    # -- helpers

    def status(self) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/status", timeout=5) as r:
            return json.loads(r.read())

    def rejected(self, reason: str) -> int:
        return int(self.status().get("rejected", {}).get(reason, 0))

    def wait_rejected(self, reason: str, above: int, timeout_s: float = 2.0) -> int:
        deadline = time.monotonic() + timeout_s
        while True:
            n = self.rejected(reason)
            if n > above or time.monotonic() > deadline:
                return n
            time.sleep(0.05)

    def request(self, dest: Destination, type_: str, payload: bytes = b"", timeout_ms=1000, retries=3):
        reply, frame = self.client.request(dest, type_, payload, timeout_ms=timeout_ms, retries=retries)
        expect(reply is not None, f"no reply to {type_} at {dest} after {retries + 1} attempts")
        return reply, frame

    def stats(self, instance: int) -> dict:
        p = Principal(self.node, "worker", instance)
        reply, _ = self.request(Destination.to_instance(p), "worker.stats")
        expect(reply.kind == KIND_REPLY, f"worker.stats at {p}: kind {reply.kind}, payload {reply.payload!r}")
        expect(reply.sender == p, f"worker.stats at {p} answered by {reply.sender}")
        return json.loads(reply.payload)

    def run(self, name: str, fn):
        started = time.monotonic()
        try:
            detail = fn()
            self.passed += 1
            print(f"PASS {name} ({(time.monotonic() - started) * 1000:.0f} ms){': ' + detail if detail else ''}")
        except CheckFailed as e:
            self.failed += 1
            print(f"FAIL {name}: {e}")
        except Exception:  # noqa: BLE001
            self.failed += 1
            print(f"FAIL {name}: exception\n{traceback.format_exc()}")
        sys.stdout.flush()

    # -- checks

    def check_service_request(self):
        """(1) worker.work to service `worker` of the node: reply from a worker principal."""
        c = self.client
        corr = c.new_correlation()
        frame = c.request_frame(Destination.to_service(self.node, "worker"), "worker.work", b"hello", corr)
        reply = None
        for _ in range(4):  # resend with the same correlation on timeout (§5.3)
            c.send_frame(frame)
            reply = c.wait_reply(corr, 1000)
            if reply is not None:
                break
            frame = c.request_frame(Destination.to_service(self.node, "worker"), "worker.work", b"hello", corr)
        expect(reply is not None, "no reply")
        expect(reply.kind == KIND_REPLY, f"kind {reply.kind}, payload {reply.payload!r}")
        expect(reply.correlation == corr, f"correlation {reply.correlation} != {corr}")
        expect(reply.type == "worker.work", f"reply type {reply.type!r}")
        expect(
            reply.sender.node == self.node and reply.sender.component == "worker",
            f"reply sender {reply.sender} is not a {self.node}/worker principal",
        )
        expect(reply.destination == Destination.to_instance(c.principal), f"reply addressed to {reply.destination}")
        expect(reply.verified, f"reply signature does not verify against {reply.sender.key_name}")
        body = json.loads(reply.payload)
        expect("instance" in body, f"payload has no instance: {body}")
        return f"answered by {reply.sender}: {reply.payload.decode()}"

    def check_instance_request(self):
        """(2) worker.stats addressed to instance N/worker#0."""
        body = self.stats(0)
        expect("topicMessages" in body, f"payload has no topicMessages: {body}")
        expect(body.get("instance") == 0, f"answered by instance {body.get('instance')}")
        return json.dumps(body)

    def check_topic_to_workers(self):
        """(3) a topic frame to `worker.py` (local) reaches both workers."""
        before = {i: self.stats(i)["topicMessages"] for i in (0, 1)}
        self.client.open_pub()
        time.sleep(0.2)  # let the PUB learn the core's subscription (§1.4) before sending
        deadline = time.monotonic() + 5
        sent = 0
        after = before
        while time.monotonic() < deadline:
            self.client.publish("worker.py", "worker.py", b'{"from":"python"}', scope=SCOPE_LOCAL)
            sent += 1
            time.sleep(0.2)
            after = {i: self.stats(i)["topicMessages"] for i in (0, 1)}
            if all(after[i] > before[i] for i in (0, 1)):
                return f"published {sent}; topicMessages {before} -> {after}"
        raise CheckFailed(f"published {sent}; topicMessages {before} -> {after}")

    def check_own_subscription(self):
        """(4) a SUB on `py.` receives the frame the client publishes to `py.echo`."""
        c = self.client
        c.open_sub("py.")
        c.open_pub()
        time.sleep(0.2)  # subscriptions propagate asynchronously
        payload = os.urandom(16).hex().encode()
        deadline = time.monotonic() + 5
        sent_frames = set()
        while time.monotonic() < deadline:
            frame = c.publish("py.echo", "py.echo", payload)
            sent_frames.add(frame)
            got = c.recv_topic(300)
            if got is not None:
                topic, fr = got
                env = fr.envelopes()[0]
                expect(topic == b"py.echo", f"topic part {topic!r}")
                expect(fr.destination == Destination.to_topic("py.echo"), f"destination {fr.destination}")
                expect(env.payload == payload, f"payload {env.payload!r} != {payload!r}")
                expect(env.sender == c.principal, f"sender {env.sender}")
                raw = fr.signed_bytes + fr.signature
                expect(raw in sent_frames, "delivered bytes differ from the frame sent (§3.4)")
                expect(fr.verify(self.keyring["client/py"]), "signature does not verify")
                return f"received after {len(sent_frames)} publish(es), seq {env.sequence}"
            # nothing yet: publish again (a PUB drops what it sends before it is connected)
        raise CheckFailed(f"nothing received on py. after {len(sent_frames)} publishes")

    def check_bad_signature(self):
        """(5) a flipped signature bit: no reply, rejected["bad_signature"] increases."""
        c = self.client
        before = self.rejected("bad_signature")
        corr = c.new_correlation()
        frame = bytearray(c.request_frame(Destination.to_service(self.node, "worker"), "worker.work", b"x", corr))
        frame[-64] ^= 0x01  # first byte of the signature, lowest bit
        c.send_frame(bytes(frame))
        reply = c.wait_reply(corr, 500)
        expect(reply is None, f"got a reply (kind {reply.kind if reply else None}) to a forged frame")
        after = self.wait_rejected("bad_signature", before)
        expect(after > before, f"rejected.bad_signature {before} -> {after}")
        return f"rejected.bad_signature {before} -> {after}"

    def check_replay(self):
        """(6) the exact bytes of an accepted request, sent again, are rejected as replay."""
        c = self.client
        reply, frame = self.request(Destination.to_service(self.node, "worker"), "worker.work", b"once", retries=0)
        expect(reply.kind == KIND_REPLY, f"first send: kind {reply.kind}")
        before = self.rejected("replay")
        c.send_frame(frame)
        again = c.wait_reply(reply.correlation, 500)
        expect(again is None, "the replayed frame was answered")
        after = self.wait_rejected("replay", before)
        expect(after > before, f"rejected.replay {before} -> {after}")
        return f"rejected.replay {before} -> {after}"

    def check_no_route(self):
        """(7) a request to a service on n2 (no link): error reply noRoute."""
        reply, _ = self.request(Destination.to_service("n2", "worker"), "worker.work", b"x", retries=1)
        expect(reply.kind == KIND_ERROR, f"kind {reply.kind}, payload {reply.payload!r}")
        code, reason = reply.error()
        expect(code == 1, f"code {code} ({reason!r})")
        expect("no route to n2" in reason, f"reason {reason!r}")
        expect(reply.sender == Principal(self.node, "core", 0), f"error reply signed by {reply.sender}")
        expect(reply.verified, "error reply signature does not verify against the core's key")
        return f"code {code}: {reason}"

    def main(self) -> int:
        checks = [
            ("1 service request worker.work", self.check_service_request),
            ("2 instance request worker.stats", self.check_instance_request),
            ("3 topic worker.py reaches both workers", self.check_topic_to_workers),
            ("4 own SUB receives own py.echo", self.check_own_subscription),
            ("5 flipped signature bit rejected", self.check_bad_signature),
            ("6 replayed frame rejected", self.check_replay),
            ("7 no route to n2", self.check_no_route),
        ]
        for name, fn in checks:
            self.run(name, fn)
        self.client.close()
        print(f"conformance: {self.passed} passed, {self.failed} failed")
        return 0 if self.failed == 0 else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--node", default="n1")
    ap.add_argument(
        "--http-port",
        type=int,
        help="the core's HTTP port (portBase + 0); default: $BIZRA_PORT_BASE, which is n1's portBase "
        "under the embedded config",
    )
    args = ap.parse_args()
    port = args.http_port or int(os.environ.get("BIZRA_PORT_BASE", "0"))
    if not port:
        print("conformance: the core's HTTP port is needed (--http-port or BIZRA_PORT_BASE)", file=sys.stderr)
        return 2
    return Conformance(args.data_dir, args.node, port).main()


if __name__ == "__main__":
    sys.exit(main())
