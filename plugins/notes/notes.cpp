// The notes plugin: the `note` resource is served by the host from the
// manifest; these handlers are the parts that need code.
#include <trellis/plugin.hpp>

TRELLIS_PLUGIN();

namespace {
// LIKE treats % and _ as wildcards: escape them so a search is literal.
std::string like_pattern(std::string_view text) {
    std::string out = "%";
    for (char c : text) {
        if (c == '%' || c == '_' || c == '\\') out += '\\';
        out += c;
    }
    return out + "%";
}
}  // namespace

// GET /search?q=text: notes whose title or body contains the text.
TRELLIS_HANDLER(notes_search, trellis::Request& req, trellis::Response& res) {
    auto q = req.query("q");
    if (!q || q->empty()) throw trellis::HttpError(400, "the query parameter q is required");
    const auto limit = req.plugin().setting<std::int64_t>("max_results", 50);
    auto rows = req.db().all(
        "SELECT id, title, tag FROM notes_note WHERE title LIKE :pattern ESCAPE '\\' OR body LIKE :pattern ESCAPE '\\' "
        "ORDER BY id LIMIT :limit",
        {{"pattern", like_pattern(*q)}, {"limit", limit}});
    trellis::Json items = trellis::Json::array();
    for (const auto& row : rows) items.push_back(row.json());
    res.json({{"query", *q}, {"items", items}});
}

// GET /{id}/summary: the title and the length of the body.
TRELLIS_HANDLER(notes_summary, trellis::Request& req, trellis::Response& res) {
    auto row = req.db().one("SELECT title, length(body) AS chars FROM notes_note WHERE id = :id",
                            {{"id", req.param<std::int64_t>("id")}});
    if (!row) throw trellis::HttpError(404, "no such note");
    res.json({{"title", row->text("title")}, {"chars", row->is_null("chars") ? 0 : row->integer("chars")}});
}
