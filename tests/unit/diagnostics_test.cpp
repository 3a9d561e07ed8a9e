#include "config/diagnostics.hpp"

#include <filesystem>
#include <fstream>
#include <limits>

#include <unistd.h>

#include <gtest/gtest.h>

using namespace trellis::config;

namespace {

// Runs `f`, which must throw ConfigError, and returns its diagnostics as text.
template <class F>
std::vector<std::string> errors_of(F&& f) {
    try {
        f();
    } catch (const ConfigError& e) {
        std::vector<std::string> lines;
        for (const auto& d : e.diagnostics()) lines.push_back(d.str());
        return lines;
    }
    ADD_FAILURE() << "expected a ConfigError";
    return {};
}

std::vector<std::string> sink_lines(const DiagnosticSink& sink) {
    std::vector<std::string> lines;
    for (const auto& d : sink.diagnostics()) lines.push_back(d.str());
    return lines;
}

}  // namespace

TEST(Diagnostic, FormatsFileLineColumnKeyAndMessage) {
    EXPECT_EQ((Diagnostic{"trellis.yaml", 12, 5, "plugins.notes.mount", "must start with '/'"}.str()),
              "trellis.yaml:12:5: plugins.notes.mount: must start with '/'");
}

TEST(Diagnostic, LeavesOutUnknownPositionAndEmptyKeyPath) {
    EXPECT_EQ((Diagnostic{"a.yaml", 0, 0, "x.y", "bad"}.str()), "a.yaml: x.y: bad");
    EXPECT_EQ((Diagnostic{"a.yaml", 3, 7, "", "bad"}.str()), "a.yaml:3:7: bad");
    EXPECT_EQ((Diagnostic{"a.yaml", 0, 0, "", "bad"}.str()), "a.yaml: bad");
    EXPECT_EQ((Diagnostic{"x.plugin.yaml", 17, 5, "routes[0].handler", "bad", "embedded in libx.so"}.str()),
              "x.plugin.yaml:17:5 (embedded in libx.so): routes[0].handler: bad");
}

TEST(ConfigError, WhatJoinsEveryDiagnosticOnItsOwnLine) {
    const ConfigError error({Diagnostic{"f", 1, 2, "a", "one"}, Diagnostic{"f", 3, 4, "b", "two"}});
    EXPECT_STREQ(error.what(), "f:1:2: a: one\nf:3:4: b: two");
    ASSERT_EQ(error.diagnostics().size(), 2u);
    EXPECT_EQ(error.diagnostics()[1].key_path, "b");
}

TEST(DiagnosticSink, ConvertsYamlMarksToOneBasedPositions) {
    const YAML::Node doc = YAML::Load("server:\n  port: abc\n");
    DiagnosticSink sink("t.yaml");
    sink.error(doc["server"]["port"], "server.port", "must be an integer");
    ASSERT_EQ(sink.diagnostics().size(), 1u);
    EXPECT_EQ(sink.diagnostics()[0].line, 2);
    EXPECT_EQ(sink.diagnostics()[0].column, 9);
    EXPECT_EQ(sink.diagnostics()[0].file, "t.yaml");
    EXPECT_EQ(sink_lines(sink)[0], "t.yaml:2:9: server.port: must be an integer");
}

TEST(DiagnosticSink, NodesWithoutPositionAreReportedWithoutNumbers) {
    DiagnosticSink sink("t.yaml");
    sink.error(YAML::Node(), "a", "built in code");
    const YAML::Node doc = YAML::Load("a: 1");
    sink.error(doc["missing"], "b", "zombie node");
    EXPECT_EQ(sink_lines(sink), (std::vector<std::string>{"t.yaml: a: built in code", "t.yaml: b: zombie node"}));
}

