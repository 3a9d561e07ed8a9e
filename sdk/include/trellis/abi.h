/*
 * trellis/abi.h -- the stable C ABI between the Trellis host and its plugins.
 *
 * ABI 1.3 (TRELLIS_ABI_MAJOR.TRELLIS_ABI_MINOR below). This header is the
 * whole contract: no C++ type crosses it. What each minor version added is
 * marked "ABI 1.1" / "ABI 1.2" / "ABI 1.3" where it is declared.
 *
 * Rules (they are what keeps a plugin built today loadable by every 1.x host):
 *
 *  - A plugin exports exactly one well-known symbol, TRELLIS_ENTRY_SYMBOL, a
 *    function returning a pointer to a constant trellis_plugin_descriptor.
 *  - The host refuses a plugin whose abi_major differs from its own or whose
 *    abi_minor is newer than its own, and never calls into a refused plugin.
 *  - The manifest's `abi: MAJOR.MINOR` is the lowest ABI the plugin needs:
 *    every feature it uses (manifest keys and host functions) exists in that
 *    version. It may be older than the header the plugin was built with
 *    (abi_minor), never newer. The host refuses manifest keys newer than the
 *    declared version (hooks, errors, models, migrations and resources are
 *    1.1), and the C++ SDK refuses at compile time what the declared version
 *    lacks (trellis_add_plugin() passes it as TRELLIS_PLUGIN_ABI_MINOR).
 *  - Structs only ever grow by appending fields. Every struct starts with
 *    `struct_size`; a reader checks it before touching a field that a newer
 *    minor version appended. Fields are never reordered or removed.
 *  - Strings cross as trellis_str views (pointer + length, not NUL-terminated
 *    unless stated). A view handed to the plugin is valid only for the
 *    duration of the call that produced it, unless stated otherwise; the host
 *    copies every view the plugin hands it. Whoever allocates frees.
 *  - Exceptions never cross. Every function here returns normally.
 *  - Request, response, call and plugin context are opaque handles.
 *  - All host API functions may be called from any request thread, for the
 *    call handle that thread was given; handles are not shared across threads.
 */
#ifndef TRELLIS_ABI_H
#define TRELLIS_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TRELLIS_ABI_MAJOR 1
#define TRELLIS_ABI_MINOR 3

/* Name of the one symbol every plugin exports (see trellis_plugin_entry_fn). */
#define TRELLIS_ENTRY_SYMBOL "trellis_plugin_entry"

#if defined(__GNUC__)
#define TRELLIS_EXPORT __attribute__((visibility("default")))
#else
#define TRELLIS_EXPORT
#endif

/* A borrowed string view: `len` bytes at `ptr`, not necessarily NUL-terminated.
 * ptr may be NULL only when len is 0. */
typedef struct trellis_str {
    const char* ptr;
    size_t len;
} trellis_str;

/* Opaque handles. */
typedef struct trellis_call trellis_call;             /* one request/response exchange */
typedef struct trellis_plugin_ctx trellis_plugin_ctx; /* one loaded plugin instance */
typedef struct trellis_stmt trellis_stmt;             /* ABI 1.1: one prepared SQL statement */

/* Result of a handler or of init. */
typedef enum trellis_status {
    TRELLIS_OK = 0,    /* the handler produced the response (or recorded an error) */
    TRELLIS_ERROR = 1, /* the handler failed; unless it called fail(), the host answers 500 */
    TRELLIS_DONE = 2   /* ABI 1.1, before_request hooks: the response is complete; skip the
                          remaining before hooks and the route handler (after hooks still run) */
} trellis_status;

/* Log levels, from most to least verbose. */
typedef enum trellis_log_level {
    TRELLIS_LOG_TRACE = 0,
    TRELLIS_LOG_DEBUG = 1,
    TRELLIS_LOG_INFO = 2,
    TRELLIS_LOG_WARN = 3,
    TRELLIS_LOG_ERROR = 4
} trellis_log_level;

