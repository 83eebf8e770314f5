#!/usr/bin/env python3
"""Helpers for the deploy tests (tests/deploy/check-deploy.sh, tools/deploy/test-image.sh).

Standard library plus python3-yaml only. Subcommands:

  free-ports N                      print N free TCP ports on 127.0.0.1
  live-config SRC DST ECHO ADMIN    copy a shoal config, listening on 127.0.0.1 at the given ports
  prometheus-config SRC DST TARGET PROMPORT
                                    the deploy Prometheus config, scraping TARGET every second
  wait-http URL [--status S] [--timeout T]
  echo HOST:PORT [--connections N]  pipelined frames (0 B .. 70 KB) per connection, half-close,
                                    every byte echoed back in order, then EOF
  drain --echo HOST:PORT --admin HOST:PORT -- STOP-COMMAND...
                                    graceful drain: runs STOP-COMMAND (e.g. podman stop) while a
                                    frame is half-sent and a connection is idle, then checks
                                    /readyz 503, no new accepts, the idle one closed, the
                                    half-sent frame still answered, and STOP-COMMAND exiting 0
  metric-names --scrape FILE --rules FILE --dashboard FILE
                                    every metric name used by the rules and the dashboard exists
                                    in the /metrics scrape
  prometheus-live --prometheus URL --dashboard FILE --rules FILE
                                    a real Prometheus running our config: targets up, every rule
                                    evaluated without error, every dashboard query non-empty
  adapter-rules --scrape FILE --rules FILE --hpa FILE [--prometheus URL]
                                    prometheus-adapter rules: each series is in the /metrics
                                    scrape, every HPA custom metric is named by a rule, and each
                                    rendered metricsQuery returns data from the Prometheus
  config-drift BASE VARIANT --allow KEY...
                                    VARIANT equals BASE except the listed keys
  compose FILE                      deploy/compose.yaml's files and cross-references: mounts
                                    exist, Prometheus scrapes the shoal service's admin port,
                                    Grafana's datasource and dashboards line up, grace > drain
"""

import argparse
import json
import os
import random
import re
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import yaml


def fail(message):
    print(f"FAIL  {message}")
    sys.exit(1)


def addr(text):
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


# --- setup helpers ---------------------------------------------------------------------------

