#include "service/scaffold.hpp"

#include <array>
#include <cctype>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "config/diagnostics.hpp"
#include "config/manifest.hpp"

namespace trellis::service {

namespace fs = std::filesystem;

namespace {

// The templates. Placeholders: @NAME@ (the plugin's name), @IDENT@ (the
// name as a C identifier, for exported handler symbols), @SUITE@ (the name
// as a GoogleTest suite) and @ABI@ (the lowest host ABI the manifest needs,
// which is also the TrellisSDK version to ask for). The *_MODEL pieces are
// appended with --with-model.

constexpr std::string_view kCMakeLists = R"tmpl(# The @NAME@ plugin for the Trellis application host: lib@NAME@.so and its test.
#
#   cmake -S . -B build -DCMAKE_PREFIX_PATH=<where the Trellis SDK is installed>
#   cmake --build build
#   ctest --test-dir build --output-on-failure
cmake_minimum_required(VERSION 3.25)
project(@NAME@ LANGUAGES CXX)

# The SDK's version is the plugin ABI's: ask for the one the manifest's abi: names.
find_package(TrellisSDK @ABI@ REQUIRED)
trellis_add_plugin(@NAME@ SOURCES @NAME@.cpp MANIFEST @NAME@.plugin.yaml)

# The GoogleTest over the SDK's in-process test client (Trellis::testing).
# The test host finds plugins by name in the folders listed in
# TRELLIS_TEST_PLUGIN_PATH: here the plugin's own build folder.
# (trellis_add_plugin_test(@NAME@_test SOURCES @NAME@_test.cpp PLUGINS @NAME@)
# does the same in one call.)
enable_testing()
find_package(GTest REQUIRED)
include(GoogleTest)
add_executable(@NAME@_test @NAME@_test.cpp)
target_link_libraries(@NAME@_test PRIVATE Trellis::testing GTest::gtest_main)
target_compile_definitions(@NAME@_test PRIVATE "TRELLIS_TEST_PLUGIN_PATH=\"$<TARGET_FILE_DIR:@NAME@>\"")
add_dependencies(@NAME@_test @NAME@)
gtest_discover_tests(@NAME@_test DISCOVERY_MODE PRE_TEST)
)tmpl";

constexpr std::string_view kManifest = R"tmpl(# @NAME@.plugin.yaml: the manifest, embedded into lib@NAME@.so by
# trellis_add_plugin(). Every key is described in Trellis' SDK guide
# (docs/plugins.md). Paths with {parameters} are quoted: braces are YAML
# flow syntax.
plugin: @NAME@
version: 0.1.0
# The lowest host ABI this plugin needs: 1.0 for routes and settings, 1.1 for
# errors, hooks, models, migrations and resources, 1.2 for per-instance state.
abi: @ABI@
description: The @NAME@ plugin
settings:
  greeting: {type: string, default: Hello}
routes:
  - {method: GET, path: "/hello/{name}", handler: @IDENT@_hello}
)tmpl";

constexpr std::string_view kManifestModel = R"tmpl(# The host creates the model's table at start-up (and with `trellis migrate`)
# and serves it as a REST collection with no code: GET/POST /items,
# GET/PUT/PATCH/DELETE /items/{id}.
models:
  item:
    fields:
      id:    {type: integer, primary_key: true}
      title: {type: text, max: 200, required: true}
      done:  {type: boolean, default: false}
resources:
  - {model: item, path: /items}
# Later changes to the table go in `migrations:`, ordered steps the host
# applies once each (docs/plugins.md, "migrations").
)tmpl";

constexpr std::string_view kSource = R"tmpl(// @NAME@.cpp: the handlers of the @NAME@ plugin; @NAME@.plugin.yaml says
// where they are mounted. Handlers are exported C functions with one
// signature; TRELLIS_HANDLER catches every exception at the boundary
// (trellis::HttpError becomes its status, anything else a 500).
#include <string>

#include <trellis/plugin.hpp>

TRELLIS_PLUGIN();

// GET /hello/{name}: {"message": "<greeting>, <name>!"}, the greeting from
// the operator's settings.
TRELLIS_HANDLER(@IDENT@_hello, trellis::Request& req, trellis::Response& res) {
    const auto greeting = req.plugin().setting<std::string>("greeting", "Hello");
    res.json({{"message", greeting + ", " + std::string(req.param("name")) + "!"}});
}
)tmpl";

