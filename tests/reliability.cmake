# Issue 7: reliability.  Malformed and hostile inputs through the built
# tools (tests/bad-input/), and identical output from a trace's text and
# binary forms and across reruns.
s2_add_test(test_bad_input test_bad_input.c PkgConfig::GLIB)
add_dependencies(test_bad_input sim trace-conv trace-info)
s2_add_test(test_determinism test_determinism.c PkgConfig::GLIB)
add_dependencies(test_determinism sim trace-conv)
