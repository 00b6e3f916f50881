# Runs `ember chat-template ...` and compares its stdout byte for byte with a file.
#   cmake -DEMBER=path/to/ember -DARGS="chat-template|--template|T|--context|C" -DEXPECT_FILE=F -P check_render.cmake
# ARGS is '|'-separated. The exit status must be 0 and stderr empty.
string(REPLACE "|" ";" _args "${ARGS}")
execute_process(COMMAND "${EMBER}" ${_args} RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
if(NOT "${_rc}" STREQUAL "0")
  message(FATAL_ERROR "exit status '${_rc}', expected 0\nstderr:\n${_err}")
endif()
if(NOT "${_err}" STREQUAL "")
  message(FATAL_ERROR "unexpected stderr:\n${_err}")
endif()
file(READ "${EXPECT_FILE}" _expected)
if(NOT _out STREQUAL _expected)
  file(WRITE "${CMAKE_CURRENT_BINARY_DIR}/chat_template_actual.txt" "${_out}")
  message(FATAL_ERROR "stdout differs from ${EXPECT_FILE} (written to ${CMAKE_CURRENT_BINARY_DIR}/chat_template_actual.txt)")
endif()
