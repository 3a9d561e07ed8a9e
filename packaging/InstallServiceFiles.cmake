# Install-time part of packaging/CMakeLists.txt (install(CODE) includes it):
# writes the systemd unit, the default configuration and its conf.d/ with
# the paths of the prefix being installed to. It runs inside `cmake
# --install` (and CPack), where CMAKE_INSTALL_PREFIX is the --prefix given
# then, not the one the tree was configured with, so `cmake --install build
# --prefix /opt/trellis` gives a unit that starts /opt/trellis/bin/trellis.
#
# Set by the caller: TRELLIS_PACKAGING_SOURCE_DIR, TRELLIS_PACKAGING_BINARY_DIR,
# TRELLIS_BINDIR, TRELLIS_SYSCONFDIR, TRELLIS_DATAROOTDIR and
# TRELLIS_PLUGIN_DIR (each relative to the prefix, or absolute).

# A directory as the service sees it: relative ones are under the prefix.
function(_trellis_installed_dir dir out)
  if(IS_ABSOLUTE "${dir}")
    set(${out} "${dir}" PARENT_SCOPE)
  else()
    set(${out} "${_prefix}/${dir}" PARENT_SCOPE)
  endif()
endfunction()

cmake_path(SET _prefix NORMALIZE "${CMAKE_INSTALL_PREFIX}")
string(REGEX REPLACE "(.)/$" "\\1" _prefix "${_prefix}")

# /etc is not under /usr: with the /usr prefix of a distribution package the
# configuration goes to the absolute /etc/trellis; any other prefix (a local
# build, /usr/local, /opt/trellis) keeps it inside the prefix.
if(_prefix STREQUAL "/usr")
  set(_config_dir "/etc/trellis")
else()
  _trellis_installed_dir("${TRELLIS_SYSCONFDIR}/trellis" _config_dir)
endif()
_trellis_installed_dir("${TRELLIS_BINDIR}" _bin_dir)
_trellis_installed_dir("${TRELLIS_DATAROOTDIR}/doc/trellis" _doc_dir)
_trellis_installed_dir("${TRELLIS_PLUGIN_DIR}" _plugin_dir)

# The files in packaging/ are written for the /usr prefix and are valid as
# they are (systemd-analyze verify); the installed copies get these paths.
# Staged in the build tree under a name of their own per destination, so
# that installs running at the same time (CPack and a --prefix install) do
# not write over each other's copy.
string(MD5 _key "$ENV{DESTDIR}|${_prefix}")
set(_staged "${TRELLIS_PACKAGING_BINARY_DIR}/installed/${_key}")
file(READ "${TRELLIS_PACKAGING_SOURCE_DIR}/trellis.service" _unit)
string(REPLACE "/usr/bin/trellis" "${_bin_dir}/trellis" _unit "${_unit}")
string(REPLACE "/etc/trellis/" "${_config_dir}/" _unit "${_unit}")
string(REPLACE "file:///usr/share/doc/trellis/" "file://${_doc_dir}/" _unit "${_unit}")
file(WRITE "${_staged}/trellis.service" "${_unit}")

file(READ "${TRELLIS_PACKAGING_SOURCE_DIR}/trellis.yaml" _yaml)
string(REPLACE "/usr/lib/trellis/plugins" "${_plugin_dir}" _yaml "${_yaml}")
string(REPLACE "/etc/trellis/" "${_config_dir}/" _yaml "${_yaml}")
file(WRITE "${_staged}/trellis.yaml" "${_yaml}")

# file(INSTALL) puts $DESTDIR in front (CPack stages the packages that way)
# and records the files in install_manifest.txt.
file(INSTALL "${_staged}/trellis.service" DESTINATION "${_prefix}/lib/systemd/system")
file(INSTALL "${_staged}/trellis.yaml" DESTINATION "${_config_dir}")
# conf.d/*.yaml beside trellis.yaml: empty, for the operator's additions.
message(STATUS "Installing: $ENV{DESTDIR}${_config_dir}/conf.d")
file(MAKE_DIRECTORY "$ENV{DESTDIR}${_config_dir}/conf.d")
file(REMOVE_RECURSE "${_staged}")
