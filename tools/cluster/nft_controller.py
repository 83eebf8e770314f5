#!/usr/bin/env python3
"""The nftables balancer's controller: what kube-proxy does with a Service's EndpointSlices.

Runs inside the balancer's network namespace (root). Every --interval_ms it GETs /readyz on each
host's admin port; a host leaves the set after --fall failures in a row and comes back after --rise
successes. A host named in --removed_file (one name a line) is out whatever its readiness: that is
an endpoint deleted on purpose (a pod being terminated). Whenever the set changes, the service
chain is rewritten in one nft transaction, the way kube-proxy's nftables mode balances:

    ip daddr VIP tcp dport PORT dnat to numgen random mod N map { 0 : host0, 1 : host1, ... }

New connections only: established ones keep their conntrack entry (and so their host). The
current set and every change (time, host, event) go to --state_file as JSON, written atomically.
Stops on SIGTERM (cluster cleanup kills every process in its namespaces).

Usage: nft_controller.py --vip A --port P --admin_port P [options] NAME=ADDR...
"""

import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import time

TABLE = "shoal_cluster"


def nft(script):
    subprocess.run(["nft", "-f", "-"], input=script, text=True, check=True)


def ready(addr, port, timeout):
    try:
        conn = http.client.HTTPConnection(addr, port, timeout=timeout)
        conn.request("GET", "/readyz")
        status = conn.getresponse().status
        conn.close()
        return status == 200
    except OSError:
        return False


def service_rules(args, backends):
    rules = [f"flush chain ip {TABLE} service"]
    if backends:
        mapping = ", ".join(f"{i} : {addr}" for i, (_, addr) in enumerate(backends))
        rules.append(f"add rule ip {TABLE} service ip daddr {args.vip} tcp dport {args.port} "
                     f"dnat to numgen {args.mode} mod {len(backends)} map {{ {mapping} }}")
    return "\n".join(rules) + "\n"


def write_state(path, members, changes):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"in": members, "changes": changes}, f)
    os.replace(tmp, path)


def read_removed(path):
    try:
        with open(path) as f:
            return {line.strip() for line in f if line.strip()}
    except FileNotFoundError:
        return set()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--vip", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--admin_port", type=int, required=True)
    p.add_argument("--interval_ms", type=int, default=500)
    p.add_argument("--fall", type=int, default=2)
    p.add_argument("--rise", type=int, default=1)
    p.add_argument("--mode", choices=["random", "inc"], default="random")
    p.add_argument("--removed_file", required=True)
    p.add_argument("--state_file", required=True)
    p.add_argument("hosts", nargs="+", help="NAME=ADDR")
    args = p.parse_args()

    hosts = [tuple(h.split("=", 1)) for h in args.hosts]
    interval = args.interval_ms / 1000.0
    up = {name: False for name, _ in hosts}
    streak = {name: 0 for name, _ in hosts}  # > 0: successes in a row, < 0: failures in a row
    changes = []
    members = []

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    nft(f"table ip {TABLE} {{\n"
        f"  chain prerouting {{ type nat hook prerouting priority dstnat; policy accept; jump service; }}\n"
        f"  chain service {{ }}\n"
        f"}}\n")
    write_state(args.state_file, members, changes)
    print(f"controller: {len(hosts)} hosts, every {args.interval_ms} ms, fall {args.fall} "
          f"rise {args.rise}, numgen {args.mode}", flush=True)

    next_round = time.monotonic()
    while True:
        for name, addr in hosts:
            ok = ready(addr, args.admin_port, min(interval, 1.0))
            streak[name] = max(streak[name], 0) + 1 if ok else min(streak[name], 0) - 1
            if not up[name] and streak[name] >= args.rise:
                up[name] = True
            elif up[name] and -streak[name] >= args.fall:
                up[name] = False
        removed = read_removed(args.removed_file)
        wanted = [name for name, _ in hosts if up[name] and name not in removed]
        if wanted != members:
            nft(service_rules(args, [(n, a) for n, a in hosts if n in wanted]))
            now = time.time()
            for name in sorted(set(members) - set(wanted)):
                reason = "removed" if name in removed else "not ready"
                changes.append({"t": now, "server": name, "event": "out", "reason": reason})
                print(f"controller: {now:.3f} {name} out ({reason})", flush=True)
            for name in sorted(set(wanted) - set(members)):
                changes.append({"t": now, "server": name, "event": "in"})
                print(f"controller: {now:.3f} {name} in", flush=True)
            members = wanted
            write_state(args.state_file, members, changes)
        next_round += interval
        time.sleep(max(0.0, next_round - time.monotonic()))


if __name__ == "__main__":
    main()
