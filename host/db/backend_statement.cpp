// What every backend statement shares: its parameters read from the SQL,
// lower-case column names, the text of a real, the count of prepares.
#include "db/backend_statement.hpp"

#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>

#include "db/sql_text.hpp"
#include "db/statements.hpp"

namespace trellis::db {
namespace {

std::atomic<std::uint64_t> prepares{0};

}  // namespace

std::uint64_t backend_prepares() noexcept { return prepares.load(std::memory_order_relaxed); }

namespace detail {

BackendStatement::BackendStatement(soci::session& on, std::string text) : sql(std::move(text)), session(&on) {
    for (auto& name : parameter_names(sql)) {
        Param param;
        param.name = std::move(name);
        params.push_back(std::move(param));
    }
}

std::string BackendStatement::lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string format_real(double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.17g", value);
    // Shortest text that reads back the same value.
    for (int precision = 1; precision < 17; ++precision) {
        char shorter[32];
        std::snprintf(shorter, sizeof shorter, "%.*g", precision, value);
        if (std::strtod(shorter, nullptr) == value) return shorter;
    }
    return buffer;
}

void count_backend_prepare() noexcept { prepares.fetch_add(1, std::memory_order_relaxed); }

}  // namespace detail
}  // namespace trellis::db
