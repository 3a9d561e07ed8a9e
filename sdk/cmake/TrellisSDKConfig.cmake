# find_package(TrellisSDK) for third-party plugins.
include(CMakeFindDependencyMacro)
find_dependency(nlohmann_json)
include("${CMAKE_CURRENT_LIST_DIR}/TrellisSDKTargets.cmake")
include("${CMAKE_CURRENT_LIST_DIR}/TrellisPlugin.cmake")
