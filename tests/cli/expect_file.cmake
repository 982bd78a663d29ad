# SPDX-License-Identifier: GPL-2.0-only
# Removes FRESH (a directory) so the command starts without it, as on a fresh clone; runs CMD
# (a ;-list); checks its exit code is EXIT, its combined output matches REGEX, and that FILE
# exists afterwards (when FILE is set). With TOKEN_REPLAY set (the diosim binary and scenario),
# FILE holds a schedule token: its length must be the one the output printed, and replaying it
# must pass.
file(REMOVE_RECURSE ${FRESH})
include(${CMAKE_CURRENT_LIST_DIR}/../expect_exit.cmake) # runs CMD, checks EXIT and REGEX; sets `all`
if(DEFINED FILE AND NOT EXISTS ${FILE})
  message(FATAL_ERROR "${FILE} was not written:\n${all}")
endif()
if(DEFINED TOKEN_REPLAY)
  file(READ ${FILE} token)
  string(STRIP "${token}" token)
  string(LENGTH "${token}" length)
  if(NOT all MATCHES "\\(${length} chars, fnv1a [0-9a-f]+;")
    message(FATAL_ERROR "the token file holds ${length} characters; the output says otherwise:\n${all}")
  endif()
  execute_process(COMMAND ${TOKEN_REPLAY} --schedule ${token} -q RESULT_VARIABLE rc2 OUTPUT_VARIABLE out2
                  ERROR_VARIABLE err2)
  if(NOT rc2 EQUAL 0 OR NOT out2 MATCHES "PASS: .*replayed schedule")
    message(FATAL_ERROR "replaying the written token: exit ${rc2}\n${out2}${err2}")
  endif()
endif()
