# `ember quantize IN OUT TYPE` must succeed, print its size summary, and write exactly REFERENCE
# (a file the reference llama-quantize made from IN). Used by ctest (see tests/CMakeLists.txt).
#   cmake -DEMBER=path/to/ember -DIN=in.gguf -DOUT=out.gguf -DTYPE=Q4_K_M -DREFERENCE=ref.gguf -P check_quantize.cmake
execute_process(COMMAND "${EMBER}" quantize "${IN}" "${OUT}" "${TYPE}" -t 2
  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
if(NOT _rc STREQUAL "0")
  message(FATAL_ERROR "ember quantize exited with '${_rc}'\nstdout:\n${_out}\nstderr:\n${_err}")
endif()
if(NOT _err MATCHES "size [0-9.]+ MiB -> [0-9.]+ MiB")
  message(FATAL_ERROR "no size summary on stderr:\n${_err}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${OUT}" "${REFERENCE}" RESULT_VARIABLE _same)
file(REMOVE "${OUT}")
if(NOT _same EQUAL 0)
  message(FATAL_ERROR "${OUT} differs from the reference ${REFERENCE}")
endif()
