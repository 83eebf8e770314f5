-- Appended to every wrk script of tools/bench/http.sh: prints one machine-readable line per run.
--   BENCH rps=... p99_us=... requests=... connect=... read=... write=... timeout=... non2xx=...
--
-- p99: wrk corrects for coordinated omission (stats_correct) by adding synthetic samples; with
-- pipelining some land below latency.min, where stats_percentile never looks, so wrk prints 0 for
-- high percentiles. We take the 99th percentile of the samples percentile() can see: bisect for
-- the largest share q it reaches, then ask for 0.99 * q. Without that bug q is ~100 and this is
-- wrk's own p99. The same computation is used for every server.
done = function(summary, latency, requests)
  local lo, hi = 0, 100
  for _ = 1, 48 do
    local mid = (lo + hi) / 2
    if latency:percentile(mid) > 0 then lo = mid else hi = mid end
  end
  local p99 = latency:percentile(0.99 * lo)
  local e = summary.errors
  io.write(string.format(
    "BENCH rps=%.1f p99_us=%d requests=%d connect=%d read=%d write=%d timeout=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), p99, summary.requests,
    e.connect, e.read, e.write, e.timeout, e.status))
end
