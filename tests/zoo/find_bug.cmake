# SPDX-License-Identifier: GPL-2.0-only
# One bug-zoo test: the mutant must be caught and the unmutated port must be clean, on the same
# scenario with the same search budget.
#
#   cmake -DMUTANT=path/to/diosim-zoo-NN-name -DBASELINE=path/to/diosim -DSCENARIO=file.json
#         -DSTRATEGY=dfs|dpor|pct|random -DBUDGET=N -P find_bug.cmake
#
# Rule: `MUTANT explore SCENARIO --strategy STRATEGY --budget BUDGET --quiet` exits 1 (a
# violation found) and `BASELINE explore ...` with the same arguments exits 0 (the explored space
# is clean). Any other exit code fails the test.
cmake_policy(SET CMP0054 NEW) # "MUTANT" below is a string, not a variable
foreach(var MUTANT BASELINE SCENARIO STRATEGY BUDGET)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "find_bug.cmake: -D${var}=... is required")
  endif()
endforeach()

foreach(who MUTANT BASELINE)
  execute_process(COMMAND ${${who}} explore ${SCENARIO} --strategy ${STRATEGY} --budget ${BUDGET} --quiet
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(who STREQUAL "MUTANT")
    set(want 1)
  else()
    set(want 0)
  endif()
  if(NOT rc EQUAL want)
    message(FATAL_ERROR "${who} ${${who}} explore ${SCENARIO} --strategy ${STRATEGY} --budget ${BUDGET}: "
                        "exit ${rc}, wanted ${want}\n${out}${err}")
  endif()
  message(STATUS "${who}: exit ${rc} as wanted\n${out}")
endforeach()
