# Fuzz targets: every fuzz/fuzz_*.c defines LLVMFuzzerTestOneInput; seed corpora in
# fuzz/corpus/<target>/ (tools/gen_fuzz_corpus.py). Included from the top-level CMakeLists.txt after
# the libraries exist.
# - TKMS_FUZZ=ON (clang; `make fuzz`): libFuzzer executables with ASan+UBSan, all built by the
#   target fuzz_targets; scripts/fuzz.sh runs them.
# - otherwise: replay_<target> = the same source + fuzz/replay_main.c, built with the normal compiler
#   (no libFuzzer; ASan+UBSan in the sanitizer build), and a ctest fuzz_replay_<target> that feeds
#   it the committed corpus, so that the corpora guard every `make test` against regressions.
file(GLOB TKMS_FUZZ_SRC CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/fuzz/fuzz_*.c)

# The libraries a fuzz target needs besides the core.
function(tkms_fuzz_link target name)
  target_include_directories(${target} PRIVATE ${CMAKE_SOURCE_DIR}/src/core)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror)
  if(name MATCHES "^fuzz_(tlock_decrypt|unseal|b64)$")
    target_link_libraries(${target} PRIVATE tkms_seal)
  endif()
  if(name MATCHES "^fuzz_(dkg_receive|dkg_restore|group_parse)$")
    target_link_libraries(${target} PRIVATE tkms_dkg)
  endif()
  if(name MATCHES "^fuzz_attest_")
    target_link_libraries(${target} PRIVATE tkms_attest)
  endif()
  if(name MATCHES "^fuzz_(bip32_parse|datafile)$")
    target_link_libraries(${target} PRIVATE tkms_wallet)
  endif()
  if(name MATCHES "^fuzz_(app_statement|release_request)$")
    target_link_libraries(${target} PRIVATE tkms_release)
  endif()
  if(name STREQUAL "fuzz_node_config")
    target_link_libraries(${target} PRIVATE tkms_node)
  endif()
  # committee proposals: the daemon's group-file checks (one source file) over the node library
  if(name STREQUAL "fuzz_committee_proposal")
    target_sources(${target} PRIVATE ${CMAKE_SOURCE_DIR}/src/daemon/gfile.c)
    target_include_directories(${target} PRIVATE ${CMAKE_SOURCE_DIR}/src/daemon)
    target_compile_definitions(${target} PRIVATE
      TKMS_FUZZ_GROUP_FILE="${CMAKE_SOURCE_DIR}/fuzz/corpus/fuzz_group_parse/g1.json")
    target_link_libraries(${target} PRIVATE tkms_node)
  endif()
  # the daemon's HTTP request parser is self-contained (sans I/O): its one source file is enough
  if(name STREQUAL "fuzz_http_parse")
    target_sources(${target} PRIVATE ${CMAKE_SOURCE_DIR}/src/daemon/http_parse.c)
    target_include_directories(${target} PRIVATE ${CMAKE_SOURCE_DIR}/src/daemon)
  endif()
  target_link_libraries(${target} PRIVATE tkms_core)
endfunction()

if(TKMS_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "TKMS_FUZZ needs clang (cmake -DCMAKE_C_COMPILER=clang)")
  endif()
  add_custom_target(fuzz_targets)
  foreach(src ${TKMS_FUZZ_SRC})
    get_filename_component(name ${src} NAME_WE)
    add_executable(${name} ${src})
    tkms_fuzz_link(${name} ${name})
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    add_dependencies(fuzz_targets ${name})
  endforeach()
else()
  foreach(src ${TKMS_FUZZ_SRC})
    get_filename_component(name ${src} NAME_WE)
    add_executable(replay_${name} ${src} ${CMAKE_SOURCE_DIR}/fuzz/replay_main.c)
    tkms_fuzz_link(replay_${name} ${name})
    add_test(NAME fuzz_replay_${name} COMMAND replay_${name} ${CMAKE_SOURCE_DIR}/fuzz/corpus/${name})
    set_tests_properties(fuzz_replay_${name} PROPERTIES LABELS fuzz TIMEOUT 300
      ENVIRONMENT "TKMS_FUZZ_TDX_BUNDLE=${TKMS_VECTORS}/attestation/dcapqvl_tdx_quote_collateral.json")
  endforeach()
endif()

# Seed generator for the binary corpora (fuzz_datafile, fuzz_dkg_restore): not built by default;
# `cmake --build build --target tkms-gen-fuzz-seeds && build/tkms-gen-fuzz-seeds fuzz/corpus`.
if(NOT TKMS_FUZZ)
  add_executable(tkms-gen-fuzz-seeds EXCLUDE_FROM_ALL ${CMAKE_SOURCE_DIR}/tools/gen_fuzz_seeds.c)
  target_compile_options(tkms-gen-fuzz-seeds PRIVATE -Wall -Wextra -Werror)
  target_link_libraries(tkms-gen-fuzz-seeds PRIVATE tkms_dkg tkms_wallet)
endif()
