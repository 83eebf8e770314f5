#include "tools/loadgen/report.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/protocols/http/wire.h"

namespace shoal::loadgen {

namespace {

std::string PercentileKey(double p) {
  // 50 -> "p50", 99.9 -> "p99_9", 99.99 -> "p99_99"
  std::string text = absl::StrFormat("%g", p);
  for (char& c : text) {
    if (c == '.') c = '_';
  }
  return "p" + text;
}

std::string PercentileLabel(double p) { return absl::StrFormat("p%g", p); }

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string JsonNumber(double value) {
  if (!std::isfinite(value)) return "0";
  return absl::StrFormat("%.6f", value);
}

std::string LatencyJson(const Histogram& h) {
  std::string out = absl::StrCat("{\"count\": ", h.count(), ", \"min\": ", h.min(),
                                 ", \"mean\": ", JsonNumber(h.mean()),
                                 ", \"stdev\": ", JsonNumber(h.stdev()), ", \"max\": ", h.max());
  for (double p : kReportPercentiles) {
    absl::StrAppend(&out, ", \"", PercentileKey(p), "\": ", h.ValueAtPercentile(p));
  }
  absl::StrAppend(&out, ", \"saturated\": ", h.saturated(), "}");
  return out;
}

std::string LatencyRow(const std::string& label, const Histogram& h) {
  std::string row = absl::StrFormat("  %-22s %10s %10s", label, FormatLatency(h.mean()),
                                    FormatLatency(h.stdev()));
  for (double p : kReportPercentiles) {
    absl::StrAppend(&row, absl::StrFormat(" %10s", FormatLatency(h.ValueAtPercentile(p))));
  }
  absl::StrAppend(&row, absl::StrFormat(" %10s\n", FormatLatency(h.max())));
  return row;
}

// The TLS lines of the text summary.
std::string FormatTlsText(const Result& r) {
  const TlsFigures& t = r.tls;
  std::string out = absl::StrFormat(
      "TLS: %s, certificate %s; %d handshakes (%d resumed), %.2f handshakes/s in the window\n",
      t.negotiated.empty() ? std::string("no handshake completed") : t.negotiated,
      r.options.tls.ca_file.empty() ? "not checked" : "checked against --tls_ca", t.handshakes,
      t.resumed,
      r.handshakes_per_second());
  absl::StrAppend(&out, absl::StrFormat("  handshake latency: p50 %s, p99 %s, max %s\n",
                                        FormatLatency(t.latency.ValueAtPercentile(50)),
                                        FormatLatency(t.latency.ValueAtPercentile(99)),
                                        FormatLatency(t.latency.max())));
  if (!t.first_error.empty()) absl::StrAppend(&out, "  first handshake error: ", t.first_error, "\n");
  return out;
}

}  // namespace

std::string FormatLatency(double ns) {
  if (ns < 1e3) return absl::StrFormat("%.0fns", ns);
  if (ns < 1e6) return absl::StrFormat("%.2fus", ns / 1e3);
  if (ns < 1e9) return absl::StrFormat("%.2fms", ns / 1e6);
  return absl::StrFormat("%.2fs", ns / 1e9);
}

std::string FormatBytes(double bytes) {
  if (bytes < 1024) return absl::StrFormat("%.0fB", bytes);
  if (bytes < 1024.0 * 1024) return absl::StrFormat("%.2fKiB", bytes / 1024);
  if (bytes < 1024.0 * 1024 * 1024) return absl::StrFormat("%.2fMiB", bytes / (1024.0 * 1024));
  return absl::StrFormat("%.2fGiB", bytes / (1024.0 * 1024 * 1024));
}

std::string FormatText(const Result& r) {
  const Options& o = r.options;
  std::string targets;
  for (const auto& t : o.targets) absl::StrAppend(&targets, targets.empty() ? "" : ",", t);
  std::string length =
      o.requests >= 0 ? absl::StrCat(o.requests, " requests")
                      : absl::StrFormat("%.2fs", static_cast<double>(o.duration_ns) / 1e9);
  std::string out = absl::StrFormat("loadgen: %s test @ %s for %s", o.protocol,
                                    targets, length);
  if (o.warmup_ns > 0) {
    absl::StrAppend(&out, absl::StrFormat(" (+%.2fs warm-up)", static_cast<double>(o.warmup_ns) / 1e9));
  }
  absl::StrAppend(&out, "\n");
  std::string what = o.protocol == http::kHttpName
                         ? (o.http == HttpRequest::kPlaintext
                                ? std::string("GET /plaintext")
                                : absl::StrCat("POST /echo, ", o.size, "-byte bodies"))
                         : absl::StrCat(o.size, "-byte payloads");
  std::string loop = r.open_loop ? absl::StrFormat("open loop at %s req/s", o.rate.ToString())
                                 : std::string("closed loop");
  absl::StrAppend(&out, absl::StrFormat("  %d threads and %d connections (%d open at start), "
                                        "pipeline %d, %s, %s%s\n",
                                        std::min(o.threads, o.connections), o.connections,
                                        r.connections_open_at_start, o.pipeline, what, loop,
                                        o.verify ? ", verify" : ""));
  absl::StrAppend(&out, absl::StrFormat("  %-22s %10s %10s", "Latency", "mean", "stdev"));
  for (double p : kReportPercentiles) {
    absl::StrAppend(&out, absl::StrFormat(" %10s", PercentileLabel(p)));
  }
  absl::StrAppend(&out, absl::StrFormat(" %10s\n", "max"));
  if (r.open_loop) {
    absl::StrAppend(&out, LatencyRow("corrected", r.latency));
    absl::StrAppend(&out, LatencyRow("uncorrected", r.latency_uncorrected));
  } else {
    absl::StrAppend(&out, LatencyRow("all", r.latency));
  }
  absl::StrAppend(&out, absl::StrFormat("  %d requests in %.2fs, %s read, %s written\n",
                                        r.requests, r.duration_s,
                                        FormatBytes(static_cast<double>(r.bytes_received)),
                                        FormatBytes(static_cast<double>(r.bytes_sent))));
  absl::StrAppend(&out, absl::StrFormat("  scheduled %d, sent %d, completed %d (ok %d, failed %d); "
                                        "lost %d, unsent %d\n",
                                        r.scheduled(), r.requests_sent, r.completed(), r.requests,
                                        r.failed, r.lost, r.unsent));
  absl::StrAppend(&out, absl::StrFormat("Requests/sec: %.2f\n", r.requests_per_second()));
  absl::StrAppend(&out, absl::StrFormat("Transfer/sec: %s in, %s out\n",
                                        FormatBytes(r.bytes_received_per_second()),
                                        FormatBytes(r.bytes_sent_per_second())));
  const ErrorCounts& e = r.errors;
  absl::StrAppend(&out, absl::StrFormat("Errors: %d (connect %d, reset %d, timeout %d, eof %d, "
                                        "mismatch %d, status %d, protocol %d%s); lost %d\n",
                                        e.total(), e.connect, e.reset, e.timeout, e.eof,
                                        e.mismatch, e.status, e.protocol,
                                        o.tls.enabled
                                            ? absl::StrCat(", tls_handshake ", e.tls_handshake)
                                            : std::string(),
                                        r.lost));
  absl::StrAppend(&out, absl::StrFormat("Connections: %d connects, %d reconnects", r.connects,
                                        r.reconnects));
  if (o.reconnect_every > 0) {
    absl::StrAppend(&out, absl::StrFormat(" (every %d requests)", o.reconnect_every));
  }
  if (o.connect_rate > 0) {
    absl::StrAppend(&out, absl::StrFormat(", at most %.0f connects/s", o.connect_rate));
  }
  absl::StrAppend(&out, "\n");
  if (o.tls.enabled) absl::StrAppend(&out, FormatTlsText(r));
  if (auto cpu = r.server_cpu_us_per_request()) {
    absl::StrAppend(&out, absl::StrFormat("Server CPU: %.3fs over the window, %.2f us/request\n",
                                          *r.server_cpu_seconds, *cpu));
  } else if (!r.server_cpu_error.empty()) {
    absl::StrAppend(&out, "Server CPU: unknown (", r.server_cpu_error, ")\n");
  }
  if (o.verify) {
    absl::StrAppend(&out, absl::StrFormat("Verified: %d responses byte for byte%s\n", r.verified,
                                          r.verification_failed() ? ": VERIFICATION FAILED" : ""));
  }
  return out;
}

std::string FormatJson(const Result& r) {
  const Options& o = r.options;
  std::string targets;
  for (const auto& t : o.targets) absl::StrAppend(&targets, targets.empty() ? "" : ", ", JsonString(t));
  std::string resolved;
  for (const auto& t : r.resolved_targets) {
    absl::StrAppend(&resolved, resolved.empty() ? "" : ", ", JsonString(t));
  }
  std::string out = "{\n";
  absl::StrAppend(&out, "  \"config\": {\"targets\": [", targets, "], \"resolved_targets\": [",
                  resolved, "], \"protocol\": ", JsonString(o.protocol),
                  ", \"http\": ", JsonString(std::string(HttpRequestName(o.http))),
                  ", \"connections\": ", o.connections,
                  ", \"threads\": ", std::min(o.threads, o.connections),
                  ", \"pipeline\": ", o.pipeline, ", \"size\": ", o.size,
                  ", \"mode\": ", r.open_loop ? "\"open\"" : "\"closed\"",
                  ", \"rate\": ", JsonNumber(o.rate.initial_rate()),
                  ", \"rate_schedule\": ", JsonString(o.rate.ToString()),
                  ", \"duration_s\": ", JsonNumber(static_cast<double>(o.duration_ns) / 1e9),
                  ", \"requests\": ", o.requests,
                  ", \"warmup_s\": ", JsonNumber(static_cast<double>(o.warmup_ns) / 1e9),
                  ", \"timeout_s\": ", JsonNumber(static_cast<double>(o.timeout_ns) / 1e9),
                  ", \"verify\": ", o.verify ? "true" : "false",
                  ", \"reconnect_every\": ", o.reconnect_every,
                  ", \"connect_rate\": ", JsonNumber(o.connect_rate), "},\n");
  absl::StrAppend(&out, "  \"duration_s\": ", JsonNumber(r.duration_s), ",\n");
  absl::StrAppend(&out, "  \"requests\": ", r.requests, ",\n");
  absl::StrAppend(&out, "  \"requests_sent\": ", r.requests_sent, ",\n");
  absl::StrAppend(&out, "  \"requests_per_second\": ", JsonNumber(r.requests_per_second()), ",\n");
  absl::StrAppend(&out, "  \"bytes_sent\": ", r.bytes_sent, ",\n");
  absl::StrAppend(&out, "  \"bytes_received\": ", r.bytes_received, ",\n");
  absl::StrAppend(&out, "  \"bytes_sent_per_second\": ", JsonNumber(r.bytes_sent_per_second()),
                  ",\n");
  absl::StrAppend(&out, "  \"bytes_received_per_second\": ",
                  JsonNumber(r.bytes_received_per_second()), ",\n");
  absl::StrAppend(&out, "  \"verified\": ", r.verified, ",\n");
  absl::StrAppend(&out, "  \"verification_failed\": ", r.verification_failed() ? "true" : "false",
                  ",\n");
  absl::StrAppend(&out, "  \"lost\": ", r.lost, ",\n");
  absl::StrAppend(&out, "  \"scheduled\": ", r.scheduled(), ",\n");
  absl::StrAppend(&out, "  \"completed\": ", r.completed(), ",\n");
  absl::StrAppend(&out, "  \"failed\": ", r.failed, ",\n");
  absl::StrAppend(&out, "  \"unsent\": ", r.unsent, ",\n");
  absl::StrAppend(&out, "  \"connects\": ", r.connects, ",\n");
  absl::StrAppend(&out, "  \"reconnects\": ", r.reconnects, ",\n");
  if (auto cpu = r.server_cpu_us_per_request()) {
    absl::StrAppend(&out, "  \"server_cpu_seconds\": ", JsonNumber(*r.server_cpu_seconds), ",\n");
    absl::StrAppend(&out, "  \"server_cpu_us_per_request\": ", JsonNumber(*cpu), ",\n");
  }
  absl::StrAppend(&out, "  \"connections_open_at_start\": ", r.connections_open_at_start, ",\n");
  if (o.tls.enabled) {
    absl::StrAppend(&out, "  \"tls\": {\"handshakes\": ", r.tls.handshakes,
                    ", \"handshakes_measured\": ", r.tls.handshakes_measured,
                    ", \"handshakes_per_second\": ", JsonNumber(r.handshakes_per_second()),
                    ", \"resumed\": ", r.tls.resumed,
                    ", \"verified\": ", o.tls.ca_file.empty() ? "false" : "true",
                    ", \"negotiated\": ", JsonString(r.tls.negotiated),
                    ", \"first_error\": ", JsonString(r.tls.first_error),
                    ", \"handshake_latency_ns\": ", LatencyJson(r.tls.latency), "},\n");
  }
  const ErrorCounts& e = r.errors;
  absl::StrAppend(&out, "  \"errors\": {\"total\": ", e.total(), ", \"connect\": ", e.connect,
                  ", \"reset\": ", e.reset, ", \"timeout\": ", e.timeout, ", \"eof\": ", e.eof,
                  ", \"mismatch\": ", e.mismatch, ", \"status\": ", e.status,
                  ", \"protocol\": ", e.protocol, ", \"tls_handshake\": ", e.tls_handshake,
                  "},\n");
  absl::StrAppend(&out, "  \"latency_ns\": {\n    \"corrected\": ", LatencyJson(r.latency),
                  ",\n    \"uncorrected\": ", LatencyJson(r.latency_uncorrected), "\n  }\n}\n");
  return out;
}

std::string FormatHgrm(const Histogram& h) {
  constexpr double kScale = 1e6;  // ns per ms
  std::string out = absl::StrFormat("%12s %14s %10s %14s\n\n", "Value", "Percentile",
                                    "TotalCount", "1/(1-Percentile)");
  h.ForEachPercentileStep(5, [&out](const Histogram::PercentileStep& step) {
    const double value = static_cast<double>(step.value) / kScale;
    const double fraction = step.percentile / 100.0;
    if (fraction < 1.0) {
      absl::StrAppend(&out, absl::StrFormat("%12.3f %2.12f %10d %14.2f\n", value, fraction,
                                            step.total_count, 1.0 / (1.0 - fraction)));
    } else {
      absl::StrAppend(&out, absl::StrFormat("%12.3f %2.12f %10d\n", value, fraction,
                                            step.total_count));
    }
  });
  absl::StrAppend(&out, absl::StrFormat("#[Mean    = %12.3f, StdDeviation   = %12.3f]\n",
                                        h.mean() / kScale, h.stdev() / kScale));
  absl::StrAppend(&out, absl::StrFormat("#[Max     = %12.3f, Total count    = %12d]\n",
                                        static_cast<double>(h.max()) / kScale, h.count()));
  absl::StrAppend(&out, absl::StrFormat("#[Buckets = %12d, SubBuckets     = %12d]\n",
                                        h.bucket_count(), h.sub_bucket_count()));
  return out;
}

std::string FormatProgress(const Progress& p, double previous_elapsed_s,
                           uint64_t previous_completed, uint64_t previous_bytes) {
  const double dt = p.elapsed_s - previous_elapsed_s;
  const double rate = dt > 0 ? static_cast<double>(p.completed - previous_completed) / dt : 0;
  const double bytes = dt > 0 ? static_cast<double>(p.bytes_received - previous_bytes) / dt : 0;
  return absl::StrFormat("[%6.1fs%s] %10.0f req/s  %10s/s in  %d open  %d errors",
                         p.elapsed_s, p.warming_up ? " warm-up" : "", rate, FormatBytes(bytes),
                         p.connections_open, p.errors);
}

}  // namespace shoal::loadgen
