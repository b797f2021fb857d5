# Hash-to-curve: the line driver the @noble/curves differential test (tests/js/h2c_diff.test.mjs)
# talks to.
add_executable(h2c_driver ${CMAKE_SOURCE_DIR}/tests/tools/h2c_driver.c)
target_compile_options(h2c_driver PRIVATE -Wall -Wextra -Werror)
target_link_libraries(h2c_driver PRIVATE tkms_testsupport)

# The generated isogeny/SSWU constants must match the RFC 9380 excerpt they are derived from; the
# generator re-checks them numerically (random E' points must map onto E) on every run.
find_program(PYTHON3_EXE python3)
if(PYTHON3_EXE)
  add_test(NAME h2c_consts_fresh COMMAND ${PYTHON3_EXE} ${CMAKE_SOURCE_DIR}/tools/gen_h2c_consts.py --check)
endif()
