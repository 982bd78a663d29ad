# SPDX-License-Identifier: GPL-2.0-only
# Removes FRESH (a directory) so the command starts without it, as on a fresh clone; runs CMD
# (a ;-list); checks its exit code is EXIT, its combined output matches REGEX, and that FILE
# exists afterwards (when FILE is set). With TOKEN_REPLAY set (the diosim binary and scenario),
# FILE holds a schedule token: its length must be the one the output printed, and replaying it
# must pass.
file(REMOVE_RECURSE ${FRESH})
execute_process(COMMAND ${CMD} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(all "${out}${err}")
if(NOT rc STREQUAL EXIT)
  message(FATAL_ERROR "expected exit ${EXIT}, got ${rc}\n${all}")
endif()
if(DEFINED REGEX AND NOT all MATCHES "${REGEX}")
  message(FATAL_ERROR "output does not match /${REGEX}/:\n${all}")
endif()
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
message(STATUS "exit ${rc} as expected:\n${all}")
