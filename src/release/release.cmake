# Key release (issue 7 part 2): app registry, release/sign/app-update handlers (src/release), their
# unit tests and benchmark. Included at the end of the top-level CMakeLists.txt (after the attest,
# dkg and daemon blocks, whose targets it links).
if(NOT TARGET PkgConfig::SQLITE3)
  pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
endif()
if(NOT TARGET PkgConfig::CURL)
  pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
endif()

file(GLOB TKMS_RELEASE_SRC CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/release/*.c)
add_library(tkms_release STATIC ${TKMS_RELEASE_SRC})
target_include_directories(tkms_release PUBLIC ${CMAKE_SOURCE_DIR}/src/release ${CMAKE_SOURCE_DIR}/include
                           PRIVATE ${CMAKE_SOURCE_DIR}/src/core ${CMAKE_SOURCE_DIR}/src/dkg)
target_compile_options(tkms_release PRIVATE ${TKMS_WARN} -fPIC)
target_link_libraries(tkms_release PUBLIC tkms_core tkms_dkg tkms_attest tkms_wallet OpenSSL::Crypto
                      PkgConfig::JANSSON PkgConfig::SQLITE3 PkgConfig::SECP256K1 Threads::Threads)

# tkmsd serves the release routes (src/daemon/release.c).
target_link_libraries(tkmsd PRIVATE tkms_release)

# The CLI's `tkms app` (src/cli/cmd_app.c) posts statements with libcurl.
target_link_libraries(tkms PRIVATE tkms_release PkgConfig::CURL)

# tests/unit/test_release_*.c are created by tests/tests.cmake; give them the release library.
file(GLOB TKMS_RELEASE_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/test_release_*.c)
foreach(src ${TKMS_RELEASE_TESTS})
  get_filename_component(name ${src} NAME_WE)
  if(TARGET ${name})
    target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/src/release ${CMAKE_SOURCE_DIR}/src/dkg)
    target_link_libraries(${name} PRIVATE tkms_release)
  endif()
endforeach()
# test_release_tee gets TDX and SEV-SNP evidence past the verifier under test roots: the verifiers
# come from tkms_attest_testhooks, listed after tkms_release so that its references resolve there
# (tkms_attest, which tkms_release brings, then contributes nothing).
if(TARGET test_release_tee)
  target_include_directories(test_release_tee PRIVATE ${CMAKE_SOURCE_DIR}/src/attest)
  target_link_libraries(test_release_tee PRIVATE tkms_attest_testhooks)
endif()

add_executable(tkms-bench-release ${CMAKE_SOURCE_DIR}/bench/bench_release.c)
target_compile_options(tkms-bench-release PRIVATE ${TKMS_WARN})
target_include_directories(tkms-bench-release PRIVATE ${CMAKE_SOURCE_DIR}/src/release ${CMAKE_SOURCE_DIR}/src/core
                           ${CMAKE_SOURCE_DIR}/src/dkg ${CMAKE_SOURCE_DIR}/src/attest)
target_compile_definitions(tkms-bench-release PRIVATE TKMS_VECTORS_DIR="${TKMS_VECTORS}")
target_link_libraries(tkms-bench-release PRIVATE tkms_release)

# Test tool: fills a stopped node's registry with owner-signed statements (tests/integration).
add_executable(tkms-test-registry-fill ${CMAKE_SOURCE_DIR}/tests/tools/registry_fill.c)
target_compile_options(tkms-test-registry-fill PRIVATE ${TKMS_WARN})
target_link_libraries(tkms-test-registry-fill PRIVATE tkms_release)
