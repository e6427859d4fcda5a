# Tests of the trace formats, importers and tools (traces/).
s2_add_test(test_trace_binary test_trace_binary.c s2traces)
s2_add_test(test_import test_import.c s2traces PkgConfig::JSONGLIB)
# the ftrace tests replay an import with the built sim
add_dependencies(test_import trace-conv sim)
s2_add_test(test_trace_info test_trace_info.c s2traces)
add_dependencies(test_trace_info trace-info)
