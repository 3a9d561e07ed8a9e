// `trellis new-plugin`, run as the real binary: the files it writes and the
// names it derives, what it prints, and its one-line refusals with their
// exit codes (2 for a NAME the manifest parser would refuse, 1 for a DIR it
// must not or cannot write). Building the project it writes is
// tests/sdk/scaffold_test.sh's part.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "fixture.hpp"

namespace e2e {
namespace {


std::size_t lines(const std::string& text) { return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')); }

std::vector<std::string> entries(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

RunResult new_plugin(const std::vector<std::string>& args) {
    std::vector<std::string> all{"new-plugin"};
    all.insert(all.end(), args.begin(), args.end());
    return run_trellis(all);
}

TEST(Scaffold, WritesTheProjectAndPrintsTheFilesAndTheNextCommands) {
    TempDir tmp;
    const fs::path dir = tmp.path() / "greeter";
    RunResult r = new_plugin({"greeter", "--dir", dir.string()});
    ASSERT_TRUE(exited_with(r, 0)) << r.describe();
    EXPECT_EQ(r.err, "");
    const std::string d = dir.string();
    // A trellis in its build tree (<build>/host/trellis) points at the SDK
    // package of that tree (<build>/sdk); an installed one at its prefix
    // (scaffold_test.sh).
    const std::string sdk = (trellis_binary().parent_path().parent_path() / "sdk").string();
    EXPECT_EQ(r.out, "Wrote the greeter plugin project to " + d + ":\n"
                     "  " + d + "/CMakeLists.txt\n"
                     "  " + d + "/greeter.plugin.yaml\n"
                     "  " + d + "/greeter.cpp\n"
                     "  " + d + "/greeter_test.cpp\n"
                     "  " + d + "/trellis.yaml\n"
                     "  " + d + "/README.md\n"
                     "Next:\n"
                     "  cmake -S " + d + " -B " + d + "/build -DCMAKE_PREFIX_PATH=" + sdk + "\n"
                     "  cmake --build " + d + "/build\n"
                     "  ctest --test-dir " + d + "/build --output-on-failure\n"
                     "  trellis serve -c " + d + "/trellis.yaml -p " + d + "/build\n"
                     "  curl localhost:8080/api/hello/world\n");
    EXPECT_EQ(entries(dir), (std::vector<std::string>{"CMakeLists.txt", "README.md", "greeter.cpp",
                                                      "greeter.plugin.yaml", "greeter_test.cpp", "trellis.yaml"}));

    const auto cmake = read_file(dir / "CMakeLists.txt");
    EXPECT_TRUE(Contains(cmake, "find_package(TrellisSDK 1.0 REQUIRED)"));
    EXPECT_TRUE(Contains(cmake, "trellis_add_plugin(greeter SOURCES greeter.cpp MANIFEST greeter.plugin.yaml)"));
    EXPECT_TRUE(Contains(cmake, "find_package(GTest REQUIRED)"));
    EXPECT_TRUE(Contains(cmake, "gtest_discover_tests(greeter_test"));
    const auto manifest = read_file(dir / "greeter.plugin.yaml");
    EXPECT_TRUE(Contains(manifest, "\nplugin: greeter\n"));
    EXPECT_TRUE(Contains(manifest, "\nabi: 1.0\n"));
    EXPECT_TRUE(Contains(manifest, R"(- {method: GET, path: "/hello/{name}", handler: greeter_hello})"));
    EXPECT_TRUE(NotContains(manifest, "models:"));
    EXPECT_TRUE(Contains(read_file(dir / "greeter.cpp"), "TRELLIS_HANDLER(greeter_hello,"));
    const auto test = read_file(dir / "greeter_test.cpp");
    EXPECT_TRUE(Contains(test, "#include <trellis/testing.hpp>"));
    EXPECT_TRUE(Contains(test, "TEST(Greeter, GreetsByName)"));
    EXPECT_TRUE(NotContains(test, "Item"));
    EXPECT_TRUE(NotContains(read_file(dir / "trellis.yaml"), "database:"));
    EXPECT_TRUE(Contains(read_file(dir / "README.md"), "ctest --test-dir build"));
}

// The development trellis.yaml is one `trellis check` accepts: scaffolded
// under the name of the first-party hello plugin (which has the same
// `greeting` setting), it loads that library.
TEST(Scaffold, TheDevelopmentConfigurationPassesCheck) {
    TempDir tmp;
    for (const bool model : {false, true}) {
        const fs::path dir = tmp.path() / (model ? "with-model" : "plain");
        std::vector<std::string> args{"hello", "--dir", dir.string()};
        if (model) args.push_back("--with-model");
        ASSERT_TRUE(exited_with(new_plugin(args), 0));
        RunResult r = run_check(dir / "trellis.yaml");
        EXPECT_TRUE(exited_with(r, 0)) << (model ? "--with-model\n" : "") << r.describe();
    }
}

TEST(Scaffold, WithModelAddsTheModelItsResourceAndTheirTest) {
    TempDir tmp;
    const fs::path dir = tmp.path() / "shelf";
    RunResult r = new_plugin({"shelf", "--dir", dir.string(), "--with-model"});
    ASSERT_TRUE(exited_with(r, 0)) << r.describe();
    EXPECT_TRUE(r.out.starts_with("Wrote the shelf plugin project (with a model) to " + dir.string() + ":\n")) << r.out;
    const auto manifest = read_file(dir / "shelf.plugin.yaml");
    EXPECT_TRUE(Contains(manifest, "\nabi: 1.1\n"));  // models and resources need 1.1
    EXPECT_TRUE(Contains(manifest, "\nmodels:\n  item:\n"));
    EXPECT_TRUE(Contains(manifest, "\nresources:\n  - {model: item, path: /items}\n"));
    EXPECT_TRUE(Contains(read_file(dir / "CMakeLists.txt"), "find_package(TrellisSDK 1.1 REQUIRED)"));
    const auto test = read_file(dir / "shelf_test.cpp");
    EXPECT_TRUE(Contains(test, "TEST(Shelf, CreatesAndReadsAnItem)"));
    EXPECT_TRUE(Contains(test, "host.post_json(\"/api/items\""));
    EXPECT_TRUE(Contains(read_file(dir / "trellis.yaml"), "url: \"sqlite://shelf.db\""));
    EXPECT_TRUE(Contains(read_file(dir / "README.md"), "/api/items"));
}

TEST(Scaffold, NamesBecomeCIdentifiersAndCamelCaseSuites) {
    TempDir tmp;
    for (const auto& [name, symbol, suite] :
         std::vector<std::tuple<std::string, std::string, std::string>>{
             {"book-marks", "book_marks_hello", "BookMarks"}, {"2fa", "p_2fa_hello", "Plugin2fa"},
             {"my_notes", "my_notes_hello", "MyNotes"}}) {
        const fs::path dir = tmp.path() / name;
        RunResult r = new_plugin({name, "--dir", dir.string()});
        ASSERT_TRUE(exited_with(r, 0)) << name << "\n" << r.describe();
        EXPECT_TRUE(Contains(read_file(dir / (name + ".plugin.yaml")), "handler: " + symbol + "}")) << name;
        EXPECT_TRUE(Contains(read_file(dir / (name + ".cpp")), "TRELLIS_HANDLER(" + symbol + ",")) << name;
        EXPECT_TRUE(Contains(read_file(dir / (name + "_test.cpp")), "TEST(" + suite + ", GreetsByName)")) << name;
    }
}

TEST(Scaffold, TheDefaultDirIsTheNameInTheCurrentDirectory) {
    TempDir tmp;
    RunResult r = run_program({"/bin/sh", "-c", "cd '" + tmp.path().string() + "' && exec '" +
                                                    trellis_binary().string() + "' new-plugin greeter"});
    ASSERT_TRUE(exited_with(r, 0)) << r.describe();
    EXPECT_TRUE(r.out.starts_with("Wrote the greeter plugin project to greeter:\n  greeter/CMakeLists.txt\n")) << r.out;
    EXPECT_TRUE(Contains(r.out, "  cmake -S greeter -B greeter/build "));
    EXPECT_TRUE(fs::is_regular_file(tmp.path() / "greeter" / "greeter.plugin.yaml"));
}

TEST(Scaffold, AnExistingEmptyDirIsUsed) {
    TempDir tmp;
    RunResult r = new_plugin({"greeter", "--dir", tmp.path().string()});
    ASSERT_TRUE(exited_with(r, 0)) << r.describe();
    EXPECT_TRUE(fs::is_regular_file(tmp.path() / "greeter.cpp"));
}

TEST(Scaffold, AnInvalidNameIsAUsageErrorOnOneLine) {
    TempDir tmp;
    for (const std::string name : {"my plugin", "a/b", "na.me", "é", "", "null", "test"}) {
        const fs::path dir = tmp.path() / "out";
        RunResult r = new_plugin({name, "--dir", dir.string()});
        EXPECT_TRUE(exited_with(r, 2)) << "'" << name << "'\n" << r.describe();
        EXPECT_TRUE(r.err.starts_with("trellis new-plugin: invalid plugin name '" + name + "': ")) << r.err;
        EXPECT_EQ(lines(r.err), 1u) << r.err;
        EXPECT_EQ(r.out, "");
        EXPECT_FALSE(fs::exists(dir)) << "'" << name << "' created " << dir;
    }
    RunResult spaces = new_plugin({"my plugin"});
    EXPECT_EQ(spaces.err,
              "trellis new-plugin: invalid plugin name 'my plugin': use letters, digits, '_' and '-' "
              "(the manifest's plugin: key)\n");
}

// A valid plugin name can still make an invalid default table (<plugin>_item):
// the host's manifest parser checks what would be written, before anything is.
TEST(Scaffold, AManifestTheHostWouldRefuseIsNotWritten) {
    TempDir tmp;
    const fs::path dir = tmp.path() / "out";
    RunResult r = new_plugin({"3d", "--with-model", "--dir", dir.string()});
    EXPECT_TRUE(exited_with(r, 2)) << r.describe();
    EXPECT_TRUE(r.err.starts_with("trellis new-plugin: invalid plugin name '3d' for this project: models.item: the "
                                  "default table '3d_item' (<plugin>_<model>) cannot be used: "))
        << r.err;
    EXPECT_EQ(lines(r.err), 1u) << r.err;
    EXPECT_FALSE(fs::exists(dir));
    // Without a model there is no table: the same name is fine.
    RunResult plain = new_plugin({"3d", "--dir", dir.string()});
    EXPECT_TRUE(exited_with(plain, 0)) << plain.describe();
}

TEST(Scaffold, AMissingNameIsTheCommandLinesUsageError) {
    RunResult r = new_plugin({});
    EXPECT_TRUE(exited_with(r, 2)) << r.describe();  // a usage error, as for every command
    EXPECT_TRUE(Contains(r.err, "NAME is required")) << r.err;
}

TEST(Scaffold, RefusesToOverwriteADirThatIsNotEmpty) {
    TempDir tmp;
    const auto kept = tmp.write("notes.txt", "mine\n");
    RunResult r = new_plugin({"greeter", "--dir", tmp.path().string()});
    EXPECT_TRUE(exited_with(r, 1)) << r.describe();
    EXPECT_EQ(r.err, "trellis new-plugin: refusing to overwrite " + tmp.path().string() + ": the directory is not empty\n");
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(entries(tmp.path()), std::vector<std::string>{"notes.txt"});
    EXPECT_EQ(read_file(kept), "mine\n");
}

TEST(Scaffold, RefusesToOverwriteAFile) {
    TempDir tmp;
    const auto file = tmp.write("greeter", "a file\n");
    RunResult r = new_plugin({"greeter", "--dir", file.string()});
    EXPECT_TRUE(exited_with(r, 1)) << r.describe();
    EXPECT_EQ(r.err, "trellis new-plugin: refusing to overwrite " + file.string() + ": it is not a directory\n");
    EXPECT_EQ(read_file(file), "a file\n");
}

// A folder that cannot be made (here: under a regular file, which fails for
// root too) is one line naming it, and nothing is left behind.
TEST(Scaffold, ADirThatCannotBeCreatedIsOneLineNamingIt) {
    TempDir tmp;
    const auto file = tmp.write("plain", "x\n");
    const fs::path dir = file / "greeter";
    RunResult r = new_plugin({"greeter", "--dir", dir.string()});
    EXPECT_TRUE(exited_with(r, 1)) << r.describe();
    EXPECT_EQ(r.err, "trellis new-plugin: cannot create " + dir.string() + ": Not a directory\n");
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(entries(tmp.path()), std::vector<std::string>{"plain"});
}

// Permissions: root writes into read-only folders, so as root the command
// runs as nobody (setpriv, util-linux).
TEST(Scaffold, AnUnwritableDirIsOneLineNamingIt) {
    std::vector<std::string> as_user;
    if (geteuid() == 0) {
        if (!fs::exists("/usr/bin/setpriv")) GTEST_SKIP() << "running as root without /usr/bin/setpriv";
        as_user = {"/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"};
    }
    const auto run_as_user = [&](const fs::path& dir) {
        std::vector<std::string> argv = as_user;
        argv.insert(argv.end(), {trellis_binary().string(), "new-plugin", "greeter", "--dir", dir.string()});
        return run_program(argv);
    };
    TempDir tmp;
    ::chmod(tmp.path().c_str(), 0755);  // nobody may look inside
    const fs::path locked = tmp.path() / "locked";
    fs::create_directory(locked);
    ::chmod(locked.c_str(), 0555);
    RunResult inside = run_as_user(locked);
    RunResult below = run_as_user(locked / "greeter");
    ::chmod(locked.c_str(), 0755);
    EXPECT_TRUE(exited_with(inside, 1)) << inside.describe();
    EXPECT_EQ(inside.err, "trellis new-plugin: cannot write to " + locked.string() + ": Permission denied\n");
    EXPECT_EQ(inside.out, "");
    EXPECT_TRUE(exited_with(below, 1)) << below.describe();
    EXPECT_EQ(below.err, "trellis new-plugin: cannot create " + (locked / "greeter").string() + ": Permission denied\n");
    EXPECT_TRUE(fs::is_empty(locked));
}

TEST(Scaffold, HelpDescribesItAndTheTopLevelHelpListsIt) {
    RunResult help = new_plugin({"--help"});
    EXPECT_TRUE(exited_with(help, 0)) << help.describe();
    EXPECT_TRUE(Contains(help.out, "--with-model"));
    EXPECT_TRUE(Contains(help.out, "--dir"));
    EXPECT_TRUE(Contains(help.out, "trellis new-plugin bookmarks --with-model"));
    RunResult top = run_trellis({"--help"});
    EXPECT_TRUE(Contains(top.out, "new-plugin"));
}

}  // namespace
}  // namespace e2e
