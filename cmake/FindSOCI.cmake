# FindSOCI: SOCI ships neither a CMake package nor a pkg-config file on
# Debian 12 (libsoci-dev 4.0.3), so find it by hand.
#
# Imported targets:
#   SOCI::core        libsoci_core and its headers
#   SOCI::sqlite3     the SQLite 3 backend (needs libsqlite3-dev)
#   SOCI::postgresql  the PostgreSQL backend; its header includes <libpq-fe.h>,
#                     so the target carries PostgreSQL's include directory
# Result variables: SOCI_FOUND, SOCI_INCLUDE_DIR, SOCI_VERSION,
#   SOCI_<component>_FOUND for the components sqlite3 and postgresql.

find_path(SOCI_INCLUDE_DIR NAMES soci/soci.h)
find_library(SOCI_CORE_LIBRARY NAMES soci_core)
find_library(SOCI_SQLITE3_LIBRARY NAMES soci_sqlite3)
find_library(SOCI_POSTGRESQL_LIBRARY NAMES soci_postgresql)

if(SOCI_INCLUDE_DIR AND EXISTS "${SOCI_INCLUDE_DIR}/soci/version.h")
  file(STRINGS "${SOCI_INCLUDE_DIR}/soci/version.h" _soci_version_line REGEX "^#define SOCI_VERSION [0-9]+")
  if(_soci_version_line MATCHES "SOCI_VERSION ([0-9]+)")
    math(EXPR _soci_major "${CMAKE_MATCH_1} / 100000")
    math(EXPR _soci_minor "${CMAKE_MATCH_1} / 100 % 1000")
    math(EXPR _soci_patch "${CMAKE_MATCH_1} % 100")
    set(SOCI_VERSION "${_soci_major}.${_soci_minor}.${_soci_patch}")
  endif()
endif()

if(SOCI_SQLITE3_LIBRARY)
  find_package(SQLite3 QUIET)
  if(SQLite3_FOUND)
    set(SOCI_sqlite3_FOUND TRUE)
  endif()
endif()
if(SOCI_POSTGRESQL_LIBRARY)
  find_package(PostgreSQL QUIET)
  if(PostgreSQL_FOUND)
    set(SOCI_postgresql_FOUND TRUE)
  endif()
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(SOCI
  REQUIRED_VARS SOCI_CORE_LIBRARY SOCI_INCLUDE_DIR
  VERSION_VAR SOCI_VERSION
  HANDLE_COMPONENTS)

if(SOCI_FOUND AND NOT TARGET SOCI::core)
  add_library(SOCI::core UNKNOWN IMPORTED)
  set_target_properties(SOCI::core PROPERTIES
    IMPORTED_LOCATION "${SOCI_CORE_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${SOCI_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "${CMAKE_DL_LIBS}")
  if(SOCI_sqlite3_FOUND)
    add_library(SOCI::sqlite3 UNKNOWN IMPORTED)
    set_target_properties(SOCI::sqlite3 PROPERTIES
      IMPORTED_LOCATION "${SOCI_SQLITE3_LIBRARY}"
      INTERFACE_LINK_LIBRARIES "SOCI::core;SQLite::SQLite3")
  endif()
  if(SOCI_postgresql_FOUND)
    add_library(SOCI::postgresql UNKNOWN IMPORTED)
    set_target_properties(SOCI::postgresql PROPERTIES
      IMPORTED_LOCATION "${SOCI_POSTGRESQL_LIBRARY}"
      INTERFACE_LINK_LIBRARIES "SOCI::core;PostgreSQL::PostgreSQL")
  endif()
endif()

mark_as_advanced(SOCI_INCLUDE_DIR SOCI_CORE_LIBRARY SOCI_SQLITE3_LIBRARY SOCI_POSTGRESQL_LIBRARY)