constexpr std::string_view kTest = R"tmpl(// @NAME@_test.cpp: the @NAME@ plugin in process, through the Trellis SDK's
// test client: the host's own core (configuration, plugin loader, routing,
// handlers, error chain), exactly as `trellis serve` runs it, without a
// socket. Without a `database` section the host uses a private in-memory
// SQLite database.
#include <string>

#include <gtest/gtest.h>
#include <trellis/testing.hpp>

namespace {

// An operator configuration (the keys of trellis.yaml) mounting the plugin at /api.
trellis::testing::Host make_host(const std::string& settings = "{}") {
    return trellis::testing::Host("logging: {level: warn, access: false}\n"
                                  "plugins:\n"
                                  "  @NAME@: {mount: /api, settings: " + settings + "}\n");
}

TEST(@SUITE@, GreetsByName) {
    auto host = make_host();
    auto res = host.get("/api/hello/ada");
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(res.header("Content-Type"), "application/json");
    EXPECT_EQ(res.json()["message"], "Hello, ada!");
}

TEST(@SUITE@, GreetingIsASetting) {
    auto host = make_host("{greeting: Hi}");
    EXPECT_EQ(host.get("/api/hello/ada").json()["message"], "Hi, ada!");
}

TEST(@SUITE@, UnknownPathIsAProblemJson404) {
    auto host = make_host();
    auto res = host.get("/api/nothing/here");
    EXPECT_EQ(res.status, 404);
    EXPECT_EQ(res.header("Content-Type"), "application/problem+json");
}
)tmpl";

constexpr std::string_view kTestModel = R"tmpl(
TEST(@SUITE@, CreatesAndReadsAnItem) {
    auto host = make_host();
    auto created = host.post_json("/api/items", {{"title", "first"}});
    ASSERT_EQ(created.status, 201) << created.body;
    const auto id = created.json()["id"].get<long long>();
    auto read = host.get("/api/items/" + std::to_string(id));
    ASSERT_EQ(read.status, 200) << read.body;
    EXPECT_EQ(read.json()["title"], "first");
    EXPECT_EQ(read.json()["done"], false);  // the model's default
}

TEST(@SUITE@, RefusesAnItemWithoutATitle) {
    auto host = make_host();
    auto res = host.post_json("/api/items", {{"done", true}});
    EXPECT_EQ(res.status, 422) << res.body;
    EXPECT_EQ(res.header("Content-Type"), "application/problem+json");
}
)tmpl";

constexpr std::string_view kTestEnd = R"tmpl(
}  // namespace
)tmpl";

constexpr std::string_view kConfig = R"tmpl(# trellis.yaml: a development configuration that serves the @NAME@ plugin
# from its build folder (-p puts that folder first on the plugin path):
#
#   trellis check -c trellis.yaml -p build
#   trellis serve -c trellis.yaml -p build
server:
  listen: 127.0.0.1
  port: 8080
  workers: 0    # one process: no supervisor, no admin listener
logging: {level: info, access: true}
plugins:
  @NAME@:
    mount: /api
    settings: {greeting: Hello}
)tmpl";

constexpr std::string_view kConfigModel = R"tmpl(database:
  url: "sqlite://@NAME@.db"    # a file beside this one
)tmpl";

constexpr std::string_view kReadme = R"tmpl(# @NAME@

A plugin for the Trellis application host, made by `trellis new-plugin`.

| file | what it is |
|---|---|
| `@NAME@.plugin.yaml` | the manifest: name, version, ABI, settings, routes@MODEL_FILES@; embedded into `lib@NAME@.so` |
| `@NAME@.cpp` | the handlers the manifest names |
| `@NAME@_test.cpp` | GoogleTest over the SDK's in-process test client (`<trellis/testing.hpp>`) |
| `CMakeLists.txt` | `find_package(TrellisSDK)`, `trellis_add_plugin()`, the test |
| `trellis.yaml` | a development configuration for `trellis serve` |

## Build and test

You need the Trellis SDK (the `trellis-dev` package, or from a Trellis build
tree `cmake --install <build> --component sdk --prefix <prefix>`), CMake
3.25 or later, a C++17 compiler, GoogleTest (`libgtest-dev`) and
nlohmann-json (`nlohmann-json3-dev`).

```sh
cmake -S . -B build -DCMAKE_PREFIX_PATH=<prefix>   # not needed for the trellis-dev package
cmake --build build
ctest --test-dir build --output-on-failure
```

## Serve