/* ABI 1.1: database results and errors. */
typedef enum trellis_db_code {
    TRELLIS_DB_OK = 0,
    TRELLIS_DB_ROW = 100,        /* db_step: a row is available */
    TRELLIS_DB_DONE = 101,       /* db_step: no (more) rows */
    TRELLIS_DB_ERROR = 1,        /* any other failure (syntax, type, ...) */
    TRELLIS_DB_UNAVAILABLE = 2,  /* the database cannot be reached: answer 503 */
    TRELLIS_DB_CONSTRAINT = 3,   /* a unique/foreign key/check constraint failed: usually 409 */
    TRELLIS_DB_MISUSE = 4        /* wrong use of the API (bad index, unknown parameter, ...) */
} trellis_db_code;

/* ABI 1.1: column types as db_column_type reports them. */
typedef enum trellis_db_type {
    TRELLIS_DB_NULL = 0,
    TRELLIS_DB_INTEGER = 1,
    TRELLIS_DB_REAL = 2,
    TRELLIS_DB_TEXT = 3
} trellis_db_type;

typedef struct trellis_host_api trellis_host_api;

/* The signature of every request handler. The manifest names handlers by
 * symbol; they must be exported with C linkage. `host` is valid for the life
 * of the plugin; `call` only until the handler returns. */
typedef trellis_status (*trellis_handler_fn)(const trellis_host_api* host, trellis_call* call);

/* Optional lifecycle hooks. init runs once after the host accepted the plugin
 * and validated its settings, before any request; returning TRELLIS_ERROR
 * refuses the plugin (log why through host->log first). shutdown runs once
 * when the plugin is unloaded, after its last request finished. */
typedef trellis_status (*trellis_init_fn)(const trellis_host_api* host, trellis_plugin_ctx* plugin);
typedef void (*trellis_shutdown_fn)(const trellis_host_api* host, trellis_plugin_ctx* plugin);

/* What the entry symbol returns. Constant, owned by the plugin, valid as long
 * as the library is loaded. */
typedef struct trellis_plugin_descriptor {
    size_t struct_size;      /* sizeof(trellis_plugin_descriptor) as the plugin was built */
    uint32_t abi_major;      /* TRELLIS_ABI_MAJOR the plugin was built against */
    uint32_t abi_minor;      /* TRELLIS_ABI_MINOR the plugin was built against */
    const char* name;        /* NUL-terminated; must equal the manifest's `plugin:` */
    const char* version;     /* NUL-terminated; must equal the manifest's `version:` */
    trellis_str manifest;    /* the plugin manifest, YAML text */
    trellis_init_fn init;         /* may be NULL */
    trellis_shutdown_fn shutdown; /* may be NULL */
} trellis_plugin_descriptor;

typedef const trellis_plugin_descriptor* (*trellis_plugin_entry_fn)(void);

/* The host's function table, handed to init, shutdown and every handler.
 * Owned by the host, valid for the life of the plugin. Check struct_size
 * before using a field appended after ABI 1.0. */
struct trellis_host_api {
    size_t struct_size;
    uint32_t abi_major;
    uint32_t abi_minor;

    /* ---- request (views valid until the handler returns) ---- */

    /* The method, upper case ("GET", "POST", ...). */
    trellis_str (*request_method)(trellis_call* call);
    /* The request path as sent, percent-encoded, without the query string. */
    trellis_str (*request_path)(trellis_call* call);
    /* A path parameter of the matched route template, percent-decoded.
     * Returns 1 and sets *out when the template has it, 0 otherwise. */
    int (*request_param)(trellis_call* call, trellis_str name, trellis_str* out);
    /* A query string parameter (first occurrence), percent-decoded; a key
     * without '=' has an empty value. Returns 1 when present, 0 otherwise. */
    int (*request_query)(trellis_call* call, trellis_str name, trellis_str* out);
    /* A request header, name matched case-insensitively. Returns 1 when present. */
    int (*request_header)(trellis_call* call, trellis_str name, trellis_str* out);
    /* The request body (may be empty). */
    trellis_str (*request_body)(trellis_call* call);

    /* ---- response (the host copies everything it is given) ---- */

