# File: bench/comparison/external_systems.cmake
#
# The etcd and ZooKeeper systems of the comparison (etcd_*.cc, zookeeper_*.cc) as the static
# library lockmesh_compare_external, and their check against real servers,
# bench_compare_external_check. include()d from bench/CMakeLists.txt:
#
#   include(comparison/external_systems.cmake)
#   target_link_libraries(bench_compare PRIVATE lockmesh_compare_external)
#
# etcd needs no client library (the recipe speaks its gRPC gateway with Boost.Beast).
# ZooKeeper's needs libzookeeper-mt (package libzookeeper-mt-dev); without it the library
# still builds, MakeZooKeeperClients answers FailedPrecondition, and users see
# LOCKMESH_HAVE_ZOOKEEPER=0. Both LOCKMESH_HAVE_ETCD_CLIENT and LOCKMESH_HAVE_ZOOKEEPER are
# public compile definitions (1 or 0).
set(_lockmesh_external_dir ${CMAKE_CURRENT_LIST_DIR})

find_package(Boost 1.74 REQUIRED)
find_package(Threads REQUIRED)
find_path(LOCKMESH_ZOOKEEPER_INCLUDE_DIR zookeeper/zookeeper.h)
find_library(LOCKMESH_ZOOKEEPER_MT_LIBRARY zookeeper_mt)

add_library(lockmesh_compare_external STATIC
  ${_lockmesh_external_dir}/etcd_gateway.cc
  ${_lockmesh_external_dir}/etcd_lock.cc
  ${_lockmesh_external_dir}/etcd_servers.cc
  ${_lockmesh_external_dir}/etcd_zookeeper_process.cc
  ${_lockmesh_external_dir}/zookeeper_lock.cc
  ${_lockmesh_external_dir}/zookeeper_servers.cc)
target_include_directories(lockmesh_compare_external PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(lockmesh_compare_external
  PUBLIC absl::status absl::statusor
  PRIVATE absl::strings Boost::headers Threads::Threads)
target_compile_definitions(lockmesh_compare_external PUBLIC LOCKMESH_HAVE_ETCD_CLIENT=1)
if(LOCKMESH_ZOOKEEPER_INCLUDE_DIR AND LOCKMESH_ZOOKEEPER_MT_LIBRARY)
  message(STATUS "bench comparison: ZooKeeper client ${LOCKMESH_ZOOKEEPER_MT_LIBRARY}")
  target_include_directories(lockmesh_compare_external PRIVATE ${LOCKMESH_ZOOKEEPER_INCLUDE_DIR})
  target_link_libraries(lockmesh_compare_external PRIVATE ${LOCKMESH_ZOOKEEPER_MT_LIBRARY})
  target_compile_definitions(lockmesh_compare_external PUBLIC LOCKMESH_HAVE_ZOOKEEPER=1)
else()
  message(STATUS "bench comparison: libzookeeper-mt not found (package libzookeeper-mt-dev); "
                 "ZooKeeper clients will report it")
  target_compile_definitions(lockmesh_compare_external PUBLIC LOCKMESH_HAVE_ZOOKEEPER=0)
endif()

# The check: starts each system's servers and contends on one lock. Exit 77 (skipped) when
# neither etcd-server nor zookeeperd is installed. Label `external`: it needs those
# packages and a JRE, and takes tens of seconds.
add_executable(bench_compare_external_check ${_lockmesh_external_dir}/etcd_zookeeper_check.cc)
target_link_libraries(bench_compare_external_check PRIVATE lockmesh_compare_external
  lockmesh_bench_support absl::flags absl::flags_parse absl::strings)
add_test(NAME bench_compare_external_check COMMAND bench_compare_external_check)
set_tests_properties(bench_compare_external_check PROPERTIES
  LABELS external SKIP_RETURN_CODE 77 TIMEOUT 600)