```sh
trellis check -c trellis.yaml -p build     # exit 0: it would load
trellis serve -c trellis.yaml -p build
curl localhost:8080/api/hello/ada          # {"message":"Hello, ada!"}
```
@MODEL_README@
`-p build` searches the build folder for `lib@NAME@.so` before the
configuration's `plugin_path`. To deploy, copy `build/lib@NAME@.so` into a
folder of the operator's `plugin_path` and add the plugin under `plugins:`
in their `trellis.yaml`, as in this one.
)tmpl";

constexpr std::string_view kReadmeModel = R"tmpl(
The `item` model is served by the host itself, with no code, and stored in
`@NAME@.db` beside `trellis.yaml`:

```sh
curl -X POST -H 'Content-Type: application/json' -d '{"title":"first"}' localhost:8080/api/items
curl localhost:8080/api/items/1            # {"id":1,"title":"first","done":false}
curl localhost:8080/api/items              # {"items":[...],"total":1,...}
```
)tmpl";

// Names CMake keeps for targets of its own (policy CMP0037): a plugin so
// named would be a project that does not configure.
constexpr std::array<std::string_view, 10> kCMakeReserved{
    "all", "clean", "help", "install", "package", "package_source", "test", "edit_cache", "rebuild_cache",
    "list_install_components"};

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
    for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    return text;
}

// Why `name` cannot be a plugin name, or "" when it can: the manifest
// parser's rule, plus what the project built from it also needs.
std::string name_problem(std::string_view name) {
    if (!config::is_plugin_name(name)) return "use letters, digits, '_' and '-' (the manifest's plugin: key)";
    // yaml-cpp reads these plain scalars as null, not as a name.
    if (name == "null" || name == "Null" || name == "NULL") return "YAML reads it as null; choose another name";
    for (const auto reserved : kCMakeReserved)
        if (name == reserved) return "CMake reserves it as a target name; choose another name";
    return "";
}

// The name as a C identifier, for the exported handler symbols.
std::string c_identifier(std::string_view name) {
    std::string out;
    for (const char c : name) out += c == '-' ? '_' : c;
    if (std::isdigit(static_cast<unsigned char>(out.front()))) out.insert(0, "p_");
    return out;
}

// The name in CamelCase (GoogleTest discourages '_' in suite names).
std::string suite_name(std::string_view name) {
    std::string out;
    bool upper = true;
    for (const char c : name) {
        if (c == '-' || c == '_') {
            upper = true;
            continue;
        }
        out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
        upper = false;
    }
    if (out.empty() || std::isdigit(static_cast<unsigned char>(out.front()))) out.insert(0, "Plugin");
    return out;
}

// A path as a shell word, quoted only when it needs to be.
std::string shell_word(const std::string& text) {
    const bool plain = !text.empty() && text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                                 "0123456789_./+-=:,@%") == std::string::npos;
    if (plain) return text;
    return "'" + replace_all(text, "'", "'\\''") + "'";
}

// Where CMake finds the SDK that belongs to this trellis: the prefix it is
// installed in (<prefix>/bin/trellis beside <prefix>/lib*/cmake/TrellisSDK),
// or the package in its build tree (<build>/host/trellis, <build>/sdk).
// Empty when neither is there.
std::string sdk_prefix() {
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (ec) return "";
    const fs::path prefix = exe.parent_path().parent_path();
    const auto has_config = [&](const fs::path& dir) {
        return fs::is_regular_file(dir / "TrellisSDKConfig.cmake", ec);
    };
    if (has_config(prefix / "lib" / "cmake" / "TrellisSDK")) return prefix.string();
    for (const auto& entry : fs::directory_iterator(prefix / "lib", ec))  // lib/<multiarch>/cmake
        if (has_config(entry.path() / "cmake" / "TrellisSDK")) return prefix.string();
    if (has_config(prefix / "sdk")) return (prefix / "sdk").string();
    return "";
}

struct File {
    std::string name;
    std::string text;
};

std::vector<File> project_files(const ScaffoldOptions& options) {
    const bool model = options.with_model;
    std::vector<File> files{
        {"CMakeLists.txt", std::string(kCMakeLists)},
        {options.name + ".plugin.yaml", std::string(kManifest) + (model ? std::string(kManifestModel) : "")},
        {options.name + ".cpp", std::string(kSource)},
        {options.name + "_test.cpp",
         std::string(kTest) + (model ? std::string(kTestModel) : "") + std::string(kTestEnd)},
        {"trellis.yaml", std::string(kConfig) + (model ? std::string(kConfigModel) : "")},
        {"README.md", replace_all(replace_all(std::string(kReadme), "@MODEL_FILES@", model ? ", the `item` model and its resource" : ""),
                                  "@MODEL_README@", model ? kReadmeModel : "")},
    };
    const std::pair<std::string_view, std::string> values[] = {
        {"@NAME@", options.name},
        {"@IDENT@", c_identifier(options.name)},
        {"@SUITE@", suite_name(options.name)},
        {"@ABI@", model ? "1.1" : "1.0"},
    };
    for (auto& file : files)
        for (const auto& [placeholder, value] : values) file.text = replace_all(std::move(file.text), placeholder, value);
    return files;
}

