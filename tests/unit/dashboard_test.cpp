// The operator dashboard's figures and page (ops/dashboard.*), without a
// supervisor: quantiles from a histogram, the JSON the page polls, and the
// page's static parts (readable without JavaScript, names escaped).
#include "ops/dashboard.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace trellis::ops {
namespace {

// A histogram with `n` observations in the bucket whose upper bound is kDurationBounds[i].
HistogramTotals histogram(std::initializer_list<std::pair<std::size_t, std::uint64_t>> counts) {
    HistogramTotals h;
    for (const auto& [bucket, n] : counts) {
        h.buckets[bucket] += n;
        h.count += n;
    }
    return h;
}

TEST(DashboardQuantile, InterpolatesInsideTheBucketLikeHistogramQuantile) {
    EXPECT_FALSE(histogram_quantile(HistogramTotals{}, 0.5));
    // 100 observations in (0.001, 0.0025]: the median is halfway through it.
    const auto one_bucket = histogram({{2, 100}});
    EXPECT_DOUBLE_EQ(*histogram_quantile(one_bucket, 0.5), 0.001 + 0.0015 * 0.5);
    EXPECT_DOUBLE_EQ(*histogram_quantile(one_bucket, 0.99), 0.001 + 0.0015 * 0.99);
    // 90 fast (first bucket, from 0), 10 slow (0.5, 1]: p50 is fast, p99 slow.
    const auto split = histogram({{0, 90}, {10, 10}});
    EXPECT_DOUBLE_EQ(*histogram_quantile(split, 0.5), 0.0005 * (50.0 / 90.0));
    EXPECT_DOUBLE_EQ(*histogram_quantile(split, 0.99), 0.5 + 0.5 * (9.0 / 10.0));
    // Beyond the last finite bound: that bound, as Prometheus answers.
    EXPECT_DOUBLE_EQ(*histogram_quantile(histogram({{kBuckets - 1, 3}}), 0.5), kDurationBounds.back());
}

DashboardData sample() {
    DashboardData d;
    d.version = "9.9.9";
    d.abi = "1.2";
    d.now_unix_seconds = 1796280000;
    d.uptime_seconds = 3725;
    d.generation = 3;
    d.in_flight = 1;
    d.workers = {{"3.0", 101, 3, "ready", 60, 0}, {"3.1", 102, 3, "starting", 1, 2}};
    d.restarts = {{"crash", 2}};
    d.reloads = {{"ok", 2}};
    d.last_reload = DashboardReload{1796279000, true, "generation 3 serves with 2 workers"};
    d.plugins = {{"hello", "1.0.0", "1.0", {"/hello", "/hello/{name}"}}, {"<b>evil</b>", "1", "1.0", {}}};
    d.totals.requests[{"GET", "/hello", "200", "hello"}] = 40;
    d.totals.requests[{"GET", "/hello", "404", "hello"}] = 2;
    d.totals.requests[{"GET", "/hello/{name}", "500", "hello"}] = 1;
    d.totals.requests[{"GET", "/hello/{name}", "200", "hello"}] = 4;
    d.totals.durations["/hello"] = histogram({{1, 42}});
    return d;
}

TEST(DashboardJson, GivesWorkersReloadsPluginsAndPerRouteFigures) {
    const auto j = nlohmann::json::parse(dashboard_json(sample()));
    EXPECT_EQ(j["version"], "9.9.9");
    EXPECT_EQ(j["generation"], 3);
    EXPECT_EQ(j["workers"].size(), 2u);
    EXPECT_EQ(j["workers"][1]["restarts"], 2);
    EXPECT_EQ(j["workers"][1]["state"], "starting");
    EXPECT_EQ(j["last_reload"]["at"], "2026-12-03T06:23:20Z");
    EXPECT_EQ(j["last_reload"]["ok"], true);
    EXPECT_EQ(j["plugins"][0]["routes"], nlohmann::json::array({"/hello", "/hello/{name}"}));
    ASSERT_EQ(j["routes"].size(), 2u);
    // Busiest route first, with its own 4xx and 5xx.
    EXPECT_EQ(j["routes"][0]["route"], "/hello");
    EXPECT_EQ(j["routes"][0]["requests"], 42);
    EXPECT_EQ(j["routes"][0]["errors_4xx"], 2);
    EXPECT_EQ(j["routes"][0]["errors_5xx"], 0);
    EXPECT_DOUBLE_EQ(j["routes"][0]["p50_ms"].get<double>(), 0.75);  // halfway through (0.5 ms, 1 ms]
    EXPECT_EQ(j["routes"][1]["errors_5xx"], 1);
    EXPECT_TRUE(j["routes"][1]["p50_ms"].is_null());  // no histogram for it
    EXPECT_EQ(j["totals"]["requests"], 47);
    EXPECT_EQ(j["totals"]["errors_5xx"], 1);
}

TEST(DashboardPage, StaticPartsAreInTheHtmlAndEscaped) {
    const std::string html = dashboard_html(sample());
    EXPECT_EQ(html.rfind("<!doctype html>", 0), 0u);
    for (const char* part : {"<b id=\"generation\">3</b>", "<b id=\"uptime\">1h 2m</b>", "<td>3.1</td>",
                             "<td class=\"state-starting\">starting</td>", "crash 2", "generation 3 serves with 2 workers",
                             "<code>/hello/{name}</code>", "<td>/hello</td><td>hello</td><td class=\"num\">42</td>",
                             "&lt;b&gt;evil&lt;/b&gt;", "fetch(\"dashboard.json\""})
        EXPECT_NE(html.find(part), std::string::npos) << part;
    EXPECT_EQ(html.find("<b>evil</b>"), std::string::npos);
    // Nothing from elsewhere: no external script, style, font or image.
    for (const char* external : {"src=\"http", "href=\"http", "@import", "url(http"})
        EXPECT_EQ(html.find(external), std::string::npos) << external;
}

}  // namespace
}  // namespace trellis::ops
