# Runs the ember CLI and checks its exit status and output (used by ctest; see tests/CMakeLists.txt).
#   cmake -DEMBER=path/to/ember -DARGS="info|-m|FILE" -DEXPECT_RC=1
#         [-DEXPECT_STDERR=substring] [-DEXPECT_STDOUT=substring] -P check_cli.cmake
# ARGS is '|'-separated. The exit status must be exactly EXPECT_RC: a crash (signal) never passes.
# SHELL_ARGS (instead of ARGS) is a shell-quoted argument string, for arguments a CMake list
# cannot carry, such as an empty one.
if(DEFINED SHELL_ARGS)
  execute_process(COMMAND sh -c "exec \"${EMBER}\" ${SHELL_ARGS}"
    RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
else()
  string(REPLACE "|" ";" _args "${ARGS}")
  execute_process(COMMAND "${EMBER}" ${_args}
    RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
endif()
if(NOT "${_rc}" STREQUAL "${EXPECT_RC}")
  message(FATAL_ERROR "exit status '${_rc}', expected ${EXPECT_RC}\nstdout:\n${_out}\nstderr:\n${_err}")
endif()
if(DEFINED EXPECT_STDERR)
  string(FIND "${_err}" "${EXPECT_STDERR}" _at)
  if(_at EQUAL -1)
    message(FATAL_ERROR "stderr lacks '${EXPECT_STDERR}':\n${_err}")
  endif()
  if(EXPECT_RC STREQUAL "1" AND NOT _err MATCHES "^error: ")
    message(FATAL_ERROR "stderr does not start with 'error: ':\n${_err}")
  endif()
endif()
if(DEFINED EXPECT_STDOUT)
  string(FIND "${_out}" "${EXPECT_STDOUT}" _at)
  if(_at EQUAL -1)
    message(FATAL_ERROR "stdout lacks '${EXPECT_STDOUT}':\n${_out}")
  endif()
endif()