    /* Sets the status code (100..599; default 200). Returns 0 if out of range. */
    int (*response_status)(trellis_call* call, int status);
    /* Adds a header. Returns 0 and adds nothing if the name is not an HTTP
     * token or the value holds CR, LF or NUL. Content-Length, Connection,
     * Transfer-Encoding, Date and X-Request-Id are the host's and are refused.
     * Setting Content-Type replaces the default; setting Server replaces the
     * host's. */
    int (*response_header)(trellis_call* call, trellis_str name, trellis_str value);
    /* Replaces the response body. */
    void (*response_body)(trellis_call* call, trellis_str body);

    /* ---- errors ---- */

    /* Records that the request failed with `status` (400..599) and a detail
     * that is safe to show to the client. The host discards any response set
     * so far and answers with its error chain (RFC 9457 problem+json by
     * default). The handler should then return. */
    void (*fail)(trellis_call* call, int status, trellis_str detail);

    /* ---- plugin context, settings, logging ---- */

    /* The plugin context of the plugin whose code runs now: the route's
     * handler, or the hook or error handler being called (an application
     * hook reads its own plugin's settings on other plugins' routes). */
    trellis_plugin_ctx* (*call_plugin)(trellis_call* call);
    /* An operator setting, validated against the manifest's schema with
     * defaults applied. Scalars come as their text ("120", "true", "abc");
     * lists and maps as JSON. Returns 1 when set, 0 when unset. The view is
     * valid for the life of the plugin. */
    int (*setting)(trellis_plugin_ctx* plugin, trellis_str name, trellis_str* out);
    /* Writes one line to the host log, tagged with the plugin's name. */
    void (*log)(trellis_plugin_ctx* plugin, trellis_log_level level, trellis_str message);

    /* ---- ABI 1.1: request ids, hooks, error handlers ---- */

    /* The request id: the client's X-Request-Id when it is sane (1..128
     * characters of [A-Za-z0-9._:-]), else one the host generated. The host
     * echoes it in the response's X-Request-Id header. */
    trellis_str (*request_id)(trellis_call* call);
    /* The matched route template including the mount, e.g.
     * "/api/notes/{id:int}"; empty when no route matched (application hooks
     * and error handlers may see that). */
    trellis_str (*request_route)(trellis_call* call);
    /* Writes one line to the host log tagged with the plugin's name and the
     * request id. */
    void (*call_log)(trellis_call* call, trellis_log_level level, trellis_str message);
    /* The response status as it stands (for after_request hooks). */
    int (*response_get_status)(trellis_call* call);
    /* A response header as it stands, name matched case-insensitively.
     * Returns 1 when present. Content-Type is included. */
    int (*response_get_header)(trellis_call* call, trellis_str name, trellis_str* out);
    /* Removes every response header with this name; returns how many. */
    int (*response_remove_header)(trellis_call* call, trellis_str name);
    /* In an error handler: the failed status (and the detail, safe to show);
     * 0 anywhere else. */
    int (*error_status)(trellis_call* call, trellis_str* detail);

    /* ---- ABI 1.1: database ----
     * The host owns the connection pool (SQLite or PostgreSQL, chosen by the
     * operator); plugins never link a database library. A call takes one
     * session from the pool on its first db_* use and returns it when the
     * request ends; an open transaction is rolled back then. SQL takes named
     * parameters written :name; bind values, never paste request data into
     * SQL. Every function returns a trellis_db_code unless stated. */