TEST(DiagnosticSink, ThrowsOnlyWhenSomethingWasRecordedAndKeepsEverything) {
    DiagnosticSink sink("t.yaml");
    EXPECT_TRUE(sink.empty());
    EXPECT_NO_THROW(sink.throw_if_any());
    sink.error_at(1, 1, "a", "first");
    sink.error_at(2, 1, "b", "second");
    EXPECT_FALSE(sink.empty());
    EXPECT_EQ(errors_of([&] { sink.throw_if_any(); }),
              (std::vector<std::string>{"t.yaml:1:1: a: first", "t.yaml:2:1: b: second"}));
}

TEST(DidYouMean, SuggestsTheClosestKnownKey) {
    const std::vector<std::string_view> keys = {"listen", "port", "threads", "max_request_bytes"};
    EXPECT_EQ(did_you_mean("prot", keys), "did you mean 'port'?");      // transposition counts as one
    EXPECT_EQ(did_you_mean("pot", keys), "did you mean 'port'?");       // deletion
    EXPECT_EQ(did_you_mean("thredas", keys), "did you mean 'threads'?"); // 7 letters: up to 2 edits
    EXPECT_EQ(did_you_mean("max_reqest_byte", keys), "did you mean 'max_request_bytes'?");
}

TEST(DidYouMean, StaysSilentWhenNothingIsClose) {
    const std::vector<std::string_view> keys = {"listen", "port", "threads"};
    EXPECT_EQ(did_you_mean("database", keys), "");
    EXPECT_EQ(did_you_mean("prt0", keys), "");   // 4 letters allow 1 edit; this needs 2
    EXPECT_EQ(did_you_mean("x", keys), "");
    EXPECT_EQ(did_you_mean("port", {}), "");
}

TEST(DidYouMean, PrefersTheEarliestOfEquallyCloseKeys) {
    EXPECT_EQ(did_you_mean("ab", {"aa", "bb"}), "did you mean 'aa'?");
}

TEST(ParseYaml, SyntaxErrorsNameFileLineColumnAndYamlMessage) {
    try {
        parse_yaml("a: [1, 2\n", "broken.yaml");
        FAIL() << "expected a ConfigError";
    } catch (const ConfigError& e) {
        ASSERT_EQ(e.diagnostics().size(), 1u);
        const Diagnostic& d = e.diagnostics()[0];
        EXPECT_EQ(d.file, "broken.yaml");
        EXPECT_EQ(d.line, 2);
        EXPECT_EQ(d.column, 1);
        EXPECT_EQ(d.message, "end of sequence flow not found");
        EXPECT_EQ(d.str(), "broken.yaml:2:1: end of sequence flow not found");
    }
    EXPECT_EQ(errors_of([] { parse_yaml("a: b\n  c: d\n", "x.yaml"); }),
              (std::vector<std::string>{"x.yaml:2:4: illegal map value"}));
}

TEST(ParseYaml, EmptyTextIsANullDocument) {
    EXPECT_TRUE(parse_yaml("", "x").IsNull());
    EXPECT_TRUE(parse_yaml("# nothing\n", "x").IsNull());
}

TEST(LoadYamlFile, MissingFileNamesPathAndReason) {
    EXPECT_EQ(errors_of([] { load_yaml_file("/nonexistent/trellis.yaml"); }),
              (std::vector<std::string>{
                  "/nonexistent/trellis.yaml: cannot read configuration file: No such file or directory"}));
}

TEST(LoadYamlFile, DirectoryIsNotReadable) {
    const auto dir = std::filesystem::temp_directory_path().string();
    EXPECT_EQ(errors_of([&] { load_yaml_file(dir); }),
              (std::vector<std::string>{dir + ": cannot read configuration file: Is a directory"}));
}

TEST(LoadYamlFile, ReadsAndParses) {
    const auto path = std::filesystem::temp_directory_path() / ("trellis-diag-" + std::to_string(::getpid()) + ".yaml");
    std::ofstream(path) << "a: 1\nb: [x, y]\n";
    const YAML::Node doc = load_yaml_file(path.string());
    std::filesystem::remove(path);
    EXPECT_EQ(doc["a"].as<int>(), 1);
    EXPECT_EQ(doc["b"].size(), 2u);
}

