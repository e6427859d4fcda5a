# bench/validate's quick subset (tests/test_validate.c): runs gen and sim
# through the Python script, so it needs both built and python3 on PATH.
find_program(S2SIM_PYTHON3 python3)
if(S2SIM_PYTHON3)
  add_executable(test_validate test_validate.c)
  target_link_libraries(test_validate PRIVATE PkgConfig::GLIB)
  add_dependencies(test_validate gen sim)
  add_test(NAME test_validate COMMAND test_validate)
  set_tests_properties(test_validate PROPERTIES
    ENVIRONMENT "S2SIM_SOURCE_DIR=${CMAKE_SOURCE_DIR};S2SIM_BUILD_DIR=${CMAKE_BINARY_DIR};S2SIM_PYTHON3=${S2SIM_PYTHON3}"
    TIMEOUT 120)
else()
  message(STATUS "python3 not found: test_validate not built (scripts/setup installs it)")
endif()
