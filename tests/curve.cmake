# G1/G2/Fr: the line driver the @noble/curves differential test (tests/js/curve_diff.test.mjs)
# talks to.
add_executable(curve_driver ${CMAKE_SOURCE_DIR}/tests/tools/curve_driver.c)
target_compile_options(curve_driver PRIVATE -Wall -Wextra -Werror)
target_link_libraries(curve_driver PRIVATE tkms_testsupport)
