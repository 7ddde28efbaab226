"""Container healthchecks: `healthcheck.py ROLE`, exit 0 when ready.

The master is ready when it is ALIVE; a worker when it has registered with
the master. So `docker compose up --wait` returns once every worker is
registered, whatever their number, and resizing (`--scale worker=N`)
never touches the master's configuration: the master is not recreated.
The Connect server is ready when it answers a SQL command (SHOW DATABASES:
parsed, analysed and run by the server itself, so no executor is held) over
gRPC with its token; the image has no gRPC library (the server is JVM-side),
so the call is made here with the standard library: HTTP/2 without TLS, one
stream, protobuf encoded by hand.
"""

import json
import os
import socket
import sys


def get_json(port: int, path: str):
    """GET http://127.0.0.1:PORT/PATH as JSON, over a plain socket: Docker runs
    this every few seconds in every container, and urllib's imports (ssl,
    email, http) cost five times the rest of the check."""
    with socket.create_connection(("127.0.0.1", port), timeout=3) as connection:
        connection.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
        answer = b"".join(iter(lambda: connection.recv(65536), b""))
    head, _, body = answer.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].decode(errors="replace")
    if status.split()[1:2] != ["200"]:
        raise OSError(f"GET {path}: {status}")
    return json.loads(body)


# Spark Connect's ExecutePlan, by hand (field numbers from spark/connect/*.proto).
CONNECT_PATH = "/spark.connect.SparkConnectService/ExecutePlan"
# One session for every check of this container, so checks do not pile up sessions
# (uuid5 of the URL "sparklab:connect-healthcheck").
CHECK_SESSION = "3d9c3ac3-3e15-5b24-a7f2-9d07b30bc499"


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _fields(message: bytes):
    """(number, value) of a protobuf message's top-level fields."""
    at = 0
    while at < len(message):
        key, at = _read_varint(message, at)
        number, kind = key >> 3, key & 7
        if kind == 0:
            value, at = _read_varint(message, at)
        elif kind == 2:
            size, at = _read_varint(message, at)
            value, at = message[at : at + size], at + size
        elif kind in (1, 5):
            size = 8 if kind == 1 else 4
            value, at = message[at : at + size], at + size
        else:
            raise ValueError(f"protobuf wire type {kind}")
        yield number, value


def _read_varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def _hpack(name: str, value: str) -> bytes:
    """A header as an HPACK literal without indexing, new name, no Huffman."""

    def string(text: str) -> bytes:
        raw = text.encode()
        if len(raw) < 127:
            return bytes([len(raw)]) + raw
        rest, out = len(raw) - 127, bytearray([127])
        while rest >= 128:
            out.append(rest & 0x7F | 0x80)
            rest >>= 7
        return bytes([*out, rest]) + raw

    return b"\x00" + string(name) + string(value)


def _frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") + payload


def connect_command(port: int, token: str, sql: str = "SHOW DATABASES", timeout: float = 8) -> int:
    """Run the SQL command `sql` through the Connect server on localhost:port;
    returns how many results (SqlCommandResult) it answered with."""
    # Plan.command.sql_command.input.sql.query
    plan = _field(2, _field(5, _field(6, _field(10, _field(1, sql.encode())))))
    request = (
        _field(1, CHECK_SESSION.encode())
        + _field(2, _field(1, b"sparklab-healthcheck"))  # user_context.user_id
        + _field(3, plan)
        + _field(4, b"sparklab-healthcheck")  # client_type
    )
    headers = b"".join(
        _hpack(name, value)
        for name, value in (
            (":method", "POST"),
            (":scheme", "http"),
            (":path", CONNECT_PATH),
            (":authority", f"localhost:{port}"),
            ("content-type", "application/grpc"),
            ("te", "trailers"),
            ("authorization", f"Bearer {token}"),
        )
    )
    body = b"\x00" + len(request).to_bytes(4, "big") + request
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
            + _frame(4, 0, 0)  # SETTINGS
            + _frame(1, 0x4, 1, headers)  # HEADERS, END_HEADERS
            + _frame(0, 0x1, 1, body)  # DATA, END_STREAM
        )
        buffer, data, status = b"", b"", b""
        while True:
            while len(buffer) < 9 or len(buffer) < 9 + int.from_bytes(buffer[:3], "big"):
                chunk = sock.recv(65536)
                if not chunk:
                    raise OSError("the server closed the connection")
                buffer += chunk
            size = int.from_bytes(buffer[:3], "big")
            kind, flags, stream = buffer[3], buffer[4], int.from_bytes(buffer[5:9], "big") & 0x7FFFFFFF
            payload, buffer = buffer[9 : 9 + size], buffer[9 + size :]
            if kind == 4 and not flags & 0x1:
                sock.sendall(_frame(4, 0x1, 0))  # SETTINGS ACK
            elif kind == 6 and not flags & 0x1:
                sock.sendall(_frame(6, 0x1, 0, payload))  # PING ACK
            elif kind == 7:
                raise OSError("the server sent GOAWAY")
            elif stream == 1 and kind == 3:
                raise OSError("the server reset the stream")
            elif stream == 1 and kind == 0:
                data += payload
            elif stream == 1 and kind == 1:
                status += payload
            if stream == 1 and kind in (0, 1) and flags & 0x1:  # END_STREAM
                break
    results, at = 0, 0
    while at + 5 <= len(data):
        size = int.from_bytes(data[at + 1 : at + 5], "big")
        results += sum(1 for number, _ in _fields(data[at + 5 : at + 5 + size]) if number == 5)
        at += 5 + size
    if not data:  # a trailers-only answer: refused or failed; say what it said
        said = "".join(chr(b) if 32 <= b < 127 else " " for b in status).split()
        raise OSError(f"no answer to {sql!r}: {' '.join(said)[-200:]}")
    return results


def main(role: str) -> int:
    if role == "master":
        state = get_json(8080, "/json/")
        alive = [w for w in state.get("workers", []) if w.get("state") == "ALIVE"]
        print(f"master {state.get('status')}, {len(alive)} workers alive")
        return 0 if state.get("status") == "ALIVE" else 1
    if role == "worker":
        state = get_json(8081, "/json/")
        return 0 if state.get("masterurl") else 1
    if role == "history":
        get_json(18080, "/api/v1/applications?limit=1")
        return 0
    if role == "connect":
        token_file = os.environ.get("SPARKLAB_CONNECT_TOKEN_FILE", "/run/secrets/connect_token")
        with open(token_file) as handle:
            token = handle.read().strip()
        results = connect_command(15002, token)
        print(f"connect: SHOW DATABASES answered ({results} result)")
        return 0 if results == 1 else 1
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1]))
    except (OSError, ValueError) as error:
        print(f"not ready: {error}")
        sys.exit(1)
