# Tests of the trace formats, importers and tools (traces/).
s2_add_test(test_trace_binary test_trace_binary.c s2traces)
s2_add_test(test_import test_import.c s2traces PkgConfig::JSONGLIB)
# the ftrace tests replay an import with the built sim
add_dependencies(test_import trace-conv sim)
s2_add_test(test_trace_info test_trace_info.c s2traces)
add_dependencies(test_trace_info trace-info)
# bench/validate --boot on the shipped boot excerpt (issue 10.7): runs
# trace-conv and sim through the Python script, so it needs python3.
find_program(S2SIM_PYTHON3 python3)
if(S2SIM_PYTHON3)
  s2_add_test(test_boot_validate test_boot_validate.c PkgConfig::GLIB)
  add_dependencies(test_boot_validate trace-conv sim)
  set_tests_properties(test_boot_validate PROPERTIES
    ENVIRONMENT "S2SIM_SOURCE_DIR=${CMAKE_SOURCE_DIR};S2SIM_BUILD_DIR=${CMAKE_BINARY_DIR};S2SIM_PYTHON3=${S2SIM_PYTHON3}"
    TIMEOUT 120)
endif()
