# Proves the installed package works: installs the build tree into a fresh prefix, then
# configures, builds and runs tests/package/consumer against it. Run by ctest as
#
#   cmake -DBUILD_DIR=... -DCONSUMER_SOURCE_DIR=... -DWORK_DIR=... -DGENERATOR=...
#         -DMAKE_PROGRAM=... -DC_COMPILER=... -DCXX_COMPILER=... -P consumer_test.cmake
#
# Any failing step fails the test with that step's output.
foreach(var BUILD_DIR CONSUMER_SOURCE_DIR WORK_DIR GENERATOR C_COMPILER CXX_COMPILER)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "consumer_test.cmake: -D${var}=... is required")
  endif()
endforeach()

set(prefix ${WORK_DIR}/prefix)
set(consumer_build ${WORK_DIR}/consumer-build)
file(REMOVE_RECURSE ${prefix} ${consumer_build})

# step(NAME COMMAND...): runs COMMAND, echoing its output; stops the test if it fails.
function(step name)
  message(STATUS "[${name}] ${ARGN}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  message("${out}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "[${name}] failed (${rc})")
  endif()
endfunction()

step(install ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

set(make_program)
if(MAKE_PROGRAM)
  set(make_program -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM})
endif()
step(configure ${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR} -B ${consumer_build}
     -G ${GENERATOR} ${make_program}
     -DCMAKE_C_COMPILER=${C_COMPILER} -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
     -DCMAKE_BUILD_TYPE=Release
     -DCMAKE_PREFIX_PATH=${prefix}
     -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)

# The package must come from the fresh prefix, not from anything else on the search path.
file(STRINGS ${consumer_build}/CMakeCache.txt found REGEX "^lockmesh_DIR:")
string(REGEX REPLACE "^lockmesh_DIR:[A-Z]+=" "" found "${found}")
file(REAL_PATH "${found}" found)
file(REAL_PATH "${prefix}" real_prefix)
string(FIND "${found}" "${real_prefix}/" at)
if(NOT at EQUAL 0)
  message(FATAL_ERROR "lockmesh was found at '${found}', not under '${real_prefix}'")
endif()

step(build ${CMAKE_COMMAND} --build ${consumer_build} -j1)
step(run ${consumer_build}/consumer)
