// The deadline plugin: Request::deadline() and time_left() (ABI 1.3) as a
// handler and a hook see them; deadline.plugin.yaml lists the routes.
#include <charconv>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <trellis/plugin.hpp>

TRELLIS_PLUGIN();

namespace {

std::int64_t epoch_ms(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

trellis::Json ms_or_null(std::optional<std::int64_t> ms) { return ms ? trellis::Json(*ms) : trellis::Json(nullptr); }

}  // namespace

TRELLIS_HANDLER(deadline_hook, trellis::Request& req, trellis::Response& res) {
    const auto due = req.deadline();
    res.header("X-Deadline-Hook", due ? std::to_string(epoch_ms(*due)) : "none");
}

TRELLIS_HANDLER(deadline_show, trellis::Request& req, trellis::Response& res) {
    const auto due = req.deadline();
    const auto left = req.time_left();
    res.json({{"deadline_ms", ms_or_null(due ? std::optional(epoch_ms(*due)) : std::nullopt)},
              {"now_ms", epoch_ms(std::chrono::system_clock::now())},
              {"left_ms", ms_or_null(left ? std::optional<std::int64_t>(left->count()) : std::nullopt)}});
}

// The pattern the SDK guide shows: give up while there is still time to say so.
TRELLIS_HANDLER(deadline_guarded, trellis::Request& req, trellis::Response& res) {
    const std::string_view text = req.query("need_ms").value_or("1000");
    std::int64_t need_ms = 1000;
    std::from_chars(text.data(), text.data() + text.size(), need_ms);
    const auto need = std::chrono::milliseconds(need_ms);
    if (const auto left = req.time_left(); left && *left < need)
        throw trellis::HttpError(503, "not enough time left before the request's deadline", {{"Retry-After", "1"}});
    res.json({{"ok", true}});
}
