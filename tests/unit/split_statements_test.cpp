// The one SQL statement splitter (host/db/migrations.hpp): migrations run
// its pieces one by one, and db_prepare refuses SQL it splits in more than
// one piece.
#include "db/migrations.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

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
