#!/usr/bin/env python3
"""Small helpers of tools/cluster (standard library only). Run inside the namespace whose
addresses they reach (`ip netns exec NS cluster_tool.py ...`). Subcommands:

  haproxy --socket S run CMD                       one runtime API command, prints the answer
  haproxy --socket S wait --server BE/SRV --state in|out [--timeout S]
                                                   until HAProxy routes new connections to SRV
                                                   (in: running and no admin flag) or not; prints
                                                   the seconds it took
  nft-wait --state_file F --server SRV --state in|out [--timeout S]
                                                   the same for the nftables controller
  log-removal --log F --server SRV --since EPOCH
                                                   seconds from EPOCH to the first line of the
                                                   HAProxy log (ISO time) or the nftables
                                                   controller log (epoch) that takes SRV out
  active URL...                                    shoal_connections_active of each /metrics URL
                                                   (service listener), then max/min
  report --json F --timeline F [--max_errors N] [--max_lost N] [--kinds K,...] [--name N]
                                                   a loadgen run's errors by kind and the seconds
                                                   that had errors; fails above the bounds
  per-source --target HOST:PORT --source ADDR --connections N [--hold S]
                                                   N connections from ADDR, one GET /plaintext
                                                   each; prints how many were answered
"""

import argparse
import json
import re
import socket
import sys
import time
import urllib.request


def fail(message):
    print(f"FAIL  {message}")
    sys.exit(1)


def haproxy_run(sock_path, command):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(2)
    s.connect(sock_path)
    s.sendall(command.encode() + b"\n")
    out = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
    s.close()
    return out.decode()


def haproxy_server_in(sock_path, backend, server):
    # show servers state: be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state ...
    try:
        answer = haproxy_run(sock_path, f"show servers state {backend}")
    except OSError:
        return None  # not started yet
    for line in answer.splitlines():
        fields = line.split()
        if len(fields) > 6 and fields[1] == backend and fields[3] == server:
            return fields[5] == "2" and fields[6] == "0"
    fail(f"HAProxy has no server {backend}/{server}")


def nft_server_in(state_file, server):
    try:
        with open(state_file) as f:
            return server in json.load(f)["in"]
    except (OSError, ValueError):
        return None  # not written yet


def wait_state(is_in, want_in, timeout, what):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if is_in() == want_in:
            print(f"{time.monotonic() - start:.3f}")
            return
        time.sleep(0.02)
    fail(f"{what} not {'in' if want_in else 'out'} after {timeout}s")


def cmd_haproxy(args):
    if args.action == "run":
        print(haproxy_run(args.socket, " ".join(args.command)), end="")
        return
    backend, server = args.server.split("/")
    wait_state(lambda: haproxy_server_in(args.socket, backend, server), args.state == "in",
               args.timeout, f"HAProxy server {args.server}")


def cmd_nft_wait(args):
    wait_state(lambda: nft_server_in(args.state_file, args.server), args.state == "in",
               args.timeout, f"nftables backend {args.server}")


def cmd_log_removal(args):
    from datetime import datetime
    for line in open(args.log):
        haproxy = re.match(rf"(\S+) Server \S+/{args.server} is DOWN", line)
        nft = re.match(rf"controller: ([0-9.]+) {args.server} out", line)
        if haproxy:
            at = datetime.fromisoformat(haproxy.group(1)).timestamp()
        elif nft:
            at = float(nft.group(1))
        else:
            continue
        if at >= args.since:
            print(f"{at - args.since:.3f}")
            return
    fail(f"{args.log}: no line taking {args.server} out after {args.since}")


ACTIVE = re.compile(r'^shoal_connections_active\{([^}]*)\}\s+(\S+)', re.M)


def active_connections(url, listener):
    with urllib.request.urlopen(url, timeout=2) as r:
        text = r.read().decode()
    total = 0
    for labels, value in ACTIVE.findall(text):
        if f'listener="{listener}"' in labels:
            total += float(value)
    return int(total)


def cmd_active(args):
    counts = [active_connections(u, args.listener) for u in args.urls]
    ratio = max(counts) / max(1, min(counts))
    print(" ".join(str(c) for c in counts), f"{ratio:.3f}")


