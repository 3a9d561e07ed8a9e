#include "ops/dashboard.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace trellis::ops {

namespace {

using Json = nlohmann::ordered_json;

struct RouteRow {
    std::string route, plugin;
    std::uint64_t requests = 0, client_errors = 0, server_errors = 0;
    std::optional<double> p50, p90, p99;  // seconds
};

std::vector<RouteRow> route_rows(const MetricTotals& totals) {
    std::map<std::pair<std::string, std::string>, RouteRow> rows;
    for (const auto& [labels, count] : totals.requests) {
        RouteRow& row = rows[{labels.route, labels.plugin}];
        row.route = labels.route;
        row.plugin = labels.plugin;
        row.requests += count;
        if (!labels.status.empty() && labels.status[0] == '4') row.client_errors += count;
        if (!labels.status.empty() && labels.status[0] == '5') row.server_errors += count;
    }
    std::vector<RouteRow> out;
    for (auto& [key, row] : rows) {
        if (const auto it = totals.durations.find(row.route); it != totals.durations.end()) {
            row.p50 = histogram_quantile(it->second, 0.5);
            row.p90 = histogram_quantile(it->second, 0.9);
            row.p99 = histogram_quantile(it->second, 0.99);
        }
        out.push_back(std::move(row));
    }
    // Busiest first: what an operator looks at first.
    std::stable_sort(out.begin(), out.end(), [](const RouteRow& a, const RouteRow& b) { return a.requests > b.requests; });
    return out;
}

Json milliseconds(const std::optional<double>& seconds) {
    if (!seconds) return nullptr;
    return std::round(*seconds * 1e6) / 1e3;  // to the microsecond
}

std::string escape_html(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string duration_text(double seconds) {
    const auto s = static_cast<long long>(seconds);
    if (s < 60) return fmt::format("{}s", s);
    if (s < 3600) return fmt::format("{}m {}s", s / 60, s % 60);
    if (s < 86400) return fmt::format("{}h {}m", s / 3600, (s % 3600) / 60);
    return fmt::format("{}d {}h", s / 86400, (s % 86400) / 3600);
}

std::string utc_text(double unix_seconds) {
    const std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string ms_text(const std::optional<double>& seconds) {
    if (!seconds) return "-";
    return fmt::format("{:.2f}", *seconds * 1e3);
}

// The page's script: polls /dashboard.json, turns the counters' differences
// into rates, keeps the last five minutes for the chart. Plain DOM, no
// library: the admin listener must work offline.
constexpr std::string_view kScript = R"JS(
"use strict";
const POLL_MS = 2000, WINDOW_S = 300;
const history = [];  // {t, requests, errors}
let previous = null;
const $ = (id) => document.getElementById(id);
const text = (el, value) => { el.textContent = value; };
function cell(row, value, cls) {
  const td = row.insertCell();
  td.textContent = value;
  if (cls) td.className = cls;
  return td;
}
function fmtMs(v) { return v === null || v === undefined ? "-" : v.toFixed(2); }
function fmtRate(v) { return v === null ? "-" : v < 10 ? v.toFixed(2) : v.toFixed(0); }
function renderWorkers(d) {
  const body = $("workers").tBodies[0];
  body.replaceChildren();
  for (const w of d.workers) {
    const row = body.insertRow();
    cell(row, w.name); cell(row, String(w.pid)); cell(row, String(w.generation));
    cell(row, w.state, "state-" + w.state); cell(row, duration(w.uptime_seconds)); cell(row, String(w.restarts));
  }
}
function duration(s) {
  s = Math.floor(s);
  if (s < 60) return s + "s";
  if (s < 3600) return Math.floor(s / 60) + "m " + (s % 60) + "s";
  if (s < 86400) return Math.floor(s / 3600) + "h " + Math.floor((s % 3600) / 60) + "m";
  return Math.floor(s / 86400) + "d " + Math.floor((s % 86400) / 3600) + "h";
}
function renderRoutes(d) {
  const before = new Map();
  if (previous) for (const r of previous.routes) before.set(r.plugin + " " + r.route, r);
  const dt = previous ? d.now_unix_seconds - previous.now_unix_seconds : 0;
  const body = $("routes").tBodies[0];
  body.replaceChildren();
  for (const r of d.routes) {
    const old = before.get(r.plugin + " " + r.route);
    const rate = old && dt > 0 ? (r.requests - old.requests) / dt : null;
    const errRate = old && dt > 0 ? (r.errors_5xx - old.errors_5xx) / dt : null;
    const row = body.insertRow();
    cell(row, r.route); cell(row, r.plugin || "-");
    cell(row, String(r.requests), "num"); cell(row, fmtRate(rate), "num rate");
    cell(row, String(r.errors_4xx), "num"); cell(row, String(r.errors_5xx), "num");
    cell(row, fmtRate(errRate), "num");
    cell(row, fmtMs(r.p50_ms), "num"); cell(row, fmtMs(r.p90_ms), "num"); cell(row, fmtMs(r.p99_ms), "num");
  }
}
function renderChart() {
  const svg = $("chart"), line = $("chart-line"), errs = $("chart-errors");
  const points = [];
  for (let i = 1; i < history.length; i++) {
    const a = history[i - 1], b = history[i], dt = b.t - a.t;
    if (dt > 0) points.push({ t: b.t, rate: (b.requests - a.requests) / dt, err: (b.errors - a.errors) / dt });
  }
  const now = history.length ? history[history.length - 1].t : 0;
  const max = Math.max(1, ...points.map((p) => p.rate));
  const x = (t) => (1 - (now - t) / WINDOW_S) * 600, y = (v) => 150 - (v / max) * 140;
  line.setAttribute("points", points.map((p) => x(p.t).toFixed(1) + "," + y(p.rate).toFixed(1)).join(" "));
  errs.setAttribute("points", points.map((p) => x(p.t).toFixed(1) + "," + y(p.err).toFixed(1)).join(" "));
  text($("chart-max"), fmtRate(max) + " req/s");
  text($("chart-now"), points.length ? fmtRate(points[points.length - 1].rate) + " req/s now" : "collecting...");
  svg.setAttribute("aria-label", "requests per second over the last five minutes; now " + $("chart-now").textContent);
}
async function poll() {
  try {
    const response = await fetch("dashboard.json", { cache: "no-store" });
    if (!response.ok) throw new Error("dashboard.json answered " + response.status);
    const d = await response.json();
    text($("generation"), String(d.generation));
    text($("uptime"), duration(d.uptime_seconds));
    text($("in-flight"), String(d.in_flight));
    text($("total-requests"), String(d.totals.requests));
    text($("reloads"), (d.reloads.ok || 0) + " ok, " + (d.reloads.failed || 0) + " failed");
    renderWorkers(d);
    renderRoutes(d);
    history.push({ t: d.now_unix_seconds, requests: d.totals.requests, errors: d.totals.errors_5xx });
    while (history.length && history[0].t < d.now_unix_seconds - WINDOW_S) history.shift();
    renderChart();
    previous = d;
    text($("status"), "live, updated " + new Date(d.now_unix_seconds * 1000).toISOString().slice(11, 19) + " UTC");
    $("status").className = "live";
  } catch (error) {
    text($("status"), "not updating: " + error.message);
    $("status").className = "stale";
  }
}
poll();
setInterval(poll, POLL_MS);
)JS";

constexpr std::string_view kStyle = R"CSS(
:root { --fg: #1d2430; --muted: #5b6678; --line: #d9dee7; --bg: #f6f7f9; --card: #fff; --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --accent: #0969da; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; flex-wrap: wrap; gap: 1.5rem; align-items: baseline; padding: 1rem 1.5rem; background: var(--card); border-bottom: 1px solid var(--line); }
header h1 { font-size: 1.2rem; margin: 0; }
header .fact { color: var(--muted); }
header .fact b { color: var(--fg); font-weight: 600; }
main { padding: 1rem 1.5rem; display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); }
section { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 0.75rem 1rem; overflow-x: auto; }
section.wide { grid-column: 1 / -1; }
h2 { font-size: 1rem; margin: 0 0 0.5rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.3rem 0.6rem 0.3rem 0; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { color: var(--muted); font-weight: 500; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.routes { white-space: normal; } td.routes code { display: inline-block; margin-right: 0.5em; }
.state-ready { color: var(--ok); } .state-starting { color: var(--warn); } .state-draining { color: var(--muted); }
.ok { color: var(--ok); } .failed { color: var(--bad); }
#status.live { color: var(--ok); } #status.stale { color: var(--bad); }
svg { width: 100%; height: 160px; background: #fbfcfd; border: 1px solid var(--line); }
#chart-line { fill: none; stroke: var(--accent); stroke-width: 2; }
#chart-errors { fill: none; stroke: var(--bad); stroke-width: 1.5; }
.legend { color: var(--muted); display: flex; gap: 1rem; }
code { font-size: 0.95em; }
)CSS";

}  // namespace

std::optional<double> histogram_quantile(const HistogramTotals& histogram, double q) {
    std::uint64_t total = 0;
    for (const auto n : histogram.buckets) total += n;
    if (total == 0) return std::nullopt;
    const double rank = q * static_cast<double>(total);
    double seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
        const auto n = static_cast<double>(histogram.buckets[i]);
        if (seen + n >= rank && n > 0) {
            if (i == kBuckets - 1) return kDurationBounds.back();  // +Inf: the highest finite bound
            const double lower = i == 0 ? 0.0 : kDurationBounds[i - 1];
            const double upper = kDurationBounds[i];
            return lower + (upper - lower) * ((rank - seen) / n);
        }
        seen += n;
    }
    return kDurationBounds.back();
}

std::string dashboard_json(const DashboardData& data) {
    Json workers = Json::array();
    for (const auto& w : data.workers)
        workers.push_back({{"name", w.name},
                           {"pid", w.pid},
                           {"generation", w.generation},
                           {"state", w.state},
                           {"uptime_seconds", std::floor(w.uptime_seconds)},
                           {"restarts", w.restarts}});
    Json plugins = Json::array();
    for (const auto& p : data.plugins)
        plugins.push_back({{"name", p.name}, {"version", p.version}, {"abi", p.abi}, {"routes", p.routes}});
    Json routes = Json::array();
    std::uint64_t requests = 0, server_errors = 0;
    for (const auto& r : route_rows(data.totals)) {
        requests += r.requests;
        server_errors += r.server_errors;
        routes.push_back({{"route", r.route},
                          {"plugin", r.plugin},
                          {"requests", r.requests},
                          {"errors_4xx", r.client_errors},
                          {"errors_5xx", r.server_errors},
                          {"p50_ms", milliseconds(r.p50)},
                          {"p90_ms", milliseconds(r.p90)},
                          {"p99_ms", milliseconds(r.p99)}});
    }
    Json last_reload = nullptr;
    if (data.last_reload)
        last_reload = {{"at", utc_text(data.last_reload->at_unix_seconds)},
                       {"ok", data.last_reload->ok},
                       {"message", data.last_reload->message}};
    const Json out = {
        {"version", data.version},
        {"abi", data.abi},
        {"now_unix_seconds", data.now_unix_seconds},
        {"uptime_seconds", std::floor(data.uptime_seconds)},
        {"generation", data.generation},
        {"in_flight", data.in_flight},
        {"workers", std::move(workers)},
        {"restarts", data.restarts},
        {"reloads", data.reloads},
        {"last_reload", std::move(last_reload)},
        {"plugins", std::move(plugins)},
        {"routes", std::move(routes)},
        {"totals", {{"requests", requests}, {"errors_5xx", server_errors}, {"not_counted", data.totals.not_counted}}},
    };
    return out.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string dashboard_html(const DashboardData& data) {
    const auto count_of = [](const std::map<std::string, std::uint64_t>& m, const std::string& key) {
        const auto it = m.find(key);
        return it == m.end() ? std::uint64_t{0} : it->second;
    };
    std::uint64_t total_requests = 0;
    const auto rows = route_rows(data.totals);
    for (const auto& r : rows) total_requests += r.requests;

    std::string html;
    html.reserve(16384);
    html += "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<title>Trellis dashboard</title>\n"
            "<link rel=\"icon\" href=\"data:,\">\n"  // no /favicon.ico request: the listener has none
            "<style>";
    html += kStyle;
    html += "</style>\n</head>\n<body>\n<header>\n<h1>Trellis " + escape_html(data.version) + "</h1>\n";
    html += fmt::format(
        "<span class=\"fact\">ABI <b>{}</b></span>\n"
        "<span class=\"fact\">generation <b id=\"generation\">{}</b></span>\n"
        "<span class=\"fact\">up <b id=\"uptime\">{}</b></span>\n"
        "<span class=\"fact\">in flight <b id=\"in-flight\">{}</b></span>\n"
        "<span class=\"fact\">requests <b id=\"total-requests\">{}</b></span>\n"
        "<span class=\"fact\">reloads <b id=\"reloads\">{} ok, {} failed</b></span>\n"
        "<span class=\"fact\" id=\"status\">as of {} UTC (updates with JavaScript)</span>\n</header>\n<main>\n",
        escape_html(data.abi), data.generation, duration_text(data.uptime_seconds), data.in_flight, total_requests,
        count_of(data.reloads, "ok"), count_of(data.reloads, "failed"), utc_text(data.now_unix_seconds).substr(11, 8));

    html += "<section class=\"wide\">\n<h2>Requests per second, last five minutes</h2>\n"
            "<svg id=\"chart\" viewBox=\"0 0 600 160\" preserveAspectRatio=\"none\" role=\"img\" "
            "aria-label=\"requests per second over the last five minutes\">"
            "<polyline id=\"chart-line\" points=\"\"/><polyline id=\"chart-errors\" points=\"\"/></svg>\n"
            "<div class=\"legend\"><span id=\"chart-now\">collecting...</span><span>top: <span id=\"chart-max\">-</span>"
            "</span><span style=\"color:var(--accent)\">&#9644; all</span><span style=\"color:var(--bad)\">&#9644; 5xx"
            "</span></div>\n</section>\n";

    html += "<section>\n<h2>Workers</h2>\n<table id=\"workers\">\n<thead><tr><th>worker</th><th>pid</th>"
            "<th>generation</th><th>state</th><th>up</th><th>restarts</th></tr></thead>\n<tbody>\n";
    for (const auto& w : data.workers)
        html += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"state-{}\">{}</td><td>{}</td><td>{}</td></tr>\n",
                            escape_html(w.name), w.pid, w.generation, escape_html(w.state), escape_html(w.state),
                            duration_text(w.uptime_seconds), w.restarts);
    html += "</tbody>\n</table>\n<p>Restarts by reason: ";
    if (data.restarts.empty()) html += "none";
    bool first = true;
    for (const auto& [reason, n] : data.restarts) {
        html += fmt::format("{}{} {}", first ? "" : ", ", escape_html(reason), n);
        first = false;
    }
    html += ".</p>\n<p>Last reload: ";
    if (data.last_reload)
        html += fmt::format("<span class=\"{}\">{}</span> at {}: {}", data.last_reload->ok ? "ok" : "failed",
                            data.last_reload->ok ? "ok" : "failed", utc_text(data.last_reload->at_unix_seconds),
                            escape_html(data.last_reload->message));
    else
        html += "none since start";
    html += ".</p>\n</section>\n";

    html += "<section>\n<h2>Plugins</h2>\n<table id=\"plugins\">\n<thead><tr><th>instance</th><th>version</th>"
            "<th>ABI</th><th>routes</th></tr></thead>\n<tbody>\n";
    for (const auto& p : data.plugins) {
        std::string routes;
        for (const auto& r : p.routes) routes += (routes.empty() ? "" : " ") + ("<code>" + escape_html(r) + "</code>");
        html += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"routes\">{}</td></tr>\n", escape_html(p.name),
                            escape_html(p.version), escape_html(p.abi), routes.empty() ? "-" : routes);
    }
    html += "</tbody>\n</table>\n</section>\n";

    html += "<section class=\"wide\">\n<h2>Routes</h2>\n<table id=\"routes\">\n<thead><tr><th>route</th><th>plugin</th>"
            "<th class=\"num\">requests</th><th class=\"num\">req/s</th><th class=\"num\">4xx</th>"
            "<th class=\"num\">5xx</th><th class=\"num\">5xx/s</th><th class=\"num\">p50 ms</th>"
            "<th class=\"num\">p90 ms</th><th class=\"num\">p99 ms</th></tr></thead>\n<tbody>\n";
    for (const auto& r : rows)
        html += fmt::format(
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num rate\">-</td><td class=\"num\">{}</td>"
            "<td class=\"num\">{}</td><td class=\"num\">-</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
            "<td class=\"num\">{}</td></tr>\n",
            escape_html(r.route), r.plugin.empty() ? "-" : escape_html(r.plugin), r.requests, r.client_errors,
            r.server_errors, ms_text(r.p50), ms_text(r.p90), ms_text(r.p99));
    html += "</tbody>\n</table>\n<p>Latency quantiles are estimated from the duration histogram since start "
            "(<code>/metrics</code>: <code>http_request_duration_seconds</code>); rates are measured between "
            "updates.</p>\n</section>\n</main>\n<script>";
    html += kScript;
    html += "</script>\n</body>\n</html>\n";
    return html;
}

}  // namespace trellis::ops
