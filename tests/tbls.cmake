# Threshold BLS / IBE / tlock / seal tests: the service-layer tests link tkms_seal, and the IBE
# driver (one process, JSON lines on stdin/stdout) serves the noble differential test.
foreach(t test_tlock test_seal)
  if(TARGET ${t})
    target_link_libraries(${t} PRIVATE tkms_seal)
  endif()
endforeach()
add_executable(ibe_driver ${CMAKE_SOURCE_DIR}/tests/tools/ibe_driver.c)
target_compile_options(ibe_driver PRIVATE -Wall -Wextra -Werror)
target_link_libraries(ibe_driver PRIVATE tkms_testsupport)
