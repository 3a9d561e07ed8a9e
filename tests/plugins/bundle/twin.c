/* libtwin: a shared library a plugin depends on, built twice with a
 * different TWIN_TEXT and SONAME (libtwin.so.1, libtwin.so.2). It also
 * defines sqlite3_libversion(), which the host's libsqlite3 defines. */
const char* twin_version(void) { return TWIN_TEXT; }
const char* sqlite3_libversion(void) { return "from-libtwin-" TWIN_TEXT; }
