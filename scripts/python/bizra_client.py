"""A minimal BMBP/1 client (BIZRA Mesh Bus Protocol), written from docs/PROTOCOL.md.

Depends only on pyzmq and PyNaCl (and the optional `lz4` module for compressed bodies).
Section references (§) are to docs/PROTOCOL.md.
"""

from __future__ import annotations

import os
import random
import stat
import struct
import time
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import zmq
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

MAGIC = b"BZ"
VERSION = 1
FLAG_BATCH = 0x01
FLAG_LZ4 = 0x02
SIGNATURE_BYTES = 64
FIXED_HEADER = struct.Struct(">2sBBQQqH")  # §2.2 offsets 0..29
assert FIXED_HEADER.size == 30

# §2.3 destination kinds
DEST_INSTANCE = 1
DEST_SERVICE = 2
DEST_TOPIC = 3
SCOPE_LOCAL = 0
SCOPE_CLUSTER = 1

# §2.4 record kinds
KIND_MESSAGE = 0
KIND_REQUEST = 1
KIND_REPLY = 2
KIND_ERROR = 3

# §5.4 error codes
ERROR_CODES = {
    1: "noRoute",
    2: "noService",
    3: "noInstance",
    4: "rejected",
    5: "overloaded",
    6: "handlerFailed",
    7: "timedOut",
}

RELAY = b"relay"
HWM = 100_000  # §1.6: the SDK uses the core's high-water mark


class ProtocolError(Exception):
    """A frame that does not parse (the core would call it `malformed`)."""


# ---------------------------------------------------------------------------
# Primitive coding (§2.1)


def str8(text: str) -> bytes:
    raw = text.encode("utf-8")
    if len(raw) > 255:
        raise ValueError(f"str8 field longer than 255 bytes: {text[:40]!r}…")
    return bytes([len(raw)]) + raw


class _Reader:
    def __init__(self, data: bytes, start: int = 0, end: Optional[int] = None):
        self.data = data
        self.pos = start
        self.end = len(data) if end is None else end

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self.end:
            raise ProtocolError(f"truncated at offset {self.pos} (need {n} bytes)")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return struct.unpack(">H", self.take(2))[0]

    def u32(self) -> int:
        return struct.unpack(">I", self.take(4))[0]

    def u64(self) -> int:
        return struct.unpack(">Q", self.take(8))[0]

    def str8(self) -> str:
        n = self.u8()
        try:
            return self.take(n).decode("utf-8")
        except UnicodeDecodeError as e:
            raise ProtocolError(f"invalid UTF-8 in str8: {e}") from None


# ---------------------------------------------------------------------------
# Addresses (§2.3, Terminology)


@dataclass(frozen=True)
class Principal:
    node: str
    component: str
    instance: int

    @property
    def key_name(self) -> str:
        return f"{self.node}/{self.component}"

    def __str__(self) -> str:
        return f"{self.node}/{self.component}#{self.instance}"

    @staticmethod
    def parse(text: str) -> "Principal":
        """`n1/worker#0` -> Principal("n1", "worker", 0)."""
        name, _, inst = text.partition("#")
        node, _, comp = name.partition("/")
        if not node or not comp or not inst:
            raise ValueError(f"not a principal: {text!r}")
        return Principal(node, comp, int(inst))


@dataclass(frozen=True)
class Destination:
    kind: int
    node: str = ""
    name: str = ""  # component (instance), service name (service) or topic (topic)
    instance: int = 0
    scope: int = SCOPE_LOCAL

    @staticmethod
    def to_instance(p: Principal) -> "Destination":
        return Destination(DEST_INSTANCE, node=p.node, name=p.component, instance=p.instance)

    @staticmethod
    def to_service(node: str, service: str) -> "Destination":
        return Destination(DEST_SERVICE, node=node, name=service)

    @staticmethod
    def to_topic(topic: str, scope: int = SCOPE_LOCAL) -> "Destination":
        return Destination(DEST_TOPIC, name=topic, scope=scope)

    @property
    def is_topic(self) -> bool:
        return self.kind == DEST_TOPIC

    def encode(self) -> bytes:
        if self.kind == DEST_INSTANCE:
            return bytes([DEST_INSTANCE]) + str8(self.node) + str8(self.name) + struct.pack(">I", self.instance)
        if self.kind == DEST_SERVICE:
            return bytes([DEST_SERVICE]) + str8(self.node) + str8(self.name)
        if self.kind == DEST_TOPIC:
            return bytes([DEST_TOPIC, self.scope]) + str8(self.name)
        raise ValueError(f"bad destination kind {self.kind}")

    @staticmethod
    def decode(r: _Reader) -> "Destination":
        kind = r.u8()
        if kind == DEST_INSTANCE:
            node, comp, inst = r.str8(), r.str8(), r.u32()
            return Destination(kind, node=node, name=comp, instance=inst)
        if kind == DEST_SERVICE:
            node, svc = r.str8(), r.str8()
            return Destination(kind, node=node, name=svc)
        if kind == DEST_TOPIC:
            scope = r.u8()
            if scope not in (SCOPE_LOCAL, SCOPE_CLUSTER):
                raise ProtocolError(f"bad topic scope {scope}")
            return Destination(kind, name=r.str8(), scope=scope)
        raise ProtocolError(f"bad destination kind {kind}")


