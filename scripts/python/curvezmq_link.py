#!/usr/bin/env python3
"""An encrypted-link (CurveZMQ) client written from docs/PROTOCOL.md §9.10 alone, with PyNaCl,
checked against a running node's link listener.

    curvezmq_link.py DATA_DIR HOST PORT SERVER_NODE CLIENT_NODE

DATA_DIR is the data directory of a deployment started with encrypted links (its keys/ and
keyring.yaml); PORT is SERVER_NODE's link port (§9.1). The script dials as CLIENT_NODE with that
node's `compression` key and checks: the handshake completes and READY names SERVER_NODE; a PING
sent as MESSAGE comes back as a PONG; a MESSAGE replayed closes the connection; a client holding
another key gets ERROR; a HELLO boxed to the wrong server key gets no answer. The last line is
`curvezmq-link: N passed, M failed`; the exit status is 0 only when all pass.
"""

import os
import socket
import struct
import sys

import nacl.bindings as sodium

PASSED = []
FAILED = []


def check(name, condition, detail=""):
    (PASSED if condition else FAILED).append(name)
    print(("ok   " if condition else "FAIL ") + name + ("" if condition else f": {detail}"))


def ed25519_seed(data_dir, node):
    with open(os.path.join(data_dir, "keys", node, "compression.key")) as f:
        return bytes.fromhex(f.read().strip())


def keyring_key(data_dir, name):
    with open(os.path.join(data_dir, "keyring.yaml")) as f:
        for line in f:
            if line.startswith(name + ":"):
                return bytes.fromhex(line.split(":", 1)[1].strip())
    raise KeyError(name)


def curve_pair_from_seed(seed):
    pk, sk = sodium.crypto_sign_seed_keypair(seed)
    return sodium.crypto_sign_ed25519_pk_to_curve25519(pk), sodium.crypto_sign_ed25519_sk_to_curve25519(sk)


def metadata(props):
    out = b""
    for name, value in props:
        out += bytes([len(name)]) + name.encode() + struct.pack(">I", len(value)) + value
    return out


def parse_metadata(data):
    props, i = {}, 0
    while i < len(data):
        n = data[i]
        name = data[i + 1 : i + 1 + n].decode().lower()
        i += 1 + n
        (size,) = struct.unpack(">I", data[i : i + 4])
        props[name] = data[i + 4 : i + 4 + size]
        i += 4 + size
    return props


class Conn:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=5)
        self.buf = b""

    def send(self, command):
        self.sock.sendall(struct.pack(">I", len(command)) + command)

    def recv(self):
        """The next command, or None when the server closed the connection."""
        while True:
            if len(self.buf) >= 4:
                (n,) = struct.unpack(">I", self.buf[:4])
                if len(self.buf) >= 4 + n:
                    command, self.buf = self.buf[4 : 4 + n], self.buf[4 + n :]
                    return command
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, socket.timeout):
                return None
            if not chunk:
                return None
            self.buf += chunk


def handshake(conn, client_pk, client_sk, server_pk, node, hello_box_key=None):
    """Runs HELLO..READY; returns (precomputed key, READY metadata, next client nonce) or the
    command that ended it (bytes, or None when closed)."""
    cpk_t, csk_t = sodium.crypto_box_keypair()
    box = sodium.crypto_box(bytes(64), b"CurveZMQHELLO---" + struct.pack(">Q", 1), hello_box_key or server_pk, csk_t)
    hello = bytes([5]) + b"HELLO" + bytes([1, 0]) + bytes(72) + cpk_t + struct.pack(">Q", 1) + box
    assert len(hello) == 200
    conn.send(hello)
    welcome = conn.recv()
    if welcome is None or not welcome.startswith(bytes([7]) + b"WELCOME"):
        return welcome
    assert len(welcome) == 168
    plain = sodium.crypto_box_open(welcome[24:], b"WELCOME-" + welcome[8:24], server_pk, csk_t)
    spk_t, cookie = plain[:32], plain[32:]
    vouch_nonce = os.urandom(16)
    vouch = vouch_nonce + sodium.crypto_box(cpk_t + server_pk, b"VOUCH---" + vouch_nonce, spk_t, client_sk)
    md = metadata([("Node", node.encode()), ("Instance", b"0")])
    ibox = sodium.crypto_box(client_pk + vouch + md, b"CurveZMQINITIATE" + struct.pack(">Q", 2), spk_t, csk_t)
    conn.send(bytes([8]) + b"INITIATE" + cookie + struct.pack(">Q", 2) + ibox)
    ready = conn.recv()
    if ready is None or not ready.startswith(bytes([5]) + b"READY"):
        return ready
    key = sodium.crypto_box_beforenm(spk_t, csk_t)
    nonce = ready[6:14]
    props = parse_metadata(sodium.crypto_box_open_afternm(ready[14:], b"CurveZMQREADY---" + nonce, key))
    return key, props, 3


def message(key, nonce, link_frame):
    n = struct.pack(">Q", nonce)
    return bytes([7]) + b"MESSAGE" + n + sodium.crypto_box_afternm(bytes([0]) + link_frame, b"CurveZMQMESSAGEC" + n, key)


def main():
    data_dir, host, port, server_node, client_node = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
    server_pk = sodium.crypto_sign_ed25519_pk_to_curve25519(keyring_key(data_dir, f"{server_node}/compression"))
    client_pk, client_sk = curve_pair_from_seed(ed25519_seed(data_dir, client_node))

    conn = Conn(host, port)
    result = handshake(conn, client_pk, client_sk, server_pk, client_node)
    check("handshake completes (HELLO 200, WELCOME 168, INITIATE, READY)", isinstance(result, tuple), repr(result))
    if isinstance(result, tuple):
        key, props, nonce = result
        check("READY metadata names the server node", props.get("node") == server_node.encode(), repr(props))
        ping = message(key, nonce, bytes([3]) + struct.pack(">Q", 424242))
        conn.send(ping)
        answer = conn.recv()
        ok = answer is not None and answer.startswith(bytes([7]) + b"MESSAGE")
        if ok:
            n = answer[8:16]
            payload = sodium.crypto_box_open_afternm(answer[16:], b"CurveZMQMESSAGES" + n, key)
            ok = payload == bytes([0, 4]) + struct.pack(">Q", 424242) and struct.unpack(">Q", n)[0] == 2
        check("a PING in MESSAGE comes back as a PONG (server nonce 2)", ok, repr(answer))
        conn.send(ping)
        check("a replayed MESSAGE closes the connection", conn.recv() is None)

    other_pk, other_sk = sodium.crypto_box_keypair()
    conn = Conn(host, port)
    result = handshake(conn, other_pk, other_sk, server_pk, client_node)
    expected = bytes([5]) + b"ERROR" + bytes([len(b"client key not authorized")]) + b"client key not authorized"
    check("a client key that is not the node's gets ERROR", result == expected, repr(result))

    conn = Conn(host, port)
    wrong, _ = sodium.crypto_box_keypair()
    result = handshake(conn, client_pk, client_sk, server_pk, client_node, hello_box_key=wrong)
    check("a HELLO boxed to another server key gets no answer", result is None, repr(result))

    print(f"curvezmq-link: {len(PASSED)} passed, {len(FAILED)} failed")
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
