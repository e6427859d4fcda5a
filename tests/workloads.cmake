# workloads/gen: the test runs the built gen binary, so build it first.
s2_add_test(test_workloads test_workloads.c s2traces)
add_dependencies(test_workloads gen)