# ---------------------------------------------------------------------------
# Frames (§2)


@dataclass
class Record:
    kind: int
    type: str
    correlation: int = 0
    payload: bytes = b""

    def encode(self) -> bytes:
        return (
            bytes([self.kind])
            + str8(self.type)
            + struct.pack(">Q", self.correlation)
            + struct.pack(">I", len(self.payload))
            + bytes(self.payload)
        )


@dataclass
class Envelope:
    """One record as a receiver sees it (Terminology: Envelope)."""

    sender: Principal
    epoch: int
    timestamp: int
    destination: Destination
    sequence: int
    kind: int
    type: str
    correlation: int
    payload: bytes
    verified: Optional[bool] = None  # set by BusClient when it has a keyring

    def error(self) -> Tuple[int, str]:
        """§5.4: (code, reason) of an error reply; unknown/short payloads read as rejected (4)."""
        if len(self.payload) < 2:
            return 4, ""
        code = struct.unpack(">H", self.payload[:2])[0]
        if code not in ERROR_CODES:
            code = 4
        return code, self.payload[2:].decode("utf-8", errors="replace")


@dataclass
class Frame:
    sender: Principal
    epoch: int
    first_sequence: int
    timestamp: int
    destination: Destination
    records: List[Record]
    flags: int = 0
    signature: bytes = b""
    signed_bytes: bytes = b""  # offset 0 up to the signature, as on the wire

    def envelopes(self) -> List[Envelope]:
        return [
            Envelope(
                self.sender,
                self.epoch,
                self.timestamp,
                self.destination,
                self.first_sequence + i,
                r.kind,
                r.type,
                r.correlation,
                r.payload,
            )
            for i, r in enumerate(self.records)
        ]

    def verify(self, verify_key: VerifyKey) -> bool:
        try:
            verify_key.verify(self.signed_bytes, self.signature)
            return True
        except BadSignatureError:
            return False


def encode_frame(
    signing_key: SigningKey,
    sender: Principal,
    epoch: int,
    first_sequence: int,
    timestamp: int,
    destination: Destination,
    records: List[Record],
    compress: bool = False,
) -> bytes:
    """Build and sign one frame (§2.2–§2.5, §8 step 3)."""
    if not records:
        raise ValueError("a frame carries at least one record")
    if first_sequence < 1:
        raise ValueError("sequence numbers start at 1")
    body = b"".join(r.encode() for r in records)
    flags = FLAG_BATCH if len(records) > 1 else 0
    raw_length = b""
    if compress:
        import lz4.block  # optional dependency

        block = lz4.block.compress(body, store_size=False)
        if len(block) < len(body):
            raw_length = struct.pack(">I", len(body))
            body = block
            flags |= FLAG_LZ4
    head = FIXED_HEADER.pack(MAGIC, VERSION, flags, epoch, first_sequence, timestamp, len(records))
    signed = (
        head
        + str8(sender.node)
        + str8(sender.component)
        + struct.pack(">I", sender.instance)
        + destination.encode()
        + struct.pack(">I", len(body))
        + raw_length
        + body
    )
    return signed + signing_key.sign(signed).signature


