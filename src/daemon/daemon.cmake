# tkmsd (operator node daemon) and libtkms_node (shared by the daemon and the CLI). Included from the
# top-level CMakeLists.txt after the tkms target exists; adds to it, replaces nothing.
if(NOT TARGET PkgConfig::CURL)
  pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
endif()
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
pkg_check_modules(ARGON2 REQUIRED IMPORTED_TARGET libargon2)

file(GLOB TKMS_NODE_SRC CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/node/*.c)
add_library(tkms_node STATIC ${TKMS_NODE_SRC})
target_include_directories(tkms_node PUBLIC ${CMAKE_SOURCE_DIR}/src/node ${CMAKE_SOURCE_DIR}/src/core ${CMAKE_SOURCE_DIR}/include)
target_compile_options(tkms_node PRIVATE ${TKMS_WARN})
target_link_libraries(tkms_node PUBLIC tkms_core OpenSSL::Crypto PkgConfig::JANSSON PkgConfig::SQLITE3
                      PkgConfig::ARGON2 PkgConfig::CURL Threads::Threads)
# The DKG/reshare engine (tkms_dkg, defined in the top-level CMakeLists.txt).
target_link_libraries(tkms_node PUBLIC tkms_dkg)

file(GLOB TKMS_DAEMON_SRC CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/daemon/*.c)
add_executable(tkmsd ${TKMS_DAEMON_SRC})
target_include_directories(tkmsd PRIVATE ${CMAKE_SOURCE_DIR}/src/daemon)
target_compile_options(tkmsd PRIVATE ${TKMS_WARN})
target_link_libraries(tkmsd PRIVATE tkms_node tkms_net)
target_compile_definitions(tkmsd PRIVATE TKMS_VERSION="${PROJECT_VERSION}")

# The CLI's node, cluster, committee and sign commands use the node library and libcurl.
target_link_libraries(tkms PRIVATE tkms_node)
add_dependencies(tkms tkmsd)

# Integration tests: real daemons on 127.0.0.1 ports.
file(GLOB TKMS_INTEG_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/integration/*.sh)
# Tests named security_*.sh (docs/security.md) are labelled security as well.
foreach(src ${TKMS_INTEG_TESTS})
  get_filename_component(name ${src} NAME_WE)
  set(labels integration)
  if(name MATCHES "^security_")
    set(labels "integration;security")
  endif()
  add_test(NAME integ_${name} COMMAND bash ${src})
  # chaos_*: long fault-injection runs (release build only, see the Makefile); exit 77 = skipped
  # (a test that cannot set up its environment, e.g. mount a tmpfs)
  set(timeout 300)
  if(name MATCHES "^chaos")
    list(APPEND labels chaos)
    set(timeout 420)
  endif()
  # the longest timing runs: release build only (the ASan pass of make test skips label slow)
  if(name MATCHES "^(skew|repair|reshare|security_registry|security_early_bundles|security_slowloris)$")
    list(APPEND labels slow)
  endif()
  set_tests_properties(integ_${name} PROPERTIES LABELS "${labels}" RUN_SERIAL TRUE TIMEOUT ${timeout} SKIP_RETURN_CODE 77
    ENVIRONMENT "TKMS_BIN=$<TARGET_FILE:tkms>;TKMSD_BIN=$<TARGET_FILE:tkmsd>;TKMS_BUILD=${CMAKE_BINARY_DIR}")
endforeach()

# Test tool: a member flooding a peer with signed bundles (tests/integration/security_*.sh).
add_executable(tkms-test-peer-flood ${CMAKE_SOURCE_DIR}/tests/tools/peer_flood.c)
target_compile_options(tkms-test-peer-flood PRIVATE ${TKMS_WARN})
target_link_libraries(tkms-test-peer-flood PRIVATE tkms_node)

# Test tool: one envelope signed with a node's key, at a chosen time or with a flipped signature bit.
add_executable(tkms-test-envelope-sign ${CMAKE_SOURCE_DIR}/tests/tools/envelope_sign.c)
target_compile_options(tkms-test-envelope-sign PRIVATE ${TKMS_WARN})
target_link_libraries(tkms-test-envelope-sign PRIVATE tkms_node)

# Unit tests of the node library.
add_executable(test_node_store ${CMAKE_SOURCE_DIR}/tests/node/test_node_store.c)
target_compile_options(test_node_store PRIVATE ${TKMS_WARN})
target_link_libraries(test_node_store PRIVATE tkms_node tkms_testsupport PkgConfig::CMOCKA)
add_test(NAME test_node_store COMMAND test_node_store)

# Unit test of the daemon's early-bundle buffer (src/daemon/early.c and what it calls).
add_executable(test_early ${CMAKE_SOURCE_DIR}/tests/node/test_early.c ${CMAKE_SOURCE_DIR}/src/daemon/early.c
               ${CMAKE_SOURCE_DIR}/src/daemon/gfile.c ${CMAKE_SOURCE_DIR}/src/daemon/plan.c
               ${CMAKE_SOURCE_DIR}/src/daemon/metrics.c)
target_include_directories(test_early PRIVATE ${CMAKE_SOURCE_DIR}/src/daemon)
target_compile_options(test_early PRIVATE ${TKMS_WARN})
target_link_libraries(test_early PRIVATE tkms_node tkms_release PkgConfig::CMOCKA)
add_test(NAME test_early COMMAND test_early)

# Unit tests of the daemon's strict HTTP request parser (sans I/O, no library needed).
add_executable(test_http_parse ${CMAKE_SOURCE_DIR}/tests/daemon/test_http_parse.c ${CMAKE_SOURCE_DIR}/src/daemon/http_parse.c)
target_include_directories(test_http_parse PRIVATE ${CMAKE_SOURCE_DIR}/src/daemon)
target_compile_options(test_http_parse PRIVATE ${TKMS_WARN})
target_link_libraries(test_http_parse PRIVATE PkgConfig::CMOCKA)
add_test(NAME test_http_parse COMMAND test_http_parse)

# Test tool: a forged next-epoch group file (a made-up committee that certifies itself).
add_executable(tkms-test-forge-group ${CMAKE_SOURCE_DIR}/tests/tools/forge_group.c)
target_compile_options(tkms-test-forge-group PRIVATE ${TKMS_WARN})
target_link_libraries(tkms-test-forge-group PRIVATE tkms_dkg tkms_prim OpenSSL::Crypto)
