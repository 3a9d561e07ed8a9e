/* A one-function stand-in for a copy of SQLite that a plugin bundles,
 * compiled the ordinary way (default visibility) into a static library. The
 * host links the real libsqlite3, which defines the same symbol. */
const char* sqlite3_libversion(void) { return "bundled-by-plugin"; }
