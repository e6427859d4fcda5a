s2_add_test(test_sim_cli test_sim_cli.c PkgConfig::GLIB PkgConfig::JSONGLIB)
add_dependencies(test_sim_cli sim)
