// Statements on PostgreSQL through SOCI: soci::use by name, a dynamic
// soci::row described by the first execution.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>

#include <soci/soci.h>
#include <soci/postgresql/soci-postgresql.h>

#include "db/backend_statement.hpp"

namespace trellis::db::detail {
namespace {

class SociStatement final : public BackendStatement {
public:
    SociStatement(soci::session& on, std::string text)
        : BackendStatement(on, std::move(text)), indicators_(params.size(), soci::i_ok) {
        prepare();
    }

    bool execute(long long& affected) override {
        if (!bound_.empty() && !rebinds()) {
            // Same SQL, other kinds of values than the statement was bound
            // with: SOCI binds by type once, so prepare it anew.
            prepare();
            bound_.clear();
        }
        for (std::size_t i = 0; i < params.size(); ++i)
            indicators_[i] = params[i].kind == Param::Kind::Null ? soci::i_null : soci::i_ok;
        if (bound_.empty()) bind();
        const bool got = statement_->execute(true);
        affected = std::max(0LL, statement_->get_affected_rows());
        describe_row();
        return got;
    }

    bool fetch() override {
        const bool got = statement_->fetch();
        describe_row();
        return got;
    }

    int column_type(int index) override {
        const auto i = static_cast<std::size_t>(index);
        if (row_->get_indicator(i) == soci::i_null) return TRELLIS_DB_NULL;
        switch (row_->get_properties(i).get_data_type()) {
            case soci::dt_integer:
            case soci::dt_long_long:
            case soci::dt_unsigned_long_long: return TRELLIS_DB_INTEGER;
            case soci::dt_double: return TRELLIS_DB_REAL;
            default: return TRELLIS_DB_TEXT;
        }
    }

    std::int64_t column_int(int index) override {
        const auto i = static_cast<std::size_t>(index);
        if (row_->get_indicator(i) == soci::i_null) return 0;
        switch (row_->get_properties(i).get_data_type()) {
            case soci::dt_integer: return row_->get<int>(i);
            case soci::dt_long_long: return row_->get<long long>(i);
            case soci::dt_unsigned_long_long: return static_cast<std::int64_t>(row_->get<unsigned long long>(i));
            case soci::dt_double: {
                const double d = row_->get<double>(i);
                return std::isfinite(d) ? static_cast<std::int64_t>(d) : 0;
            }
            default: return std::strtoll(as_text(i).c_str(), nullptr, 10);
        }
    }

    double column_real(int index) override {
        const auto i = static_cast<std::size_t>(index);
        if (row_->get_indicator(i) == soci::i_null) return 0;
        switch (row_->get_properties(i).get_data_type()) {
            case soci::dt_integer: return row_->get<int>(i);
            case soci::dt_long_long: return static_cast<double>(row_->get<long long>(i));
            case soci::dt_unsigned_long_long: return static_cast<double>(row_->get<unsigned long long>(i));
            case soci::dt_double: return row_->get<double>(i);
            default: return std::strtod(as_text(i).c_str(), nullptr);
        }
    }

    trellis_str column_text(int index) override {
        const auto i = static_cast<std::size_t>(index);
        if (row_->get_indicator(i) == soci::i_null) return {"", 0};
        auto& kept = texts[i];
        if (!kept) kept = as_text(i);
        return {kept->data(), kept->size()};
    }

    bool retire(bool, bool) noexcept override {
        // The rows of the last execution stay in client memory until the
        // next one: free them now.
        if (auto* backend = static_cast<soci::postgresql_statement_backend*>(statement_->get_backend()))
            backend->result_.reset();
        return false;
    }

    void settle() noexcept override {}

private:
    // A statement prepared on the server (a named statement: the same SQL is
    // not parsed there again while this object lives).
    void prepare() {
        auto fresh = std::make_unique<soci::statement>(*session);
        fresh->alloc();
        fresh->prepare(sql);
        statement_ = std::move(fresh);
        row_ = std::make_unique<soci::row>();
        count_backend_prepare();
    }

    // Hands SOCI the addresses of the values, by the kinds they have now.
    void bind() {
        for (std::size_t i = 0; i < params.size(); ++i) {
            Param& param = params[i];
            switch (param.kind) {
                case Param::Kind::Int: statement_->exchange(soci::use(param.integer, indicators_[i], param.name)); break;
                case Param::Kind::Real: statement_->exchange(soci::use(param.real, indicators_[i], param.name)); break;
                case Param::Kind::Text:
                case Param::Kind::Null:
                case Param::Kind::Unset: statement_->exchange(soci::use(param.text, indicators_[i], param.name)); break;
            }
            bound_.push_back(param.kind);
        }
        statement_->exchange(soci::into(*row_));
        statement_->define_and_bind();
        // No parameters at all: still marks the statement as bound.
        if (bound_.empty()) bound_.push_back(Param::Kind::Unset);
    }

    // Whether the statement, bound before, takes the current values as they
    // are: each of the same kind as at its first execution, or null (any
    // kind takes a null through its indicator).
    bool rebinds() const {
        for (std::size_t i = 0; i < params.size(); ++i) {
            const auto kind = params[i].kind;
            if (kind != Param::Kind::Null && kind != bound_[i]) return false;
        }
        return true;
    }

    void describe_row() {
        // get_name() returns a copy: the lambda returns it, not a view of it.
        describe(row_->size(), [&](std::size_t i) -> std::string { return row_->get_properties(i).get_name(); });
    }

    std::string as_text(std::size_t i) {
        switch (row_->get_properties(i).get_data_type()) {
            case soci::dt_string:
            case soci::dt_xml:
            case soci::dt_blob: return row_->get<std::string>(i);
            case soci::dt_integer: return std::to_string(row_->get<int>(i));
            case soci::dt_long_long: return std::to_string(row_->get<long long>(i));
            case soci::dt_unsigned_long_long: return std::to_string(row_->get<unsigned long long>(i));
            case soci::dt_double: return format_real(row_->get<double>(i));
            case soci::dt_date: {
                const std::tm tm = row_->get<std::tm>(i);
                char buffer[32];
                std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S", &tm);
                return buffer;
            }
        }
        return {};
    }

    std::unique_ptr<soci::statement> statement_;
    std::unique_ptr<soci::row> row_;  // described by the first execution; SOCI fills it by address
    // The kinds given to soci::use by the first execution (empty before):
    // a later execution may re-bind values of these kinds, or nulls, but
    // another kind needs the statement prepared anew.
    std::vector<Param::Kind> bound_;
    std::vector<soci::indicator> indicators_;  // one per parameter, bound by address
};

}  // namespace

std::unique_ptr<BackendStatement> prepare_soci(soci::session& session, std::string sql) {
    return std::make_unique<SociStatement>(session, std::move(sql));
}

bool postgresql_connection_lost(soci::session& session) noexcept {
    auto* backend = static_cast<soci::postgresql_session_backend*>(session.get_backend());
    return !backend || PQstatus(backend->conn_) != CONNECTION_OK;
}

}  // namespace trellis::db::detail
