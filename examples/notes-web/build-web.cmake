# `npm run build` of examples/notes-web into the notes_web plugin's static
# folder (called by CMakeLists.txt here with NPM, SOURCE_DIR, OUT_DIR, STAMP).
# Skips, successfully and without the stamp (so the next build checks again),
# when node_modules has not been installed or Node.js is older than Vite 8
# needs (20.19): the C++ build never depends on npm.
if(NOT EXISTS "${SOURCE_DIR}/node_modules/.package-lock.json")
  message(STATUS "notes-web: ${SOURCE_DIR}/node_modules is missing (scripts/install-deps.sh, "
                 "or `npm ci` there): the web app is not built")
  return()
endif()
get_filename_component(npm_dir "${NPM}" DIRECTORY)
find_program(NODE node HINTS "${npm_dir}")
set(node_version "")
if(NODE)
  execute_process(COMMAND "${NODE}" --version OUTPUT_VARIABLE node_version
                  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE node_result)
  string(REGEX REPLACE "^v" "" node_version "${node_version}")
endif()
if(NOT NODE OR node_version VERSION_LESS 20.19)
  message(STATUS "notes-web: Vite 8 needs Node.js 20.19 or later (found '${node_version}'): "
                 "the web app is not built")
  return()
endif()
file(MAKE_DIRECTORY "${OUT_DIR}")
execute_process(
  COMMAND "${CMAKE_COMMAND}" -E env "NOTES_WEB_OUT_DIR=${OUT_DIR}"
          "${NPM}" run build --silent
  WORKING_DIRECTORY "${SOURCE_DIR}"
  RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "notes-web: npm run build failed (${result})")
endif()
file(TOUCH "${STAMP}")
