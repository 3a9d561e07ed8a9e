// The one set of SQL text rules (host/db/sql_text.hpp): migrations run the
// pieces split_statements() cuts one by one, db_prepare refuses SQL it cuts
// in more than one piece, and binds the parameters parameter_names() finds.
// Both agree on what is quoted, commented or dollar-quoted.
#include "db/sql_text.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

using trellis::db::parameter_names;
using trellis::db::split_statements;
using Pieces = std::vector<std::string>;

TEST(SplitStatements, SplitsAtSemicolonsAndTrims) {
    EXPECT_EQ(split_statements("CREATE TABLE a (x INT);\n  INSERT INTO a VALUES (1) ;SELECT 1"),
              (Pieces{"CREATE TABLE a (x INT)", "INSERT INTO a VALUES (1)", "SELECT 1"}));
    EXPECT_EQ(split_statements("SELECT 1"), (Pieces{"SELECT 1"}));
}

TEST(SplitStatements, NothingButBlanksSemicolonsAndComments) {
    EXPECT_EQ(split_statements(""), Pieces{});
    EXPECT_EQ(split_statements(" ;\n; \t"), Pieces{});
    EXPECT_EQ(split_statements("-- only a comment\n/* and another; with a semicolon */ ;"), Pieces{});
    EXPECT_EQ(split_statements("SELECT 1; -- done\n /* really */ ;"), (Pieces{"SELECT 1"}));
}

TEST(SplitStatements, SemicolonsInsideQuotesAndCommentsDoNotSplit) {
    EXPECT_EQ(split_statements("INSERT INTO t VALUES ('a;b', 'it''s; fine'); SELECT 2"),
              (Pieces{"INSERT INTO t VALUES ('a;b', 'it''s; fine')", "SELECT 2"}));
    EXPECT_EQ(split_statements("SELECT \"odd;name\" FROM t"), (Pieces{"SELECT \"odd;name\" FROM t"}));
    EXPECT_EQ(split_statements("SELECT 1 -- not; here\n+ 1"), (Pieces{"SELECT 1 -- not; here\n+ 1"}));
    EXPECT_EQ(split_statements("SELECT /* a; b */ 1"), (Pieces{"SELECT /* a; b */ 1"}));
}

TEST(SplitStatements, PostgresqlDollarQuotedBodies) {
    const std::string function =
        "CREATE FUNCTION f() RETURNS int AS $body$ BEGIN RETURN 1; END; $body$ LANGUAGE plpgsql";
    EXPECT_EQ(split_statements(function + "; SELECT f()"), (Pieces{function, "SELECT f()"}));
    EXPECT_EQ(split_statements("SELECT $$a;b$$; SELECT 2"), (Pieces{"SELECT $$a;b$$", "SELECT 2"}));
    // A positional parameter is not a quote.
    EXPECT_EQ(split_statements("SELECT $1; SELECT $2"), (Pieces{"SELECT $1", "SELECT $2"}));
}

TEST(SplitStatements, UnterminatedQuoteOrCommentRunsToTheEnd) {
    EXPECT_EQ(split_statements("SELECT 'open; still open"), (Pieces{"SELECT 'open; still open"}));
    EXPECT_EQ(split_statements("SELECT 1 /* open; comment"), (Pieces{"SELECT 1 /* open; comment"}));
}

TEST(ParameterNames, DistinctInOrderOfFirstUse) {
    EXPECT_EQ(parameter_names("SELECT :a, :b_2 FROM t WHERE x = :a OR y = :c"), (Pieces{"a", "b_2", "c"}));
    EXPECT_EQ(parameter_names("SELECT 1"), Pieces{});
    EXPECT_EQ(parameter_names("SELECT :1, : a"), Pieces{});  // a name starts with a letter or '_'
}

TEST(ParameterNames, CastsAreNotParameters) {
    EXPECT_EQ(parameter_names("SELECT :v::int, x::text FROM t"), (Pieces{"v"}));
}

// The same rules as the splitter: what it treats as text is not a parameter.
TEST(ParameterNames, NothingInsideQuotesCommentsOrDollarBodies) {
    EXPECT_EQ(parameter_names("SELECT 'it''s :no', :yes"), (Pieces{"yes"}));
    EXPECT_EQ(parameter_names("SELECT \":no\" FROM t WHERE a = :yes"), (Pieces{"yes"}));
    EXPECT_EQ(parameter_names("SELECT :yes -- :no\n, 1 /* :no */"), (Pieces{"yes"}));
    EXPECT_EQ(parameter_names("SELECT $$ :no $$, $tag$ :no $tag$, :yes"), (Pieces{"yes"}));
    // Whatever the splitter keeps inside one statement, the names agree on.
    for (const std::string sql : {"INSERT INTO t VALUES ('a;b :no', :x)", "SELECT $b$ ; :no $b$ + :x"}) {
        EXPECT_EQ(split_statements(sql).size(), 1u) << sql;
        EXPECT_EQ(parameter_names(sql), (Pieces{"x"})) << sql;
    }
}
