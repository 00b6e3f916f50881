# check_cli.cmake for a command that needs a Vulkan device: without one (as `ember devices`
# reports) the test fails saying so, unless EMBER_ALLOW_NO_VULKAN=1, when it prints
# EMBER_VULKAN_TEST_SKIPPED (ctest's SKIP_REGULAR_EXPRESSION) with the reason instead.
#   cmake -DEMBER=... -DARGS=... -DEXPECT_RC=... [-DEXPECT_STDOUT/STDERR=...] -DCHECK_CLI=check_cli.cmake -P vulkan_cli.cmake
execute_process(COMMAND "${EMBER}" devices OUTPUT_VARIABLE _devices ERROR_VARIABLE _devices_err RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0 OR _devices MATCHES "vulkan: no devices" OR NOT _devices MATCHES "vulkan: [0-9]+ device")
  string(REGEX MATCH "vulkan: [^\n]*" _why "${_devices}")
  if("$ENV{EMBER_ALLOW_NO_VULKAN}" STREQUAL "1")
    message("EMBER_VULKAN_TEST_SKIPPED (EMBER_ALLOW_NO_VULKAN=1): ${_why}")
    return()
  endif()
  message(FATAL_ERROR "no Vulkan device: ${_why}${_devices_err} (set EMBER_ALLOW_NO_VULKAN=1 to skip the Vulkan tests)")
endif()
include(${CHECK_CLI})
