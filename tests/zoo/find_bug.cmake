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
#
# FALLBACK (to be removed once `diosim explore` lands): when `MUTANT explore --help` fails, the
# binary has no explore command yet, and the search is a seed sweep instead: `run SCENARIO
# --seed S --quiet` for S = 1..BUDGET (explore-mode scenarios draw every scheduling decision from
# the seed). The mutant passes when some seed exits 1; the baseline when every seed exits 0.
# STRATEGY is ignored in the fallback.
foreach(var MUTANT BASELINE SCENARIO STRATEGY BUDGET)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "find_bug.cmake: -D${var}=... is required")
  endif()
endforeach()

execute_process(COMMAND ${MUTANT} explore --help RESULT_VARIABLE help_rc OUTPUT_QUIET ERROR_QUIET)

if(help_rc EQUAL 0)
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
  return()
endif()

# Fallback: seed sweep.
message(STATUS "no 'explore' command in ${MUTANT}: falling back to a seed sweep of seeds 1..${BUDGET}")
set(found 0)
foreach(seed RANGE 1 ${BUDGET})
  execute_process(COMMAND ${MUTANT} run ${SCENARIO} --seed ${seed} --quiet
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 1)
    string(REGEX MATCH "VIOLATION[^\n]*" first "${out}${err}")
    message(STATUS "MUTANT caught at seed ${seed}: ${first}")
    set(found 1)
    break()
  elseif(NOT rc EQUAL 0)
    message(FATAL_ERROR "MUTANT ${MUTANT} run ${SCENARIO} --seed ${seed}: exit ${rc}\n${out}${err}")
  endif()
endforeach()
if(NOT found)
  message(FATAL_ERROR "MUTANT ${MUTANT} not caught by seeds 1..${BUDGET} of ${SCENARIO}")
endif()
foreach(seed RANGE 1 ${BUDGET})
  execute_process(COMMAND ${BASELINE} run ${SCENARIO} --seed ${seed} --quiet
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "BASELINE ${BASELINE} run ${SCENARIO} --seed ${seed}: exit ${rc}, wanted 0\n${out}${err}")
  endif()
endforeach()
message(STATUS "BASELINE clean on seeds 1..${BUDGET}")
