// The stateful plugin: TRELLIS_PLUGIN_STATE(Counter). Each instance counts
// its own requests; /whoami reports instance, label and count; /secret
// refuses with 401 and a WWW-Authenticate header (HttpError with headers).
#include <atomic>
#include <fstream>
#include <string>

#include <trellis/plugin.hpp>

namespace {

struct Counter {
    explicit Counter(trellis::Plugin& plugin)
        : instance(plugin.instance()),
          label(plugin.setting<std::string>("label", "unlabelled")),
          freed_file(plugin.setting<std::string>("freed_file", "")) {
        if (label == "refuse") throw std::runtime_error("label 'refuse' refuses the instance");
    }
    ~Counter() {
        if (freed_file.empty()) return;
        std::ofstream(freed_file, std::ios::app) << instance << " " << label << " " << hits.load() << "\n";
    }
    std::string instance, label, freed_file;
    std::atomic<long> hits{0};
};

}  // namespace

TRELLIS_PLUGIN_STATE(Counter);

TRELLIS_HANDLER(stateful_whoami, trellis::Request& req, trellis::Response& res) {
    auto& counter = req.state<Counter>();
    const long hits = ++counter.hits;
    res.json({{"instance", counter.instance}, {"label", counter.label}, {"hits", hits}});
}

TRELLIS_HANDLER(stateful_secret, trellis::Request&, trellis::Response&) {
    throw trellis::HttpError(401, "a bearer token is required", {{"WWW-Authenticate", "Bearer realm=\"stateful\""}});
}

// The hook sees its own instance's state too.
TRELLIS_HANDLER(stateful_after, trellis::Request& req, trellis::Response& res) {
    res.header("X-Stateful-Label", req.state<Counter>().label);
}
