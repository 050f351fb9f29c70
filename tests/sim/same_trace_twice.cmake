# Runs one swarm seed in two separate processes and requires the same verdict
# line and trace hash: determinism must not depend on addresses, hash seeds or
# anything else that differs between processes.
foreach(run 1 2)
  execute_process(COMMAND ${SIM} seed ${SEED} --quiet OUTPUT_VARIABLE out${run} RESULT_VARIABLE rc${run})
  string(REGEX MATCH "trace [0-9a-f]+" hash${run} "${out${run}}")
endforeach()
if(NOT hash1 OR NOT "${hash1}" STREQUAL "${hash2}")
  message(FATAL_ERROR "seed ${SEED}: '${hash1}' then '${hash2}'")
endif()
message(STATUS "seed ${SEED}: ${hash1} twice")
