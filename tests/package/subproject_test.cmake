# Proves lockmesh behaves as a subproject: configures tests/package/subproject, which pulls
# lockmesh in with add_subdirectory, and checks from compile_commands.json that
#   - only lockmesh's libraries are built (no tests, simulator, tools, benchmarks, fuzz),
#   - the embedder's own file is compiled as C++20 without asking (cxx_std_20 is carried),
#   - neither lockmesh's files nor the embedder's get -Werror, and the embedder's file gets
#     none of lockmesh's warning flags;
# and from the generated install script that lockmesh adds no install rules. Run by ctest as
#
#   cmake -DSOURCE_DIR=... -DWORK_DIR=... -DGENERATOR=... -DMAKE_PROGRAM=...
#         -DC_COMPILER=... -DCXX_COMPILER=... -P subproject_test.cmake
foreach(var SOURCE_DIR WORK_DIR GENERATOR C_COMPILER CXX_COMPILER)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "subproject_test.cmake: -D${var}=... is required")
  endif()
endforeach()

set(build ${WORK_DIR}/subproject-build)
file(REMOVE_RECURSE ${build})
set(make_program)
if(MAKE_PROGRAM)
  set(make_program -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM})
endif()
execute_process(
  COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/package/subproject -B ${build}
          -G ${GENERATOR} ${make_program}
          -DCMAKE_C_COMPILER=${C_COMPILER} -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
          -DLOCKMESH_SOURCE_DIR=${SOURCE_DIR}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
message("${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configure failed (${rc})")
endif()

file(READ ${build}/compile_commands.json commands)
string(JSON count LENGTH "${commands}")
math(EXPR last "${count} - 1")
set(problems)
set(lockmesh_files 0)
set(embedder_seen FALSE)
foreach(i RANGE ${last})
  string(JSON file GET "${commands}" ${i} file)
  string(JSON command GET "${commands}" ${i} command)
  file(RELATIVE_PATH rel ${SOURCE_DIR} ${file})
  string(FIND "${file}" "${build}/" generated)
  if(command MATCHES "-Werror")
    list(APPEND problems "${rel} is compiled with -Werror")
  endif()
  if(rel MATCHES "^tests/package/consumer/main.cc$")
    set(embedder_seen TRUE)
    if(NOT command MATCHES "-std=(c|gnu)\\+\\+20")
      list(APPEND problems "the embedder's file is not compiled as C++20: ${command}")
    endif()
    if(command MATCHES "-Wextra")
      list(APPEND problems "lockmesh's warning flags reached the embedder's file")
    endif()
  elseif(rel MATCHES "^lib/" OR generated EQUAL 0)  # lib/wire's generated Cap'n Proto code
    math(EXPR lockmesh_files "${lockmesh_files} + 1")
  else()
    list(APPEND problems "built as a subproject, lockmesh compiles ${rel}")
  endif()
endforeach()
if(NOT embedder_seen)
  list(APPEND problems "the embedder's file is not in compile_commands.json")
endif()
if(lockmesh_files EQUAL 0)
  list(APPEND problems "no file of lockmesh's libraries is compiled")
endif()
file(READ ${build}/lockmesh/cmake_install.cmake install_script)
if(install_script MATCHES "lockmeshTargets|include/lockmesh")
  list(APPEND problems "lockmesh adds install rules to the embedder's install")
endif()

if(problems)
  list(JOIN problems "\n  " text)
  message(FATAL_ERROR "as a subproject:\n  ${text}")
endif()
message(STATUS "as a subproject: ${lockmesh_files} files of lockmesh's libraries, nothing else; "
               "the embedder's file is C++20 with no -Werror; no install rules")
