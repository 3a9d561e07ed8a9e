#include "load_client.hpp"

#include <memory>
#include <mutex>
#include <stdexcept>

#include "http_client.hpp"

namespace e2e {

struct LoadClient::Worker {
    mutable std::mutex mutex;
    LoadCounts counts;
};

std::string LoadCounts::describe() const {
    std::string text = std::to_string(ok) + " ok, " + std::to_string(non_2xx) + " non-2xx, " + std::to_string(failed) +
                       " failed, " + std::to_string(refused) + " refused, " + std::to_string(connects) + " connections";
    for (const auto& f : failures) text += "\n  " + f;
    return text;
}

LoadClient::LoadClient(int port, std::string target, unsigned connections) : port_(port), target_(std::move(target)) {
    for (unsigned i = 0; i < connections; ++i) workers_.push_back(std::make_unique<Worker>());
    for (auto& w : workers_) threads_.emplace_back([this, worker = w.get()] { run(*worker); });
}

LoadClient::~LoadClient() { stop(); }

void LoadClient::run(Worker& w) {
    std::unique_ptr<Connection> conn;
    const auto note = [&](bool ok, bool non_2xx, const std::string& failure) {
        std::lock_guard lock(w.mutex);
        if (ok) ++w.counts.ok;
        if (non_2xx) ++w.counts.non_2xx;
        if (!failure.empty()) {
            ++w.counts.failed;
            if (w.counts.failures.size() < 5) w.counts.failures.push_back(failure);
        }
    };
    while (!stopping_.load()) {
        try {
            if (!conn) {
                if (w.counts.connects > 0 && !reconnect_.load()) return;
                try {
                    conn = std::make_unique<Connection>(port_);
                } catch (const std::exception& e) {
                    std::lock_guard lock(w.mutex);
                    ++w.counts.refused;
                    if (w.counts.failures.size() < 5) w.counts.failures.push_back(e.what());
                    continue;
                }
                std::lock_guard lock(w.mutex);
                ++w.counts.connects;
            }
            const Response r = conn->request("GET", target_);
            const bool ok = r.status >= 200 && r.status < 300;
            note(ok, !ok, ok ? "" : "status " + std::to_string(r.status) + ": " + r.body);
            const auto connection = r.header("Connection");
            if (connection && (*connection == "close" || *connection == "Close")) conn.reset();
        } catch (const std::exception& e) {
            note(false, false, e.what());
            conn.reset();
        }
    }
}

LoadCounts LoadClient::snapshot() const {
    LoadCounts total;
    for (const auto& w : workers_) {
        std::lock_guard lock(w->mutex);
        total.ok += w->counts.ok;
        total.non_2xx += w->counts.non_2xx;
        total.failed += w->counts.failed;
        total.refused += w->counts.refused;
        total.connects += w->counts.connects;
        for (const auto& f : w->counts.failures)
            if (total.failures.size() < 10) total.failures.push_back(f);
    }
    return total;
}

LoadCounts LoadClient::stop() {
    stopping_.store(true);
    for (auto& t : threads_)
        if (t.joinable()) t.join();
    return snapshot();
}

}  // namespace e2e
