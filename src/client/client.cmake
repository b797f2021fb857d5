# libtkms-client (src/client, include/tkms/client.h): the TEE side of key release, the CLI's
# `tkms key` / `tkms exec`, its mock-node tests and benchmark. Included at the end of the top-level
# CMakeLists.txt; it only adds targets and links, replaces nothing.
include(GNUInstallDirs)
if(NOT TARGET PkgConfig::CURL)
  pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
endif()
if(NOT TARGET PkgConfig::MHD)
  pkg_check_modules(MHD REQUIRED IMPORTED_TARGET libmicrohttpd)
endif()

file(GLOB TKMS_CLIENT_SRC CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/client/*.c)
set(TKMS_CLIENT_DEPS tkms_net tkms_dkg tkms_seal tkms_attest tkms_wallet tkms_core PkgConfig::CURL PkgConfig::JANSSON
    OpenSSL::Crypto Threads::Threads)

add_library(tkms_client STATIC ${TKMS_CLIENT_SRC})
target_include_directories(tkms_client PUBLIC ${CMAKE_SOURCE_DIR}/include
  PRIVATE ${CMAKE_SOURCE_DIR}/src/client ${CMAKE_SOURCE_DIR}/src/dkg ${CMAKE_SOURCE_DIR}/src/core ${CMAKE_SOURCE_DIR}/src/seal)
target_compile_options(tkms_client PRIVATE ${TKMS_WARN} -fPIC)
target_link_libraries(tkms_client PUBLIC ${TKMS_CLIENT_DEPS})

# libtkms-client.so: the same code with the libraries it needs linked in; only tkms_client_* exported.
add_library(tkms_client_shared SHARED ${TKMS_CLIENT_SRC})
set_target_properties(tkms_client_shared PROPERTIES OUTPUT_NAME tkms-client VERSION ${PROJECT_VERSION} SOVERSION 0
  C_VISIBILITY_PRESET hidden PUBLIC_HEADER "${CMAKE_SOURCE_DIR}/include/tkms/client.h;${CMAKE_SOURCE_DIR}/include/tkms/common.h")
target_include_directories(tkms_client_shared PUBLIC ${CMAKE_SOURCE_DIR}/include
  PRIVATE ${CMAKE_SOURCE_DIR}/src/client ${CMAKE_SOURCE_DIR}/src/dkg ${CMAKE_SOURCE_DIR}/src/core ${CMAKE_SOURCE_DIR}/src/seal)
target_compile_options(tkms_client_shared PRIVATE ${TKMS_WARN})
target_link_libraries(tkms_client_shared PRIVATE ${TKMS_CLIENT_DEPS})
target_link_options(tkms_client_shared PRIVATE -Wl,--no-undefined -Wl,-z,noexecstack
  -Wl,--version-script=${CMAKE_SOURCE_DIR}/src/client/exports.map)
if(TKMS_FUZZ)
  set_target_properties(tkms_client_shared PROPERTIES EXCLUDE_FROM_ALL ON) # see tkms_shared
endif()

configure_file(${CMAKE_SOURCE_DIR}/src/client/tkms-client.pc.in ${CMAKE_BINARY_DIR}/tkms-client.pc @ONLY)
install(TARGETS tkms_client_shared LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  PUBLIC_HEADER DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tkms)
install(TARGETS tkms_client ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${CMAKE_BINARY_DIR}/tkms-client.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# CLI: tkms key fetch | dev-keygen, tkms exec (src/cli/cmd_key.c); tkms sign uses the collector
# (src/client/collect.h, src/cli/cmd_sign.c)
target_link_libraries(tkms PRIVATE tkms_client)
target_include_directories(tkms PRIVATE ${CMAKE_SOURCE_DIR}/src/client)

# Mock nodes: a library for the C tests and benchmark, a program for the shell tests.
add_library(tkms_mock_node STATIC ${CMAKE_SOURCE_DIR}/tests/tools/mock_node.c)
target_include_directories(tkms_mock_node PUBLIC ${CMAKE_SOURCE_DIR}/tests/tools
  PRIVATE ${CMAKE_SOURCE_DIR}/src/dkg ${CMAKE_SOURCE_DIR}/src/core)
target_compile_options(tkms_mock_node PRIVATE ${TKMS_WARN})
target_link_libraries(tkms_mock_node PUBLIC tkms_release tkms_dkg tkms_attest tkms_core PkgConfig::MHD PkgConfig::JANSSON
  OpenSSL::Crypto Threads::Threads)
add_executable(tkms-mock-node ${CMAKE_SOURCE_DIR}/tests/tools/mock_node.c)
target_compile_definitions(tkms-mock-node PRIVATE MOCK_NODE_MAIN=1)
target_include_directories(tkms-mock-node PRIVATE ${CMAKE_SOURCE_DIR}/tests/tools ${CMAKE_SOURCE_DIR}/src/dkg ${CMAKE_SOURCE_DIR}/src/core)
target_compile_options(tkms-mock-node PRIVATE ${TKMS_WARN})
target_link_libraries(tkms-mock-node PRIVATE tkms_release tkms_dkg tkms_attest tkms_core PkgConfig::MHD PkgConfig::JANSSON
  OpenSSL::Crypto Threads::Threads)

# tests/unit/test_client_*.c are created by tests/tests.cmake; give them the client and the mocks.
file(GLOB TKMS_CLIENT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/test_client_*.c)
foreach(src ${TKMS_CLIENT_TESTS})
  get_filename_component(name ${src} NAME_WE)
  if(TARGET ${name})
    target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/src/dkg ${CMAKE_SOURCE_DIR}/src/seal ${CMAKE_SOURCE_DIR}/src/client)
    target_link_libraries(${name} PRIVATE tkms_client tkms_mock_node)
    set_tests_properties(${name} PROPERTIES LABELS client TIMEOUT 300)
  endif()
endforeach()
foreach(name cli_client_cli cli_client_exec)
  if(TEST ${name})
    set_tests_properties(${name} PROPERTIES ENVIRONMENT
      "TKMS_VECTORS=${TKMS_VECTORS};TKMS_BIN=$<TARGET_FILE:tkms>;TKMS_BUILD=${CMAKE_BINARY_DIR};TKMS_MOCK_NODE=$<TARGET_FILE:tkms-mock-node>")
  endif()
endforeach()

add_executable(tkms-bench-client ${CMAKE_SOURCE_DIR}/bench/bench_client.c)
target_include_directories(tkms-bench-client PRIVATE ${CMAKE_SOURCE_DIR}/src/dkg ${CMAKE_SOURCE_DIR}/src/core)
target_compile_options(tkms-bench-client PRIVATE ${TKMS_WARN})
target_link_libraries(tkms-bench-client PRIVATE tkms_client tkms_mock_node)
