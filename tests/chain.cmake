# tests/chain/*.test.mjs: the contracts (contracts/, docs/chain.md) against a real anvil started by each
# test (exit 77 = skipped when node_modules has no anvil), and the committed build check. Label `chain`.
find_program(NODE_EXE node)
if(NODE_EXE AND NOT TKMS_SANITIZE)
  file(GLOB TKMS_CHAIN_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/chain/*.test.mjs)
  foreach(src ${TKMS_CHAIN_TESTS})
    get_filename_component(name ${src} NAME_WE)
    add_test(NAME chain_${name} COMMAND ${NODE_EXE} ${src})
    set_tests_properties(chain_${name} PROPERTIES LABELS chain SKIP_RETURN_CODE 77 TIMEOUT 300
      ENVIRONMENT "TKMS_BIN=$<TARGET_FILE:tkms>;TKMS_BUILD=${CMAKE_BINARY_DIR}")
  endforeach()
endif()
