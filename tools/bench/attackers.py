#!/usr/bin/env python3
"""Hostile clients for tools/bench/attack.sh: each runs until killed (or --seconds), from one
thread with non-blocking sockets, against 127.0.0.1 ports given on the command line.

  attackers.py non_readers  PORT      200 connections (4 KiB receive buffer, 536-byte MSS) that
                                      send 64 KiB echo frames and never read
  attackers.py chunked      HTTP_PORT 3 connections sending a 1 MiB body as 1-byte chunks with
                                      zero-padded sizes, over and over
  attackers.py idle         PORT      5000 connections that connect and send nothing
  attackers.py bad_frames   PORT      connections that send an oversized frame header (a warn
                                      line and a close each), as fast as they are closed
  attackers.py churn        PORT      connect + close as fast as possible
  attackers.py admin_flood  ADMIN     5000 idle connections to the admin endpoint
"""
import errno
import selectors
import socket
import struct
import sys
import time


def connect(port, rcvbuf=None, mss=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if mss:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, mss)
    s.setblocking(False)
    err = s.connect_ex(("127.0.0.1", port))
    if err not in (0, errno.EINPROGRESS):
        s.close()
        return None
    return s


def pump(conns, payload_of, deadline):
    """Keeps every connection's send buffer full; reconnects nothing."""
    sel = selectors.DefaultSelector()
    offsets = {}
    for c in conns:
        sel.register(c, selectors.EVENT_WRITE)
        offsets[c] = 0
    while time.monotonic() < deadline and offsets:
        for key, _ in sel.select(timeout=0.5):
            c = key.fileobj
            data = payload_of(c)
            try:
                n = c.send(data[offsets[c]:])
                offsets[c] = (offsets[c] + n) % len(data)
            except BlockingIOError:
                pass
            except OSError:
                sel.unregister(c)
                del offsets[c]
                c.close()


def non_readers(port, deadline):
    frame = struct.pack(">I", 64 << 10) + b"h" * (64 << 10)
    conns = [c for c in (connect(port, 4096, 536) for _ in range(200)) if c]
    pump(conns, lambda c: frame, deadline)


def chunked(port, deadline):
    head = b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    body = b"0000000000000001\r\nA\r\n" * (1 << 20) + b"0\r\n\r\n"
    request = head + body
    conns = [c for c in (connect(port) for _ in range(3)) if c]
    # Replies are small; read them so the requests keep coming.
    sel = selectors.DefaultSelector()
    offsets = {}
    for c in conns:
        sel.register(c, selectors.EVENT_WRITE | selectors.EVENT_READ)
        offsets[c] = 0
    while time.monotonic() < deadline and offsets:
        for key, events in sel.select(timeout=0.5):
            c = key.fileobj
            try:
                if events & selectors.EVENT_READ:
                    if not c.recv(65536):
                        raise OSError("closed")
                if events & selectors.EVENT_WRITE:
                    n = c.send(request[offsets[c]:offsets[c] + (1 << 20)])
                    offsets[c] = (offsets[c] + n) % len(request)
            except BlockingIOError:
                pass
            except OSError:
                sel.unregister(c)
                del offsets[c]
                c.close()


def hold_idle(port, count, deadline):
    conns = []
    for _ in range(count):
        c = connect(port)
        if c:
            conns.append(c)
    while time.monotonic() < deadline:
        time.sleep(0.2)
    for c in conns:
        c.close()


def bad_frames(port, deadline):
    header = struct.pack(">I", 0x7FFFFFFF)
    while time.monotonic() < deadline:
        batch = [c for c in (connect(port) for _ in range(50)) if c]
        time.sleep(0.005)
        for c in batch:
            try:
                c.send(header)
            except OSError:
                pass
        time.sleep(0.005)
        for c in batch:
            c.close()


def churn(port, deadline):
    while time.monotonic() < deadline:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        try:
            s.connect(("127.0.0.1", port))
        except OSError:
            pass
        s.close()


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    kind, port = sys.argv[1], int(sys.argv[2])
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 3600
    deadline = time.monotonic() + seconds
    attacks = {
        "non_readers": lambda: non_readers(port, deadline),
        "chunked": lambda: chunked(port, deadline),
        "idle": lambda: hold_idle(port, 5000, deadline),
        "bad_frames": lambda: bad_frames(port, deadline),
        "churn": lambda: churn(port, deadline),
        "admin_flood": lambda: hold_idle(port, 5000, deadline),
    }
    if kind not in attacks:
        print(f"attackers.py: unknown attack {kind}", file=sys.stderr)
        return 2
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    attacks[kind]()
    return 0


if __name__ == "__main__":
    sys.exit(main())
