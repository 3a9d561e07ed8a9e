// The labels test plugin: the resource is declared in its manifest; the one
// handler, POST /batch, inserts many labels in one database transaction.
#include <cstdint>
#include <string>

#include <trellis/plugin.hpp>

TRELLIS_PLUGIN();

// Body: a JSON array of {"tag": "...", "color": "..."} (color optional).
// All labels are inserted inside one transaction that commits at the end: a
// tag that is already taken, or repeated in the batch, makes an insert throw
// a DbError (constraint), which answers 409, and the transaction, never
// committed, rolls back every row of the batch.
TRELLIS_HANDLER(labels_batch, trellis::Request& req, trellis::Response& res) {
    const trellis::Json labels = req.json();
    if (!labels.is_array() || labels.empty())
        throw trellis::HttpError(400, "expected a non-empty JSON array of labels");
    for (const auto& label : labels) {
        if (!label.is_object() || !label.contains("tag") || !label["tag"].is_string())
            throw trellis::HttpError(400, "every label needs a string \"tag\"");
        if (label.contains("color") && !label["color"].is_string() && !label["color"].is_null())
            throw trellis::HttpError(400, "\"color\" must be a string");
    }

    const trellis::Db db = req.db();
    trellis::DbTransaction tx = db.transaction();
    std::int64_t inserted = 0;
    for (const auto& label : labels) {
        const std::string tag = label["tag"].get<std::string>();
        const auto color = label.find("color");
        if (color != label.end() && color->is_string()) {
            inserted += db.exec("INSERT INTO labels_label (tag, color) VALUES (:tag, :color)",
                                {{"tag", tag}, {"color", color->get<std::string>()}});
        } else {
            inserted += db.exec("INSERT INTO labels_label (tag, color) VALUES (:tag, NULL)", {{"tag", tag}});
        }
    }
    tx.commit();
    res.status(201).json({{"inserted", inserted}});
}
