// The data benchmark peer: the smallest honest bare Pistache 0.0.5 + SOCI
// server that answers what trellis' `notes` resource answers for
// GET /api/notes/{id}:
//
//   200, Content-Type: application/json,
//   {"id":1,"title":"...","body":"...","tag":"..."|null,"pinned":true|false,"created":"..."|null}
//   404 when no note has that id (or the id is not an integer).
//
// Usage: bare_pistache_soci PORT THREADS DATABASE
//   listens on 127.0.0.1 (PORT 0 = any free port; the bound port is printed
//   as "listening on 127.0.0.1:<port>"); DATABASE is the SQLite file trellis
//   created (table `note` of plugins/notes/notes.plugin.yaml), or a libpq
//   connection string ("host=... port=... dbname=... user=...") of the
//   PostgreSQL database it created the table in.
//
// Database access: one soci::session per Pistache worker thread (sessions are
// not thread-safe; a worker serves one request at a time, so it needs no pool
// and no lock), opened on first use (SQLite: with the pragmas trellis' host
// uses: busy_timeout, WAL, synchronous=NORMAL, foreign_keys=ON), and one
// statement prepared once per session and re-executed with a new id for
// every request.
//
// Keep-alive: as in peer.hpp, every response to an HTTP/1.1 request
// carries "Connection: keep-alive" unless the client asked for "close"
// (Pistache 0.0.5 would otherwise close the connection after each response).
// Nothing else is tuned.
#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/router.h>

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "peer.hpp"

#include <charconv>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <system_error>

namespace {

using namespace Pistache;

std::string g_database;  // set once in main() before serving starts

void append_nullable_string(std::string& out, const std::string& value, soci::indicator ind) {
    if (ind == soci::i_null)
        out += "null";
    else
        peer::append_json_string(out, value);
}

// One worker thread's connection and its prepared point read. The into/use
// variables are bound once; execute(true) refills them.
struct Reader {
    soci::session session;
    long long id_param = 0;
    long long id = 0;
    std::string title, body, tag, created;
    int pinned = 0;
    soci::indicator title_ind = soci::i_ok, body_ind = soci::i_ok, tag_ind = soci::i_ok,
                    pinned_ind = soci::i_ok, created_ind = soci::i_ok;
    soci::statement select;

    static bool is_postgresql(const std::string& database) { return database.find("dbname=") != std::string::npos; }

    explicit Reader(const std::string& database)
        : session(is_postgresql(database) ? *soci::factory_postgresql() : *soci::factory_sqlite3(), database),
          select(session) {
        if (!is_postgresql(database)) {
            // The same connection set-up as trellis' host (host/db/database.cpp).
            session << "PRAGMA busy_timeout=5000";
            std::string mode;
            session << "PRAGMA journal_mode=WAL", soci::into(mode);
            if (mode != "wal") throw std::runtime_error("cannot switch " + database + " to WAL (journal_mode " + mode + ")");
            session << "PRAGMA synchronous=NORMAL";
            session << "PRAGMA foreign_keys=ON";
        }

        select = (session.prepare << "SELECT id, title, body, tag, pinned, created FROM notes_note WHERE id = :id",
                  soci::into(id), soci::into(title, title_ind), soci::into(body, body_ind),
                  soci::into(tag, tag_ind), soci::into(pinned, pinned_ind), soci::into(created, created_ind),
                  soci::use(id_param, "id"));
    }

    // The note as JSON, or false when there is none with this id.
    bool read(long long wanted, std::string& out) {
        id_param = wanted;
        if (!select.execute(true)) return false;
        out.reserve(128 + title.size() + body.size() + tag.size() + created.size());
        out += "{\"id\":";
        out += std::to_string(id);
        out += ",\"title\":";
        append_nullable_string(out, title, title_ind);
        out += ",\"body\":";
        append_nullable_string(out, body, body_ind);
        out += ",\"tag\":";
        append_nullable_string(out, tag, tag_ind);
        out += ",\"pinned\":";
        out += pinned_ind == soci::i_null ? "null" : pinned != 0 ? "true" : "false";
        out += ",\"created\":";
        append_nullable_string(out, created, created_ind);
        out += '}';
        return true;
    }
};

Reader& thread_reader() {
    thread_local std::unique_ptr<Reader> reader;
    if (!reader) reader = std::make_unique<Reader>(g_database);
    return *reader;
}

void send(const Rest::Request& request, Http::ResponseWriter& response, Http::Code code, const std::string& body) {
    peer::send_json(request, response, code, body);
}

void get_note(const Rest::Request& request, Http::ResponseWriter response) {
    // Pistache would turn an escaping exception into a 500 carrying what():
    // answer a generic 500 instead, like trellis.
    try {
        const std::string text = request.param(":id").as<std::string>();
        long long id = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
        std::string body;
        if (ec != std::errc() || end != text.data() + text.size() || !thread_reader().read(id, body)) {
            send(request, response, Http::Code::Not_Found, R"({"status":404,"title":"Not Found"})");
            return;
        }
        send(request, response, Http::Code::Ok, body);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bare_pistache_soci: %s\n", e.what());
        send(request, response, Http::Code::Internal_Server_Error, R"({"status":500,"title":"Internal Server Error"})");
    }
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s PORT THREADS DATABASE (an SQLite file or a libpq 'host=... dbname=...' string)\n", argv[0]);
        return 2;
    }
    const int port = peer::parse_int("bare_pistache_soci", argv[1], "port", 0, 65535);
    const int threads = peer::parse_int("bare_pistache_soci", argv[2], "threads", 1, 256);
    g_database = argv[3];

    try {
        // Fail at start-up, not on the first request, if the file or the
        // table is missing (this reader is the main thread's, then unused).
        {
            Reader probe(g_database);
            std::string ignored;
            probe.read(0, ignored);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bare_pistache_soci: %s\n", e.what());
        return 1;
    }
    return peer::serve_until_signal("bare_pistache_soci", port, threads, [](Rest::Router& router) {
        Rest::Routes::Get(router, "/api/notes/:id", Rest::Routes::bind(&get_note));
    });
}
