s2_add_test(test_model test_model.c s2sim)
s2_add_test(test_engine test_engine.c s2sim)