def decode_frame(data: bytes, max_frame_bytes: int = 1_048_576) -> Frame:
    """Parse one frame (§2.2–§2.5). Does not verify the signature (see Frame.verify)."""
    if len(data) < FIXED_HEADER.size + SIGNATURE_BYTES:
        raise ProtocolError(f"frame of {len(data)} bytes is shorter than 94")
    magic, version, flags, epoch, first, ts, count = FIXED_HEADER.unpack_from(data, 0)
    if magic != MAGIC:
        raise ProtocolError(f"bad magic {magic!r}")
    if version != VERSION:
        raise ProtocolError(f"bad version {version}")
    if flags & ~(FLAG_BATCH | FLAG_LZ4):
        raise ProtocolError(f"unknown flag bits {flags:#04x}")
    if count < 1:
        raise ProtocolError("count 0")
    if bool(flags & FLAG_BATCH) != (count > 1):
        raise ProtocolError(f"BATCH flag disagrees with count {count}")
    sig_at = len(data) - SIGNATURE_BYTES
    r = _Reader(data, FIXED_HEADER.size, sig_at)
    sender = Principal(r.str8(), r.str8(), r.u32())
    dest = Destination.decode(r)
    body_len = r.u32()
    raw_len = r.u32() if flags & FLAG_LZ4 else None
    body = r.take(body_len)
    if r.pos != sig_at:
        raise ProtocolError(f"{sig_at - r.pos} extra bytes between body and signature")
    if raw_len is not None:
        if raw_len <= body_len or raw_len > max_frame_bytes:
            raise ProtocolError(f"LZ4 raw length {raw_len} out of bounds")
        import lz4.block

        try:
            body = lz4.block.decompress(body, uncompressed_size=raw_len)
        except Exception as e:  # noqa: BLE001
            raise ProtocolError(f"LZ4 block does not decode: {e}") from None
        if len(body) != raw_len:
            raise ProtocolError("LZ4 block decodes to the wrong length")
    br = _Reader(body)
    records = []
    for _ in range(count):
        kind = br.u8()
        if kind > KIND_ERROR:
            raise ProtocolError(f"bad record kind {kind}")
        rtype = br.str8()
        corr = br.u64()
        plen = br.u32()
        records.append(Record(kind, rtype, corr, br.take(plen)))
    if br.pos != len(body):
        raise ProtocolError("bytes after the last record")
    return Frame(
        sender, epoch, first, ts, dest, records, flags, data[sig_at:], data[:sig_at]
    )


# ---------------------------------------------------------------------------
# Keys (§6)


def load_seed(path: str) -> bytes:
    """§6.1: 64 lower-case hex digits and a newline; refuse group/other-readable files."""
    mode = os.stat(path).st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise PermissionError(f"{path}: key file is accessible by group or others (mode {mode & 0o777:o})")
    with open(path, "r", encoding="ascii") as f:
        text = f.read()
    hexseed = text.strip()
    if len(hexseed) != 64:
        raise ValueError(f"{path}: expected 64 hex digits, got {len(hexseed)} characters")
    return bytes.fromhex(hexseed)


def load_signing_key(data_dir: str, node: str, component: str) -> SigningKey:
    return SigningKey(load_seed(os.path.join(data_dir, "keys", node, f"{component}.key")))


def load_keyring(path: str) -> dict:
    """§6.2: `<key name>: <64 hex>` lines; '#' comments and blank lines ignored."""
    ring = {}
    with open(path, "r", encoding="utf-8", newline="") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            s = line.strip(" \t")
            if not s or s.startswith("#"):
                continue
            name, sep, key = s.partition(":")
            name, key = name.strip(" \t"), key.strip(" \t")
            if not sep or "/" not in name or len(key) != 64:
                raise ValueError(f"{path}:{lineno}: not a keyring line: {line!r}")
            ring[name] = VerifyKey(bytes.fromhex(key))
    return ring


# ---------------------------------------------------------------------------
# A client connection (§1, §5, §8)


@dataclass
class _Stream:
    next_sequence: int = 1

    def take(self, n: int = 1) -> int:
        first = self.next_sequence
        self.next_sequence += n
        return first


def now_us() -> int:
    return time.time_ns() // 1000


