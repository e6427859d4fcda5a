# bench/sweep, bench/plot and plots/: the test runs the scripts, which run
# the built sim and gen, so build those first.
s2_add_test(test_sweep test_sweep.c PkgConfig::GLIB PkgConfig::JSONGLIB)
add_dependencies(test_sweep sim gen)