// Undoes a partly written project: the files written, and the folders
// created for it (innermost first), so a failure leaves nothing behind.
void remove_written(const std::vector<fs::path>& files, const std::vector<fs::path>& created_dirs) {
    std::error_code ec;
    for (const auto& file : files) fs::remove(file, ec);
    for (auto it = created_dirs.rbegin(); it != created_dirs.rend(); ++it) fs::remove(*it, ec);
}

}  // namespace

int new_plugin(const ScaffoldOptions& options) {
    if (const auto problem = name_problem(options.name); !problem.empty()) {
        std::cerr << "trellis new-plugin: invalid plugin name '" << options.name << "': " << problem << "\n";
        return 2;
    }
    // The host's own parser has the last word on the manifest written (a
    // valid plugin name can still make an invalid default table, "3d_item").
    const auto files = project_files(options);
    try {
        config::parse_manifest(files[1].text, files[1].name);
    } catch (const config::ConfigError& e) {
        std::cerr << "trellis new-plugin: invalid plugin name '" << options.name
                  << "' for this project: " << e.diagnostics().front().key_path << ": "
                  << e.diagnostics().front().message << "\n";
        return 2;
    }
    const fs::path dir = options.dir.empty() ? fs::path(options.name) : fs::path(options.dir);
    const std::string shown = dir.string();

    std::error_code ec;
    std::vector<fs::path> created_dirs;
    if (fs::exists(dir, ec)) {
        if (!fs::is_directory(dir, ec)) {
            std::cerr << "trellis new-plugin: refusing to overwrite " << shown << ": it is not a directory\n";
            return 1;
        }
        if (fs::directory_iterator(dir, ec) != fs::directory_iterator() || ec) {
            std::cerr << "trellis new-plugin: refusing to overwrite " << shown
                      << (ec ? ": cannot list it: " + ec.message() : std::string(": the directory is not empty")) << "\n";
            return 1;
        }
    } else {
        // The folders that do not exist yet, outermost first, so that a
        // failure removes exactly these.
        for (fs::path p = fs::absolute(dir, ec); !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
            created_dirs.insert(created_dirs.begin(), p);
            if (p == p.parent_path()) break;
        }
        if (!fs::create_directories(dir, ec) && ec) {
            std::cerr << "trellis new-plugin: cannot create " << shown << ": " << ec.message() << "\n";
            remove_written({}, created_dirs);
            return 1;
        }
    }

    std::vector<fs::path> written;
    for (const auto& file : files) {
        const fs::path path = dir / file.name;
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        if (out) out << file.text;
        if (out) out.close();
        if (!out) {
            const int error = errno;
            std::cerr << "trellis new-plugin: cannot write to " << shown << ": "
                      << std::error_code(error ? error : EIO, std::generic_category()).message() << "\n";
            written.push_back(path);
            remove_written(written, created_dirs);
            return 1;
        }
        written.push_back(path);
    }

    std::cout << "Wrote the " << options.name << " plugin project" << (options.with_model ? " (with a model)" : "")
              << " to " << shown << ":\n";
    for (const auto& path : written) std::cout << "  " << path.string() << "\n";
    const std::string project = shell_word(shown);
    const std::string build = shell_word((dir / "build").string());
    const std::string prefix = sdk_prefix();
    std::cout << "Next:\n"
              << "  cmake -S " << project << " -B " << build << " -DCMAKE_PREFIX_PATH="
              << (prefix.empty() ? std::string("<where the Trellis SDK is installed>") : shell_word(prefix)) << "\n"
              << "  cmake --build " << build << "\n"
              << "  ctest --test-dir " << build << " --output-on-failure\n"
              << "  trellis serve -c " << shell_word((dir / "trellis.yaml").string()) << " -p " << build << "\n"
              << "  curl localhost:8080/api/hello/world\n";
    return 0;
}

}  // namespace trellis::service
