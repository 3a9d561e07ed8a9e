// Fixtures that share one running host between the tests of a suite (tests
// that only read), and helpers for asserting on problem+json answers.
#pragma once

#include <signal.h>

#include <memory>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "harness.hpp"
#include "http_client.hpp"

namespace e2e {

// The marker the must-be-refused test plugins print if the host calls them.
inline constexpr std::string_view kCanary = "CANARY: the host called into a plugin it should have refused";

// CRTP: `class HelloTest : public SharedHostTest<HelloTest>` with a static
// SetUpTestSuite() calling start(...) (or skip_suite(...)). The host is
// stopped with SIGTERM after the suite and must exit 0; a host that dies
// during a test fails that test.
template <class Derived>
class SharedHostTest : public ::testing::Test {
protected:
    static void start(std::string_view plugins_block, const HostOptions& options = {}) {
        error_.clear();
        skip_.clear();
        try {
            host_ = Host::start(plugins_block, options);
        } catch (const std::exception& e) {
            error_ = e.what();
        }
    }

    // Instead of start(): every test of the suite is skipped, saying `why`.
    static void skip_suite(std::string_view why) {
        error_.clear();
        skip_ = why;
    }

    static void TearDownTestSuite() {
        if (!host_) return;
        ExitStatus s = host_->stop(SIGTERM);
        if (!s.exited || s.code != 0)
            ADD_FAILURE() << "host did not exit 0 on SIGTERM: " << s.describe() << "\n--- stderr ---\n"
                          << host_->err();
        host_.reset();
    }

    void SetUp() override {
        if (!skip_.empty()) GTEST_SKIP() << skip_;
        if (!host_) GTEST_FAIL() << "the suite's host is not running:\n" << error_;
    }

    void TearDown() override {
        if (host_ && !host_->process().running()) {
            auto status = host_->process().poll();
            ADD_FAILURE() << "the host died during this test (" << (status ? status->describe() : "?")
                          << ")\n--- stderr ---\n" << host_->err();
            error_ = "the host died in an earlier test";
            host_.reset();
        }
    }

    static int port() { return host_->port(); }
    static Host& host() { return *host_; }

    static inline std::unique_ptr<Host> host_;
    static inline std::string error_;  // why host_ is not running
    static inline std::string skip_;
};

// Asserts an RFC 9457 problem+json answer: status line, Content-Type and
// body fields. `title` empty: not checked.
::testing::AssertionResult IsProblem(const Response& r, int status, std::string_view instance,
                                     std::string_view title = "");

// Whether `text` contains `needle`, with both in the failure message.
::testing::AssertionResult Contains(const std::string& text, std::string_view needle);
::testing::AssertionResult NotContains(const std::string& text, std::string_view needle);

}  // namespace e2e
