# BLS layer: the JSON-lines driver the noble differential test talks to, the Valgrind
# constant-time test (secrets marked undefined) and a memcheck run of the BLS vector test.
add_executable(bls_driver ${CMAKE_SOURCE_DIR}/tests/tools/bls_driver.c)
target_compile_options(bls_driver PRIVATE -Wall -Wextra -Werror)
target_link_libraries(bls_driver PRIVATE tkms_testsupport)

if(NOT TKMS_SANITIZE AND NOT TKMS_FUZZ)
  find_program(VALGRIND_EXE valgrind)
  include(CheckIncludeFile)
  check_include_file(valgrind/memcheck.h TKMS_HAVE_MEMCHECK_H)
  if(VALGRIND_EXE AND TKMS_HAVE_MEMCHECK_H)
    add_executable(test_ctime_bls ${CMAKE_SOURCE_DIR}/tests/ctime/ctime_bls.c)
    target_compile_options(test_ctime_bls PRIVATE -Wall -Wextra -Werror)
    target_link_libraries(test_ctime_bls PRIVATE tkms_testsupport)
    set(TKMS_VALGRIND ${VALGRIND_EXE} --error-exitcode=1 --track-origins=yes --quiet)
    add_test(NAME test_ctime_bls COMMAND ${TKMS_VALGRIND} $<TARGET_FILE:test_ctime_bls>)
    add_test(NAME valgrind_test_bls_vectors COMMAND ${TKMS_VALGRIND} --leak-check=full $<TARGET_FILE:test_bls_vectors>)
    set_tests_properties(test_ctime_bls valgrind_test_bls_vectors PROPERTIES LABELS valgrind TIMEOUT 1800
      ENVIRONMENT "TKMS_VECTORS=${TKMS_VECTORS}")
  else()
    message(WARNING "valgrind or valgrind/memcheck.h missing: constant-time test not built")
  endif()
endif()
