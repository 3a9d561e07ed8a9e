# Read by cpack for every generator (CPACK_PROJECT_CONFIG_FILE).
if(CPACK_GENERATOR STREQUAL "DEB")
  # Each package's CPACK_DEBIAN_<GROUP>_DESCRIPTION starts with its own
  # summary line; without this CPackDeb would prepend the project's summary.
  unset(CPACK_PACKAGE_DESCRIPTION_SUMMARY)
endif()