@dataclass
class BusClient:
    data_dir: str
    node: str
    name: str = "py"
    instance: int = field(default_factory=lambda: random.getrandbits(32))
    context: zmq.Context = field(default_factory=zmq.Context.instance)
    keyring: Optional[dict] = None  # key name -> VerifyKey; when set, received frames are verified

    def __post_init__(self):
        self.signing_key = load_signing_key(self.data_dir, "client", self.name)
        self.principal = Principal("client", self.name, self.instance)
        self.epoch = now_us()  # §8 step 2; never reused: a new client gets a new boot time
        self.directed = _Stream()  # §3.2: instance and service destinations
        self.topic_stream = _Stream()  # §3.2: both topic scopes
        self.next_correlation = 1
        run = os.path.join(self.data_dir, "run", self.node)
        self.router_endpoint = "ipc://" + os.path.join(run, "router.sock")
        self.pub_endpoint = "ipc://" + os.path.join(run, "pub.sock")
        self.sub_endpoint = "ipc://" + os.path.join(run, "sub.sock")
        self.dealer = self._socket(zmq.DEALER, self.router_endpoint)
        self.pub: Optional[zmq.Socket] = None
        self.sub: Optional[zmq.Socket] = None
        self.pending: List[Envelope] = []  # envelopes read while waiting for something else

    def _socket(self, kind: int, endpoint: str) -> zmq.Socket:
        s = self.context.socket(kind)
        s.setsockopt(zmq.SNDHWM, HWM)
        s.setsockopt(zmq.RCVHWM, HWM)
        s.setsockopt(zmq.LINGER, 0)
        s.connect(endpoint)
        return s

    def open_pub(self) -> zmq.Socket:
        if self.pub is None:
            self.pub = self._socket(zmq.PUB, self.pub_endpoint)
        return self.pub

    def open_sub(self, *prefixes: str) -> zmq.Socket:
        if self.sub is None:
            self.sub = self._socket(zmq.SUB, self.sub_endpoint)
        for p in prefixes:
            self.sub.setsockopt(zmq.SUBSCRIBE, p.encode("utf-8"))
        return self.sub

    def close(self):
        for s in (self.dealer, self.pub, self.sub):
            if s is not None:
                s.close(0)

    # -- frame building

    def build(self, destination: Destination, records: List[Record], timestamp: Optional[int] = None) -> bytes:
        stream = self.topic_stream if destination.is_topic else self.directed
        first = stream.take(len(records))
        return encode_frame(
            self.signing_key,
            self.principal,
            self.epoch,
            first,
            now_us() if timestamp is None else timestamp,
            destination,
            records,
        )

    def new_correlation(self) -> int:
        c = self.next_correlation
        self.next_correlation += 1
        return c

    # -- sending

    def send_frame(self, frame: bytes):
        """[frame] on the DEALER (§1.3)."""
        self.dealer.send(frame)

    def publish_frame(self, topic: str, frame: bytes):
        """[topic, frame] on the PUB (§1.3)."""
        self.open_pub().send_multipart([topic.encode("utf-8"), frame])

    def publish(self, topic: str, type_: str, payload: bytes, scope: int = SCOPE_LOCAL) -> bytes:
        frame = self.build(Destination.to_topic(topic, scope), [Record(KIND_MESSAGE, type_, 0, payload)])
        self.publish_frame(topic, frame)
        return frame

    def request_frame(self, destination: Destination, type_: str, payload: bytes, correlation: int) -> bytes:
        return self.build(destination, [Record(KIND_REQUEST, type_, correlation, payload)])

    # -- receiving

    def recv_envelopes(self, timeout_ms: int) -> List[Envelope]:
        """Envelopes of the frames that arrive on the DEALER within timeout_ms."""
        out: List[Envelope] = []
        if self.dealer.poll(timeout_ms, zmq.POLLIN):
            while True:
                try:
                    parts = self.dealer.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                if len(parts) != 1:
                    continue  # §1.3: a core sends a client exactly [frame]
                frame = decode_frame(parts[0])
                envs = frame.envelopes()
                if self.keyring is not None:
                    key = self.keyring.get(frame.sender.key_name)
                    ok = key is not None and frame.verify(key)
                    for e in envs:
                        e.verified = ok
                out.extend(envs)
        return out

    def wait_reply(self, correlation: int, timeout_ms: int) -> Optional[Envelope]:
        """The reply or error reply with this correlation id (§5.2), or None on timeout."""
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            for i, env in enumerate(self.pending):
                if env.kind in (KIND_REPLY, KIND_ERROR) and env.correlation == correlation:
                    return self.pending.pop(i)
            left = int((deadline - time.monotonic()) * 1000)
            if left <= 0:
                return None
            self.pending.extend(self.recv_envelopes(left))

    def request(
        self,
        destination: Destination,
        type_: str,
        payload: bytes = b"",
        timeout_ms: int = 1000,
        retries: int = 5,
    ) -> Tuple[Optional[Envelope], bytes]:
        """Send a request, resending with the same correlation and a new sequence number on
        timeout (§5.3). Returns (reply envelope or None, bytes of the first frame sent)."""
        correlation = self.new_correlation()
        first_frame = None
        for _ in range(retries + 1):
            frame = self.request_frame(destination, type_, payload, correlation)
            first_frame = first_frame or frame
            self.send_frame(frame)
            reply = self.wait_reply(correlation, timeout_ms)
            if reply is not None:
                return reply, first_frame
        return None, first_frame

    def recv_topic(self, timeout_ms: int) -> Optional[Tuple[bytes, Frame]]:
        """[topic, frame] from the SUB (§1.3)."""
        if self.sub is None or not self.sub.poll(timeout_ms, zmq.POLLIN):
            return None
        parts = self.sub.recv_multipart()
        if len(parts) != 2:
            return None
        return parts[0], decode_frame(parts[1])