TEST(WalkMap, RunsRulesAndReportsUnknownDuplicateAndMissingKeys) {
    const YAML::Node doc = YAML::Load("name: x\nnmae: y\nname: z\n");
    DiagnosticSink sink("w.yaml");
    std::vector<std::string> seen;
    walk_map(doc, "top",
             {
                 {"name", [&](const MapEntry& e) { seen.push_back(e.path + "=" + e.value.Scalar()); }},
                 {"size", [](const MapEntry&) {}, true},
             },
             sink);
    EXPECT_EQ(seen, (std::vector<std::string>{"top.name=x"}));
    EXPECT_EQ(sink_lines(sink), (std::vector<std::string>{
                                    "w.yaml:2:1: top.nmae: unknown key; did you mean 'name'?",
                                    "w.yaml:3:1: top.name: duplicate key; first set at line 1, column 1",
                                    "w.yaml:1:1: top.size: required key is missing",
                                }));
}

TEST(WalkMap, NonMapIsReportedAndNullIsEmpty) {
    DiagnosticSink sink("w.yaml");
    const YAML::Node doc = YAML::Load("a: [1]\nb:\n");
    walk_map(doc["a"], "a", {}, sink);
    walk_map(doc["b"], "b", {{"k", [](const MapEntry&) {}}}, sink);  // null: nothing to do
    EXPECT_EQ(sink_lines(sink), (std::vector<std::string>{"w.yaml:1:4: a: must be a map"}));
}

TEST(WalkMap, WhereFallsBackToTheKeyForNullValues) {
    DiagnosticSink sink("w.yaml");
    const YAML::Node doc = YAML::Load("a:\nb: 2\n");
    walk_map(doc, "",
             {{"a", [&](const MapEntry& e) { sink.error(e.where(), e.path, "null"); }},
              {"b", [&](const MapEntry& e) { sink.error(e.where(), e.path, "two"); }}},
             sink);
    EXPECT_EQ(sink_lines(sink), (std::vector<std::string>{"w.yaml:1:1: a: null", "w.yaml:2:4: b: two"}));
}

TEST(Scalars, ParseInteger) {
    EXPECT_EQ(parse_integer("8080"), 8080);
    EXPECT_EQ(parse_integer("+5"), 5);
    EXPECT_EQ(parse_integer("-12"), -12);
    EXPECT_EQ(parse_integer("9223372036854775807"), std::numeric_limits<std::int64_t>::max());
    EXPECT_EQ(parse_integer("-9223372036854775808"), std::numeric_limits<std::int64_t>::min());
    EXPECT_EQ(parse_integer("9223372036854775808"), std::nullopt);
    EXPECT_EQ(parse_integer(""), std::nullopt);
    EXPECT_EQ(parse_integer("-"), std::nullopt);
    EXPECT_EQ(parse_integer(" 1"), std::nullopt);
    EXPECT_EQ(parse_integer("1.0"), std::nullopt);
    EXPECT_EQ(parse_integer("0x10"), std::nullopt);
}

TEST(Scalars, QuotedScalarsAreStrings) {
    const YAML::Node doc = YAML::Load("a: 12\nb: \"12\"\nc: true\nd: 'true'\ne: yes\nf: FALSE\n");
    EXPECT_EQ(integer_of(doc["a"]), 12);
    EXPECT_EQ(integer_of(doc["b"]), std::nullopt);
    EXPECT_EQ(bool_of(doc["c"]), true);
    EXPECT_EQ(bool_of(doc["d"]), std::nullopt);
    EXPECT_EQ(bool_of(doc["e"]), std::nullopt);  // YAML 1.2: "yes" is a string
    EXPECT_EQ(bool_of(doc["f"]), false);
}

TEST(Scalars, PluginNames) {
    EXPECT_TRUE(is_plugin_name("notes"));
    EXPECT_TRUE(is_plugin_name("my-plugin_2"));
    EXPECT_FALSE(is_plugin_name(""));
    EXPECT_FALSE(is_plugin_name("a.b"));
    EXPECT_FALSE(is_plugin_name("a b"));
}
