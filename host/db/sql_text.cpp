#include "db/sql_text.hpp"

#include <algorithm>
#include <cctype>

namespace trellis::db {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// What the scanner found at a position.
enum class Piece {
    Text,       // anything else (one character)
    Quoted,     // '...' or "..." ('' and "" escape the quote), or $tag$...$tag$
    Comment,    // -- to the end of the line, or /* ... */
    Semicolon,
    Cast,       // ::
    Parameter,  // :name
};

// Calls visit(kind, begin, end) for each piece of `sql`, in order.
template <class Visit>
void scan(std::string_view sql, Visit&& visit) {
    const std::size_t n = sql.size();
    std::size_t i = 0;
    while (i < n) {
        const std::size_t start = i;
        const char c = sql[i];
        if (c == '\'' || c == '"') {
            for (++i; i < n; ++i) {
                if (sql[i] != c) continue;
                if (i + 1 < n && sql[i + 1] == c) {
                    ++i;
                    continue;
                }
                break;
            }
            i = std::min(i + 1, n);
            visit(Piece::Quoted, start, i);
        } else if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
            while (i < n && sql[i] != '\n') ++i;
            visit(Piece::Comment, start, i);
        } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
            const auto end = sql.find("*/", i + 2);
            i = end == std::string_view::npos ? n : end + 2;
            visit(Piece::Comment, start, i);
        } else if (c == '$') {
            // $tag$ ... $tag$ (tag may be empty); $1 is a positional parameter.
            std::size_t j = i + 1;
            while (j < n && ident_char(sql[j])) ++j;
            if (j < n && sql[j] == '$' && !(j > i + 1 && std::isdigit(static_cast<unsigned char>(sql[i + 1])))) {
                const std::string_view tag = sql.substr(i, j - i + 1);
                const auto end = sql.find(tag, j + 1);
                i = end == std::string_view::npos ? n : end + tag.size();
                visit(Piece::Quoted, start, i);
            } else {
                i = j;
                visit(Piece::Text, start, i);
            }
        } else if (c == ';') {
            ++i;
            visit(Piece::Semicolon, start, i);
        } else if (c == ':' && i + 1 < n && sql[i + 1] == ':') {
            i += 2;
            visit(Piece::Cast, start, i);
        } else if (c == ':' && i + 1 < n && ident_start(sql[i + 1])) {
            for (++i; i < n && ident_char(sql[i]);) ++i;
            visit(Piece::Parameter, start, i);
        } else {
            ++i;
            visit(Piece::Text, start, i);
        }
    }
}

}  // namespace

std::vector<std::string> split_statements(std::string_view sql) {
    std::vector<std::string> out;
    std::size_t begin = 0;    // of the current statement
    bool meaningful = false;  // the current statement holds more than blanks and comments
    const auto finish = [&](std::size_t end) {
        if (meaningful) {
            std::string_view piece = sql.substr(begin, end - begin);
            while (!piece.empty() && is_space(piece.back())) piece.remove_suffix(1);
            while (!piece.empty() && is_space(piece.front())) piece.remove_prefix(1);
            out.emplace_back(piece);
        }
        meaningful = false;
    };
    scan(sql, [&](Piece kind, std::size_t start, std::size_t end) {
        if (kind == Piece::Semicolon) {
            finish(start);
            begin = end;
        } else if (kind != Piece::Comment && !(kind == Piece::Text && is_space(sql[start]))) {
            meaningful = true;
        }
    });
    finish(sql.size());
    return out;
}

std::vector<std::string> parameter_names(std::string_view sql) {
    std::vector<std::string> names;
    scan(sql, [&](Piece kind, std::size_t start, std::size_t end) {
        if (kind != Piece::Parameter) return;
        std::string name(sql.substr(start + 1, end - start - 1));
        if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(std::move(name));
    });
    return names;
}

}  // namespace trellis::db
