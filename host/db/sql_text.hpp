// The one set of rules by which the host reads SQL text without a parser:
// where quoted strings and identifiers ('it''s', "a;b"), comments (-- and
// /* */), PostgreSQL dollar-quoted bodies ($$...$$, $tag$...$tag$), casts
// (::int) and named parameters (:name) begin and end. Migrations split on
// the semicolons it finds outside all of those; statements bind the
// parameters it finds outside all of those.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace trellis::db {

// `sql` cut at its top-level semicolons: each statement trimmed, pieces that
// hold only blanks and comments dropped.
std::vector<std::string> split_statements(std::string_view sql);

// The distinct :name parameters of `sql`, in order of first appearance
// (a :name inside a quoted string, a comment or a dollar-quoted body is text).
std::vector<std::string> parameter_names(std::string_view sql);

}  // namespace trellis::db
