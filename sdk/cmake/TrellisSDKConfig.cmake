# find_package(TrellisSDK [1.<minor>]) for third-party plugins.
#
#   Trellis::sdk       <trellis/abi.h>, <trellis/plugin.hpp> (header-only)
#   Trellis::testing   <trellis/testing.hpp>, the in-process test client
#   Trellis::trellis   the host executable, when the host is installed too
#   trellis_add_plugin(), trellis_add_plugin_test()
#
# The package's version is the plugin ABI's (TRELLIS_ABI_MAJOR.MINOR): a
# request for 1.1 is met by an SDK of ABI 1.1 or any later 1.x.
include(CMakeFindDependencyMacro)
find_dependency(nlohmann_json)
include("${CMAKE_CURRENT_LIST_DIR}/TrellisSDKTargets.cmake")
# The host ships in another package (trellis, beside trellis-dev).
include("${CMAKE_CURRENT_LIST_DIR}/TrellisHostTargets.cmake" OPTIONAL)
include("${CMAKE_CURRENT_LIST_DIR}/TrellisPlugin.cmake")
