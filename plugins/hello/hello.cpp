// The hello plugin: handlers only; hello.plugin.yaml says where they are mounted.
#include <trellis/plugin.hpp>

TRELLIS_PLUGIN();

TRELLIS_HANDLER(hello_world, trellis::Request& req, trellis::Response& res) {
    auto greeting = req.plugin().setting<std::string>("greeting", "Hello");
    res.json({{"message", greeting + ", world!"}});
}

TRELLIS_HANDLER(hello_name, trellis::Request& req, trellis::Response& res) {
    auto greeting = req.plugin().setting<std::string>("greeting", "Hello");
    res.json({{"message", greeting + ", " + std::string(req.param("name")) + "!"}});
}

// Returns the JSON body it received; invalid JSON is a 400 problem+json.
TRELLIS_HANDLER(hello_echo, trellis::Request& req, trellis::Response& res) {
    res.json(req.json());
}
