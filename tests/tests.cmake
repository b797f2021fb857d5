# Every tests/unit/test_*.c is one ctest executable; it gets the vectors folder in TKMS_VECTORS.
file(GLOB TKMS_UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/test_*.c)
file(GLOB TKMS_TEST_SUPPORT CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/support/*.c)
add_library(tkms_testsupport STATIC ${TKMS_TEST_SUPPORT})
target_include_directories(tkms_testsupport PUBLIC ${CMAKE_SOURCE_DIR}/tests/support ${CMAKE_SOURCE_DIR}/src/core ${CMAKE_SOURCE_DIR}/src/wallet ${CMAKE_SOURCE_DIR}/include)
target_link_libraries(tkms_testsupport PUBLIC tkms_core ${TKMS_WALLET_LIB} OpenSSL::Crypto PkgConfig::JANSSON PkgConfig::CMOCKA)

foreach(src ${TKMS_UNIT_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_compile_options(${name} PRIVATE -Wall -Wextra -Werror)
  target_link_libraries(${name} PRIVATE tkms_testsupport)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "TKMS_VECTORS=${TKMS_VECTORS};TKMS_BIN=$<TARGET_FILE:tkms>" TIMEOUT 600)
endforeach()

# Shell/node driven tests: tests/cli/*.sh and tests/js/*.test.mjs
file(GLOB TKMS_SH_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/cli/*.sh)
foreach(src ${TKMS_SH_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_test(NAME cli_${name} COMMAND bash ${src})
  set_tests_properties(cli_${name} PROPERTIES ENVIRONMENT "TKMS_VECTORS=${TKMS_VECTORS};TKMS_BIN=$<TARGET_FILE:tkms>;TKMS_BUILD=${CMAKE_BINARY_DIR}" TIMEOUT 600)
endforeach()

if(NOT TKMS_SANITIZE)
  find_program(NODE_EXE node)
  file(GLOB TKMS_JS_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/js/*.test.mjs)
  foreach(src ${TKMS_JS_TESTS})
    get_filename_component(name ${src} NAME_WE)
    string(REPLACE ".test" "" name ${name})
    add_test(NAME js_${name} COMMAND ${NODE_EXE} ${src})
    set_tests_properties(js_${name} PROPERTIES ENVIRONMENT "TKMS_VECTORS=${TKMS_VECTORS};TKMS_BIN=$<TARGET_FILE:tkms>;TKMS_BUILD=${CMAKE_BINARY_DIR};NODE_PATH=${CMAKE_SOURCE_DIR}/node_modules" TIMEOUT 900)
  endforeach()
endif()

include(${CMAKE_SOURCE_DIR}/tests/bls.cmake)
include(${CMAKE_SOURCE_DIR}/tests/ctime.cmake)
include(${CMAKE_SOURCE_DIR}/tests/h2c.cmake)
include(${CMAKE_SOURCE_DIR}/tests/curve.cmake)
include(${CMAKE_SOURCE_DIR}/tests/tbls.cmake)
include(${CMAKE_SOURCE_DIR}/tests/chain.cmake)

# tests/unit/test_prim.c: the primitives of src/prim
target_link_libraries(test_prim PRIVATE tkms_prim)
# tests/unit/test_proto.c: the TKMS-V1 encodings of src/proto
target_link_libraries(test_proto PRIVATE tkms_proto)

# test_dkg_sim explores 300 random schedules per run. make test pins its seed so that every run
# checks the same schedules (two other seeds fail: docs/dkg.md, "Known failing schedules"); the
# random exploration is bench/sim_soak.sh (a new seed each run, every failure printed with its
# reproducing command).
set_tests_properties(test_dkg_sim PROPERTIES ENVIRONMENT
  "TKMS_VECTORS=${TKMS_VECTORS};TKMS_BIN=$<TARGET_FILE:tkms>;TKMS_TEST_SEED=1")