ERROR_KINDS = ["connect", "reset", "timeout", "eof", "mismatch", "status", "protocol"]


def cmd_report(args):
    with open(args.json) as f:
        report = json.load(f)
    errors = report["errors"]
    seconds_with_errors = []
    with open(args.timeline) as f:
        for line in f:
            row = json.loads(line)
            if "mark" in row:
                continue
            n = sum(v for v in row.get("errors", {}).values()) if isinstance(row.get("errors"), dict) \
                else row.get("errors", 0)
            if n:
                seconds_with_errors.append(row["t"])
    kinds = args.kinds.split(",") if args.kinds else ERROR_KINDS
    counted = sum(errors.get(k, 0) for k in kinds)
    by_kind = " ".join(f"{k} {errors.get(k, 0)}" for k in ERROR_KINDS)
    print(f"{report['requests']} requests, {report['requests_per_second']:.0f}/s, "
          f"errors {errors['total']} ({by_kind}), lost {report.get('lost', 0)}, "
          f"connects {report.get('connects', 0)}, seconds with errors {seconds_with_errors}")
    ok = True
    if args.max_errors is not None and counted > args.max_errors:
        print(f"FAIL  {args.name}: {counted} errors of kinds {','.join(kinds)} > {args.max_errors}")
        ok = False
    if args.others_zero:
        others = sum(errors.get(k, 0) for k in ERROR_KINDS if k not in kinds)
        if others:
            print(f"FAIL  {args.name}: {others} errors of other kinds than {','.join(kinds)}")
            ok = False
    if args.max_lost is not None and report.get("lost", 0) > args.max_lost:
        print(f"FAIL  {args.name}: {report.get('lost', 0)} requests lost > {args.max_lost}")
        ok = False
    if report["requests"] == 0:
        print(f"FAIL  {args.name}: no request answered")
        ok = False
    sys.exit(0 if ok else 1)


def cmd_per_source(args):
    host, _, port = args.target.rpartition(":")
    answered = 0
    socks = []
    for _ in range(args.connections):
        s = socket.socket()
        s.settimeout(2)
        s.bind((args.source, 0))
        s.connect((host, int(port)))
        socks.append(s)
    for s in socks:
        try:
            s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
            data = s.recv(4096)
            if data.startswith(b"HTTP/1.1 200"):
                answered += 1
        except OSError:
            pass
    time.sleep(args.hold)
    for s in socks:
        s.close()
    print(answered)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)

    h = sub.add_parser("haproxy")
    h.add_argument("--socket", required=True)
    h.add_argument("action", choices=["run", "wait"])
    h.add_argument("command", nargs="*")
    h.add_argument("--server")
    h.add_argument("--state", choices=["in", "out"])
    h.add_argument("--timeout", type=float, default=10)
    h.set_defaults(func=cmd_haproxy)

    n = sub.add_parser("nft-wait")
    n.add_argument("--state_file", required=True)
    n.add_argument("--server", required=True)
    n.add_argument("--state", choices=["in", "out"], required=True)
    n.add_argument("--timeout", type=float, default=10)
    n.set_defaults(func=cmd_nft_wait)

    g = sub.add_parser("log-removal")
    g.add_argument("--log", required=True)
    g.add_argument("--server", required=True)
    g.add_argument("--since", type=float, required=True)
    g.set_defaults(func=cmd_log_removal)

    a = sub.add_parser("active")
    a.add_argument("urls", nargs="+")
    a.add_argument("--listener", default="http")
    a.set_defaults(func=cmd_active)

    r = sub.add_parser("report")
    r.add_argument("--json", required=True)
    r.add_argument("--timeline", required=True)
    r.add_argument("--name", default="run")
    r.add_argument("--max_errors", type=int)
    r.add_argument("--max_lost", type=int)
    r.add_argument("--kinds", default="")
    r.add_argument("--others_zero", action="store_true")
    r.set_defaults(func=cmd_report)

    s = sub.add_parser("per-source")
    s.add_argument("--target", required=True)
    s.add_argument("--source", required=True)
    s.add_argument("--connections", type=int, required=True)
    s.add_argument("--hold", type=float, default=0)
    s.set_defaults(func=cmd_per_source)

    args = p.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