def cmd_free_ports(args):
    socks = []
    for _ in range(args.n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    print(" ".join(str(s.getsockname()[1]) for s in socks))
    for s in socks:
        s.close()


def cmd_live_config(args):
    with open(args.src) as f:
        config = yaml.safe_load(f)
    listeners = config.get("listeners") or [{"name": "echo", "protocol": "echo"}]
    listeners = [l for l in listeners if l.get("protocol", "echo") == "echo"][:1]
    listeners[0]["address"] = f"127.0.0.1:{args.echo}"
    config["listeners"] = listeners
    config.setdefault("admin", {})["address"] = f"127.0.0.1:{args.admin}"
    config["workers"] = 2
    with open(args.dst, "w") as f:
        yaml.safe_dump(config, f, sort_keys=False)


def cmd_prometheus_config(args):
    with open(args.src) as f:
        config = yaml.safe_load(f)
    base = os.path.dirname(os.path.abspath(args.src))
    g = config.setdefault("global", {})
    g.update(scrape_interval="1s", scrape_timeout="1s", evaluation_interval="1s")
    config["rule_files"] = [os.path.join(base, r) for r in config.get("rule_files", [])]
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    if "shoal" not in jobs:
        fail(f"{args.src}: no scrape job named shoal (the rules and dashboard select job=\"shoal\")")
    jobs["shoal"]["static_configs"] = [{"targets": [args.target]}]
    if "prometheus" in jobs:
        jobs["prometheus"]["static_configs"] = [{"targets": [f"127.0.0.1:{args.promport}"]}]
    with open(args.dst, "w") as f:
        yaml.safe_dump(config, f, sort_keys=False)


def http_get(url, timeout=5):
    """(status, body) for a GET; status 0 when the connection fails."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except (OSError, urllib.error.URLError):
        return 0, ""


def cmd_wait_http(args):
    deadline = time.monotonic() + args.timeout
    status = 0
    while time.monotonic() < deadline:
        status, _ = http_get(args.url, timeout=2)
        if status == args.status:
            print(f"ok    GET {args.url} -> {status}")
            return
        time.sleep(0.2)
    fail(f"GET {args.url} did not answer {args.status} within {args.timeout}s (last: {status or 'no connection'})")


# --- echo ------------------------------------------------------------------------------------

def frame(payload):
    return struct.pack(">I", len(payload)) + payload


def recv_exact(sock, n, what):
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            fail(f"{what}: connection closed after {len(data)} of {n} bytes")
        data += chunk
    return bytes(data)


def expect_eof(sock, what, timeout=5.0):
    sock.settimeout(timeout)
    try:
        extra = sock.recv(1)
    except socket.timeout:
        fail(f"{what}: no EOF within {timeout}s")
    except ConnectionResetError:
        fail(f"{what}: reset instead of a clean close")
    if extra:
        fail(f"{what}: unexpected byte after the last frame")


def cmd_echo(args):
    host, port = addr(args.address)
    rng = random.Random(7)
    total_frames = 0
    total_bytes = 0
    for i in range(args.connections):
        sizes = [0, 5, 1000, 70000, 1]
        payloads = [b"hello" if n == 5 else bytes(rng.getrandbits(8) for _ in range(n)) for n in sizes]
        request = b"".join(frame(p) for p in payloads)
        with socket.create_connection((host, port), timeout=10) as s:
            s.sendall(request)  # pipelined: every frame before reading any answer
            s.shutdown(socket.SHUT_WR)  # FIN: the server finishes echoing, then closes
            got = recv_exact(s, len(request), f"echo connection {i}")
            if got != request:
                fail(f"echo connection {i}: the echoed bytes differ from the frames sent")
            expect_eof(s, f"echo connection {i}")
        total_frames += len(payloads)
        total_bytes += len(request)
    print(f"ok    echo: {total_frames} pipelined frames ({total_bytes} bytes) on {args.connections} "
          f"connections echoed byte for byte, then closed after FIN")


# --- drain -----------------------------------------------------------------------------------

def cmd_drain(args):
    echo = addr(args.echo)
    admin = args.admin
    stop = args.command[1:] if args.command and args.command[0] == "--" else args.command
    if not stop:
        fail("drain: no stop command given")

    # A: one full round trip (so it is accepted and served), then half of a 10-byte frame.
    a = socket.create_connection(echo, timeout=10)
    a.sendall(frame(b"ready"))
    recv_exact(a, 9, "drain: warm-up frame")
    partial = frame(b"0123456789")
    a.sendall(partial[:8])
    # B: served once, then idle.
    b = socket.create_connection(echo, timeout=10)
    b.sendall(frame(b"idle"))
    recv_exact(b, 8, "drain: idle connection's frame")
    time.sleep(0.2)  # let the server read A's partial frame

    started = time.monotonic()
    proc = subprocess.Popen(stop, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    # The drain is held open by A's unfinished frame (up to timeouts.drain), so these are seen.
    deadline = time.monotonic() + 5
    ready_status = None
    while time.monotonic() < deadline:
        ready_status, _ = http_get(f"http://{admin}/readyz", timeout=1)
        if ready_status == 503:
            break
        time.sleep(0.05)
    if ready_status != 503:
        fail(f"drain: /readyz answered {ready_status or 'no connection'} during the drain, expected 503")
    print("ok    drain: /readyz answers 503 while draining")
    expect_eof(b, "drain: idle connection", timeout=5)
    print("ok    drain: the idle connection was closed cleanly")
    try:
        c = socket.create_connection(echo, timeout=2)
        c.sendall(frame(b"late"))
        c.settimeout(2)
        late = c.recv(16)
        c.close()
        if late:
            fail("drain: a connection made after the drain began was served")
    except (ConnectionRefusedError, ConnectionResetError, socket.timeout, OSError):
        pass
    print("ok    drain: no new connection is served")

    a.sendall(partial[8:])
    got = recv_exact(a, len(partial), "drain: the frame in flight")
    if got != partial:
        fail("drain: the frame in flight was answered with different bytes")
    expect_eof(a, "drain: connection of the frame in flight")
    print("ok    drain: the frame in flight when the drain began was answered, then closed")
    a.close()
    b.close()

    try:
        out, _ = proc.communicate(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        fail(f"drain: {' '.join(stop)} still running after {args.timeout}s")
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        fail(f"drain: {' '.join(stop)} exited {proc.returncode}: {out.strip()}")
    print(f"ok    drain: {' '.join(stop)} returned 0 after {elapsed:.1f}s")


# --- metric names ----------------------------------------------------------------------------

PROMQL_WORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
    "offset", "bool", "inf", "nan", "le",
}
# Series Prometheus makes itself rather than scraping.
SYNTHETIC = {"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_series_added",
             "scrape_samples_post_metric_relabeling", "ALERTS", "ALERTS_FOR_STATE"}


def metric_names_in(expr):
    """Metric names a PromQL expression selects."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # label values and strings
    expr = re.sub(r"'(?:[^'\\]|\\.)*'", "''", expr)
    expr = re.sub(r"\$\{?\w+\}?", "", expr)          # Grafana variables
    expr = re.sub(r"\{[^}]*\}", "{}", expr)          # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)          # ranges and subqueries: [5m], [1h:1m]
    expr = re.sub(r"\boffset\s+-?\w+", "", expr)    # offset 5m
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", expr):
        token = m.group(0)
        rest = expr[m.end():].lstrip()
        if token.lower() in PROMQL_WORDS or rest.startswith("("):
            continue  # keyword or function
        if expr[:m.start()][-1:].isdigit():
            continue  # the unit of a number such as 1e-3
        names.add(token)
    return names


def rules_exprs(path):
    with open(path) as f:
        doc = yaml.safe_load(f)
    for group in doc["groups"]:
        for rule in group["rules"]:
            yield rule.get("alert") or rule.get("record"), rule["expr"]


def dashboard_exprs(path):
    with open(path) as f:
        dash = json.load(f)

    def panels(items):
        for p in items:
            yield p
            yield from panels(p.get("panels", []))

    for p in panels(dash.get("panels", [])):
        for t in p.get("targets", []):
            if t.get("expr"):
                yield f'panel "{p.get("title")}" {t.get("refId", "")}', t["expr"], p
    for v in dash.get("templating", {}).get("list", []):
        q = v.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        if v.get("type") == "query" and q:
            m = re.match(r"\s*label_values\((.*),\s*\w+\)\s*$", q)
            yield f'variable "{v["name"]}"', (m.group(1) if m else q), None


def scrape_names(path):
    names = set()
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("# TYPE "):
                names.add(line.split()[2])
            elif line and not line.startswith("#"):
                names.add(re.match(r"[A-Za-z_:][A-Za-z0-9_:]*", line).group(0))
    return names


def cmd_metric_names(args):
    have = scrape_names(args.scrape)
    if not any(n.startswith("shoal_") for n in have):
        fail(f"{args.scrape}: no shoal_* metric in the scrape (is /metrics implemented?)")
    used = {}
    for name, expr in rules_exprs(args.rules):
        for m in metric_names_in(expr):
            used.setdefault(m, set()).add(f"rule {name}")
    for where, expr, _ in dashboard_exprs(args.dashboard):
        for m in metric_names_in(expr):
            used.setdefault(m, set()).add(where)
    missing = {m: w for m, w in used.items() if m not in have and m not in SYNTHETIC}
    for m in sorted(used):
        status = "FAIL " if m in missing else "ok   "
        print(f"{status} {m}  ({len(used[m])} uses)" + (f": not in /metrics; used by {sorted(used[m])}" if m in missing else ""))
    contract = {"shoal_connections_accepted_total", "shoal_connections_active",
                "shoal_connections_closed_total", "shoal_bytes_received_total",
                "shoal_bytes_sent_total", "shoal_requests_total",
                "shoal_request_duration_seconds_bucket", "shoal_output_queue_bytes",
                "shoal_backpressure_pauses_total", "shoal_timers_active",
                "shoal_event_loop_duration_seconds_bucket", "shoal_accept_errors_total",
                "shoal_build_info"}
    unused = sorted(contract - set(used))
    if unused:
        print(f"note  contract metrics no rule or panel shows: {', '.join(unused)}")
    if missing:
        fail(f"{len(missing)} metric names used by the rules/dashboard are not in the live scrape")
    print(f"ok    all {len(used)} metric names used by {args.rules} and {args.dashboard} are in the scrape")


# --- a real Prometheus -----------------------------------------------------------------------

def prom_api(base, path, **params):
    url = f"{base}{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    status, body = http_get(url, timeout=10)
    if status != 200 and not body:
        fail(f"GET {url} -> {status or 'no connection'}")
    return json.loads(body)


def cmd_prometheus_live(args):
    base = args.prometheus.rstrip("/")
    failures = 0

    # rate() needs two samples in its window: wait for a few scrapes (the first one comes a few
    # seconds after start-up).
    deadline = time.monotonic() + args.timeout
    scrapes = 0
    while time.monotonic() < deadline:
        result = prom_api(base, "/api/v1/query", query='count_over_time(up{job="shoal"}[1m])')
        series = result.get("data", {}).get("result", [])
        scrapes = int(float(series[0]["value"][1])) if series else 0
        if scrapes >= 5:
            break
        time.sleep(0.5)
    if scrapes < 5:
        fail(f"Prometheus made {scrapes} scrapes of job=shoal in {args.timeout}s")
    time.sleep(1.5)  # and one more rule evaluation after them

    targets = prom_api(base, "/api/v1/targets")["data"]["activeTargets"]
    shoal = [t for t in targets if t["labels"].get("job") == "shoal"]
    if not shoal or any(t["health"] != "up" for t in shoal):
        fail(f"Prometheus target job=shoal not up: {[(t['scrapeUrl'], t['health'], t['lastError']) for t in shoal]}")
    print(f"ok    Prometheus scrapes job=shoal: {', '.join(t['scrapeUrl'] for t in shoal)} up")

    groups = prom_api(base, "/api/v1/rules")["data"]["groups"]
    want = {name for name, _ in rules_exprs(args.rules)}
    seen = set()
    for g in groups:
        for r in g["rules"]:
            seen.add(r["name"])
            evaluated = not r.get("lastEvaluation", "").startswith("0001-")
            if r["health"] != "ok" or not evaluated:
                failures += 1
                print(f"FAIL  rule {r['name']}: health={r['health']} evaluated={evaluated} {r.get('lastError', '')}")
            else:
                print(f"ok    rule {r['name']}: evaluated, state {r.get('state', 'n/a')}")
    for name in sorted(want - seen):
        failures += 1
        print(f"FAIL  rule {name} is not loaded by Prometheus")
    firing = [a for a in prom_api(base, "/api/v1/alerts")["data"]["alerts"]]
    for a in firing:
        print(f"note  alert {a['labels'].get('alertname')} is {a['state']} against the idle test server")

    for where, expr, panel in dashboard_exprs(args.dashboard):
        q = expr.replace("$__rate_interval", "1m").replace("$instance", ".*")
        q = re.sub(r"\$\{?\w+\}?", ".*", q)
        resp = prom_api(base, "/api/v1/query", query=q)
        if resp.get("status") != "success":
            failures += 1
            print(f"FAIL  {where}: {resp.get('error')}  [{q}]")
        elif not resp["data"]["result"]:
            failures += 1
            print(f"FAIL  {where}: no data  [{q}]")
        else:
            print(f"ok    {where}: {len(resp['data']['result'])} series")
    if failures:
        fail(f"{failures} Prometheus rule/dashboard checks failed")
    print("ok    every rule evaluates and every dashboard query returns data in a real Prometheus")


# --- compose ---------------------------------------------------------------------------------

def cmd_adapter_rules(args):
    have = scrape_names(args.scrape)
    with open(args.rules) as f:
        rules = yaml.safe_load(f)["rules"]
    exposed = {}
    for rule in rules:
        series = re.match(r"[A-Za-z_:][A-Za-z0-9_:]*", rule["seriesQuery"]).group(0)
        if series not in have:
            fail(f"adapter rule series {series} is not in the live /metrics")
        name = rule.get("name", {})
        pattern = name.get("matches", "^(.*)$")
        if not re.search(pattern, series):
            fail(f"adapter rule for {series}: name.matches {pattern!r} does not match it")
        exposed[re.sub(pattern, name.get("as", r"\1").replace("$", "\\"), series)] = rule
        print(f"ok    {series} in /metrics, exposed as {list(exposed)[-1]}")
    with open(args.hpa) as f:
        hpa = yaml.safe_load(f)
    for metric in hpa["spec"].get("metrics", []):
        if metric["type"] in ("Pods", "Object"):
            wanted = metric[metric["type"].lower()]["metric"]["name"]
            if wanted not in exposed:
                fail(f"HPA metric {wanted} is not exposed by any rule in {args.rules}: {sorted(exposed)}")
            print(f"ok    HPA metric {wanted} comes from a rule")
    if not args.prometheus:
        return
    for as_name, rule in exposed.items():
        series = re.match(r"[A-Za-z_:][A-Za-z0-9_:]*", rule["seriesQuery"]).group(0)
        # Outside Kubernetes the scrape has no namespace/pod labels: match the job, group by target.
        query = (rule["metricsQuery"].replace("<<.Series>>", series)
                 .replace("<<.LabelMatchers>>", 'job="shoal"').replace("<<.GroupBy>>", "instance"))
        result = prom_api(args.prometheus.rstrip("/"), "/api/v1/query", query=query)
        if result.get("status") != "success" or not result["data"]["result"]:
            fail(f"{as_name}: {query} returned nothing: {result}")
        print(f"ok    {as_name}: {query} = {result['data']['result'][0]['value'][1]}")


def duration_seconds(text):
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", str(text))
    return sum(float(n) * units[u] for n, u in parts)


def cmd_compose(args):
    compose_path = os.path.abspath(args.compose)
    root = os.path.dirname(compose_path)
    with open(compose_path) as f:
        compose = yaml.safe_load(f)
    failures = 0

    def check(ok, what):
        nonlocal failures
        print(f"{'ok   ' if ok else 'FAIL '} {what}")
        failures += 0 if ok else 1

    services = compose.get("services", {})
    for name in ("shoal", "prometheus", "grafana"):
        check(name in services, f"service {name}")
    if failures:
        fail("compose: services missing")
    shoal, prom, graf = services["shoal"], services["prometheus"], services["grafana"]

    mounts = {}  # service -> {target: source path}
    for sname, svc in services.items():
        mounts[sname] = {}
        for v in svc.get("volumes", []):
            source, target = v.split(":")[:2]
            if source.startswith((".", "/")):
                path = os.path.normpath(os.path.join(root, source))
                check(os.path.exists(path), f"{sname}: bind mount {source} exists")
                mounts[sname][target] = path
            else:
                check(source in (compose.get("volumes") or {}), f"{sname}: named volume {source} is declared")

    build = shoal.get("build", {})
    context = os.path.normpath(os.path.join(root, build.get("context", ".")))
    check(os.path.isfile(os.path.join(context, build.get("dockerfile", "Dockerfile"))),
          f"shoal: builds {build.get('dockerfile')} in context {os.path.relpath(context)}")
    check(os.path.isfile(os.path.join(context, ".dockerignore")), "shoal: the build context has a .dockerignore")

    # The config shoal runs: the mounted one, else the image's (deploy/config/shoal.yaml).
    config_path = mounts["shoal"].get("/etc/shoal/shoal.yaml", os.path.join(root, "config", "shoal.yaml"))
    with open(config_path) as f:
        config = yaml.safe_load(f)
    admin_port = addr(config.get("admin", {}).get("address", "127.0.0.1:9100"))[1]
    admin_host = addr(config.get("admin", {}).get("address", "127.0.0.1:9100"))[0]
    check(admin_host not in ("127.0.0.1", "localhost", "::1"),
          f"shoal: admin.address in {os.path.relpath(config_path)} is reachable from the other containers")
    published = [str(p).split(":")[-1] for p in shoal.get("ports", [])]
    for l in config.get("listeners", []):
        check(str(addr(l["address"])[1]) in published, f"shoal: listener {l['name']} port is published")
    health = " ".join(shoal.get("healthcheck", {}).get("test", []))
    check(f"/{admin_port}" in health and "/healthz" in health, "shoal: healthcheck GETs /healthz on the admin port")
    drain = duration_seconds(config.get("timeouts", {}).get("drain", "10s"))
    grace = duration_seconds(shoal.get("stop_grace_period", "10s"))
    check(grace > drain, f"shoal: stop_grace_period {grace:g}s > timeouts.drain {drain:g}s")
    check(shoal.get("init") is True, "shoal: init: true (signals forwarded, zombies reaped)")

    # Prometheus: its config and rules are mounted where the config says, and it scrapes shoal.
    cmd = prom.get("command", [])
    config_flag = next((c.split("=", 1)[1] for c in cmd if c.startswith("--config.file=")), None)
    prom_config_path = mounts["prometheus"].get(config_flag)
    check(prom_config_path is not None, f"prometheus: --config.file={config_flag} is a mounted file")
    if prom_config_path:
        with open(prom_config_path) as f:
            pconf = yaml.safe_load(f)
        for rule_file in pconf.get("rule_files", []):
            target = os.path.normpath(os.path.join(os.path.dirname(config_flag), rule_file))
            check(target in mounts["prometheus"], f"prometheus: rule file {rule_file} is mounted at {target}")
        targets = [t for j in pconf["scrape_configs"] if j["job_name"] == "shoal"
                   for sc in j.get("static_configs", []) for t in sc["targets"]]
        check(f"shoal:{admin_port}" in targets, f"prometheus: job shoal scrapes shoal:{admin_port} (got {targets})")

    # Grafana: datasource -> the prometheus service; dashboards provisioned from the mounted dir.
    prov = mounts["grafana"].get("/etc/grafana/provisioning")
    check(prov is not None, "grafana: provisioning directory mounted at /etc/grafana/provisioning")
    uids = set()
    dash_dirs = []
    if prov:
        for fname in sorted(os.listdir(os.path.join(prov, "datasources"))):
            with open(os.path.join(prov, "datasources", fname)) as f:
                for ds in yaml.safe_load(f).get("datasources", []):
                    uids.add(ds.get("uid"))
                    check(ds.get("url") == "http://prometheus:9090",
                          f"grafana: datasource {ds.get('name')} points at the prometheus service")
        for fname in sorted(os.listdir(os.path.join(prov, "dashboards"))):
            with open(os.path.join(prov, "dashboards", fname)) as f:
                for p in yaml.safe_load(f).get("providers", []):
                    dash_dirs.append(p["options"]["path"])
    for d in dash_dirs:
        src = mounts["grafana"].get(d)
        check(src is not None and any(n.endswith(".json") for n in os.listdir(src)),
              f"grafana: dashboard provider path {d} is mounted with dashboards")
        if src:
            for n in sorted(os.listdir(src)):
                with open(os.path.join(src, n)) as f:
                    dash = json.load(f)
                used = set()

                def walk(o):
                    if isinstance(o, dict):
                        if isinstance(o.get("datasource"), dict):
                            used.add(o["datasource"].get("uid"))
                        for v in o.values():
                            walk(v)
                    elif isinstance(o, list):
                        for v in o:
                            walk(v)
                walk(dash)
                check(used <= uids, f"grafana: {n} uses provisioned datasource uids {sorted(used)}")
    home = graf.get("environment", {}).get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
    if home:
        d, n = os.path.split(home)
        check(d in mounts["grafana"] and os.path.isfile(os.path.join(mounts["grafana"][d], n)),
              f"grafana: home dashboard {home} is a mounted file")
    if failures:
        fail(f"compose: {failures} checks failed")
    print(f"ok    {args.compose}: services, mounts and cross-references consistent")


# --- config drift ----------------------------------------------------------------------------

def cmd_config_drift(args):
    """The Kubernetes config is the production default except for the keys it documents."""
    with open(args.base) as f:
        base = yaml.safe_load(f)
    with open(args.variant) as f:
        variant = yaml.safe_load(f)

    def flat(d, prefix=""):
        out = {}
        for k, v in d.items():
            key = f"{prefix}{k}"
            if isinstance(v, dict):
                out.update(flat(v, key + "."))
            else:
                out[key] = v
        return out

    a, b = flat(base), flat(variant)
    allowed = set(args.allow)
    diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    for k in diff:
        print(f"{'ok   ' if k in allowed else 'FAIL '} {k}: {a.get(k)!r} -> {b.get(k)!r}")
    unexpected = [k for k in diff if k not in allowed]
    if unexpected:
        fail(f"{args.variant} differs from {args.base} beyond {sorted(allowed)}: {unexpected}")
    print(f"ok    {args.variant} = {args.base} except {', '.join(diff) or 'nothing'}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("free-ports"); s.add_argument("n", type=int); s.set_defaults(f=cmd_free_ports)
    s = sub.add_parser("live-config")
    for a in ("src", "dst", "echo", "admin"):
        s.add_argument(a)
    s.set_defaults(f=cmd_live_config)
    s = sub.add_parser("prometheus-config")
    for a in ("src", "dst", "target", "promport"):
        s.add_argument(a)
    s.set_defaults(f=cmd_prometheus_config)
    s = sub.add_parser("wait-http"); s.add_argument("url")
    s.add_argument("--status", type=int, default=200); s.add_argument("--timeout", type=float, default=30)
    s.set_defaults(f=cmd_wait_http)
    s = sub.add_parser("echo"); s.add_argument("address"); s.add_argument("--connections", type=int, default=4)
    s.set_defaults(f=cmd_echo)
    s = sub.add_parser("drain"); s.add_argument("--echo", required=True); s.add_argument("--admin", required=True)
    s.add_argument("--timeout", type=float, default=40); s.add_argument("command", nargs=argparse.REMAINDER)
    s.set_defaults(f=cmd_drain)
    s = sub.add_parser("metric-names")
    for a in ("--scrape", "--rules", "--dashboard"):
        s.add_argument(a, required=True)
    s.set_defaults(f=cmd_metric_names)
    s = sub.add_parser("prometheus-live")
    for a in ("--prometheus", "--rules", "--dashboard"):
        s.add_argument(a, required=True)
    s.add_argument("--timeout", type=float, default=60)
    s.set_defaults(f=cmd_prometheus_live)
    s = sub.add_parser("compose"); s.add_argument("compose"); s.set_defaults(f=cmd_compose)
    s = sub.add_parser("adapter-rules")
    s.add_argument("--scrape", required=True); s.add_argument("--rules", required=True)
    s.add_argument("--hpa", required=True); s.add_argument("--prometheus")
    s.set_defaults(f=cmd_adapter_rules)
    s = sub.add_parser("config-drift"); s.add_argument("base"); s.add_argument("variant")
    s.add_argument("--allow", nargs="*", default=[]); s.set_defaults(f=cmd_config_drift)
    args = p.parse_args()
    args.f(args)


if __name__ == "__main__":
    main()
