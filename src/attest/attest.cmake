# Attestation verifiers (src/attest): TDX, SEV-SNP, Confidential Space, insecure-dev. Included at
# the end of the top-level CMakeLists.txt (after tests/tests.cmake, whose test targets it extends).
# tkms_attest is the production library; tkms_attest_testhooks is the same code built with the
# test-only trust-anchor overrides (src/attest/attest_testhook.h), linked only into tests.
file(GLOB TKMS_ATTEST_SRC CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/attest/*.c)
foreach(lib tkms_attest tkms_attest_testhooks)
  add_library(${lib} STATIC ${TKMS_ATTEST_SRC})
  target_include_directories(${lib} PUBLIC ${CMAKE_SOURCE_DIR}/include PRIVATE ${CMAKE_SOURCE_DIR}/src/attest)
  target_compile_options(${lib} PRIVATE ${TKMS_WARN} -fPIC)
  target_link_libraries(${lib} PUBLIC tkms_proto OpenSSL::Crypto PkgConfig::JANSSON Threads::Threads)
endforeach()
target_compile_definitions(tkms_attest_testhooks PUBLIC TKMS_ATTEST_TEST_HOOKS=1)
target_link_libraries(tkms PRIVATE tkms_attest)

# tests/unit/test_attest_*.c are created by tests/tests.cmake; give them the test-hook library.
file(GLOB TKMS_ATTEST_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/test_attest_*.c)
foreach(src ${TKMS_ATTEST_TESTS})
  get_filename_component(name ${src} NAME_WE)
  if(TARGET ${name})
    target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/src/attest)
    target_link_libraries(${name} PRIVATE tkms_attest_testhooks)
  endif()
endforeach()

add_executable(tkms-bench-attest ${CMAKE_SOURCE_DIR}/bench/bench_attest.c)
target_compile_options(tkms-bench-attest PRIVATE ${TKMS_WARN})
target_include_directories(tkms-bench-attest PRIVATE ${CMAKE_SOURCE_DIR}/src/attest)
target_compile_definitions(tkms-bench-attest PRIVATE TKMS_VECTORS_DIR="${TKMS_VECTORS}")
target_link_libraries(tkms-bench-attest PRIVATE tkms_attest_testhooks)

# The fuzz targets fuzz/fuzz_attest_{tdx,snp,jwt}.c (and their corpus replay tests) link tkms_attest:
# fuzz/fuzz.cmake.