    /* Prepares `sql` on the call's session. Sets *out and returns
     * TRELLIS_DB_OK, or returns an error code (see db_error) and sets *out to
     * NULL. Statements belong to the call: the host finalizes any the plugin
     * did not when the request ends.
     * One statement per call: SQL that goes on after its ';' is refused
     * (TRELLIS_DB_ERROR) on every backend. */
    int (*db_prepare)(trellis_call* call, trellis_str sql, trellis_stmt** out);
    /* Binds a value to the parameter :name (name given without the colon).
     * Bind before the first db_step. */
    int (*db_bind_int)(trellis_stmt* stmt, trellis_str name, int64_t value);
    int (*db_bind_real)(trellis_stmt* stmt, trellis_str name, double value);
    int (*db_bind_text)(trellis_stmt* stmt, trellis_str name, trellis_str value);
    int (*db_bind_null)(trellis_stmt* stmt, trellis_str name);
    /* Executes the statement on the first call, then moves to the next row:
     * TRELLIS_DB_ROW while a row is available, TRELLIS_DB_DONE after the last
     * one (at once for statements that return no rows), or an error code. */
    int (*db_step)(trellis_stmt* stmt);
    /* Columns of the current row (0-based). Names are lower case as the
     * database reports them. Views are valid until the next db_step or
     * db_finalize of this statement. */
    int (*db_column_count)(trellis_stmt* stmt);
    trellis_str (*db_column_name)(trellis_stmt* stmt, int index);
    int (*db_column_index)(trellis_stmt* stmt, trellis_str name); /* -1 when absent */
    int (*db_column_type)(trellis_stmt* stmt, int index);         /* trellis_db_type */
    int64_t (*db_column_int)(trellis_stmt* stmt, int index);
    double (*db_column_real)(trellis_stmt* stmt, int index);
    trellis_str (*db_column_text)(trellis_stmt* stmt, int index);
    /* Rows changed by an INSERT/UPDATE/DELETE, after its db_step. */
    int64_t (*db_rows_affected)(trellis_stmt* stmt);
    /* Frees the statement (NULL is fine). */
    void (*db_finalize)(trellis_stmt* stmt);
    /* A transaction on the call's session; nested begin is TRELLIS_DB_MISUSE. */
    int (*db_begin)(trellis_call* call);
    int (*db_commit)(trellis_call* call);
    int (*db_rollback)(trellis_call* call);
    /* The last database error of this call: its code, and a message for logs
     * (it may name tables and SQL: do not send it to clients). */
    int (*db_error)(trellis_call* call, trellis_str* message);

    /* ---- ABI 1.2: plugin state, instances, failure headers ---- */

    /* Hands the host a pointer the plugin owns, usually from init: every
     * handler, hook and error handler of this instance gets it back through
     * plugin_state(call_plugin(call)); shutdown gets it the same way and
     * frees it. The host never reads, copies or frees it. Each instance has
     * its own (an operator may mount one library several times). */
    void (*plugin_set_state)(trellis_plugin_ctx* plugin, void* state);
    /* The pointer last given to plugin_set_state for this instance; NULL
     * until then. */
    void* (*plugin_state)(trellis_plugin_ctx* plugin);
    /* The instance's name: its key under the operator's `plugins:`; the
     * plugin's own name unless the library is mounted more than once. Valid
     * for the life of the plugin. */
    trellis_str (*plugin_instance)(trellis_plugin_ctx* plugin);
    /* Adds a header to the answer of this call's failure (see fail), which
     * otherwise discards every header set so far: WWW-Authenticate with a
     * 401, Retry-After with a 503. Call it before or after fail, from the
     * code that fails; the same names and values as response_header are
     * refused (returns 0), Content-Type too. */
    int (*fail_header)(trellis_call* call, trellis_str name, trellis_str value);

    /* ---- ABI 1.3: deadlines ---- */

    /* The time by which this call's answer must be ready, as wall-clock Unix
     * time in milliseconds (since 1970-01-01 UTC); 0 when the request has
     * none. The same for every hook, handler and error handler of the call.
     * Under `trellis serve` with workers it is the request's dispatch plus
     * server.worker_timeout (a worker still running the request then is
     * killed); under `trellis lambda`, the invocation's
     * Lambda-Runtime-Deadline-Ms (an answer after it is logged); with
     * server.workers: 0, none. Absolute epoch milliseconds, as Lambda gives
     * it, rather than a duration: it needs no "since when", means the same in
     * every process and log line, and compares directly with the plugin's own
     * clock (time(), clock_gettime(CLOCK_REALTIME), std::chrono::system_clock)
     * or with a deadline passed on to another service. The wall clock may be
     * stepped: keep a margin rather than run to the last millisecond. */
    int64_t (*request_deadline_ms)(trellis_call* call);

    /* Later minor versions append fields here. */
};

/* True when the host's table has `field`, i.e. the host was built with the
 * minor version that appended it. Check before calling a field newer than 1.0. */
#define TRELLIS_HOST_HAS(host, field) \
    ((host)->struct_size >= offsetof(trellis_host_api, field) + sizeof((host)->field))

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TRELLIS_ABI_H */
