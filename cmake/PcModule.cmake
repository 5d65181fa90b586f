# pc_add_module(NAME SOURCES ... DEPS ... TESTS ...)
#   One static library per module (pc_<NAME>); includes start at src/.
#   Without SOURCES the module is an umbrella: an INTERFACE library that links its DEPS (pc_net
#   over pc_net_core, pc_net_yamux, ...), so dependents name one target.
#   TESTS are *_test.cpp files beside the code, built into pc_<NAME>_tests and registered with ctest.
function(pc_add_module NAME)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS;TESTS;TEST_DEPS" ${ARGN})
  if(M_SOURCES)
    add_library(pc_${NAME} STATIC ${M_SOURCES})
    target_include_directories(pc_${NAME} PUBLIC ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(pc_${NAME} PUBLIC ${M_DEPS} PRIVATE pc_warnings)
  else()
    add_library(pc_${NAME} INTERFACE)
    target_include_directories(pc_${NAME} INTERFACE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(pc_${NAME} INTERFACE ${M_DEPS})
  endif()
  if(PC_TESTS AND M_TESTS AND NOT PC_FUZZ)
    add_executable(pc_${NAME}_tests ${M_TESTS})
    target_link_libraries(pc_${NAME}_tests PRIVATE pc_${NAME} ${M_TEST_DEPS} pc_test_support pc_test_main)
    target_include_directories(pc_${NAME}_tests PRIVATE ${PROJECT_SOURCE_DIR}/tests)
    # Tests use the base warning set: gtest/rapidcheck macros trip the stricter conversion ones.
    target_compile_options(pc_${NAME}_tests PRIVATE -Wall -Wextra $<$<BOOL:${PC_WERROR}>:-Werror>)
    add_test(NAME ${NAME} COMMAND pc_${NAME}_tests --gtest_brief=1)
    set_tests_properties(${NAME} PROPERTIES LABELS "unit" ENVIRONMENT "RC_PARAMS=max_success=300")
  endif()
endfunction()

# pc_add_fuzz(NAME SOURCE DEPS ...)
#   With PC_FUZZ (fuzz-only build) or PC_LIBFUZZER (the asan build: unit tests and fuzzers from
#   one compilation): a libFuzzer binary fuzz_<NAME>.
#   Without: the same entry point linked with a replay driver and registered as a ctest that feeds
#   every file of tests/fuzz/corpus/<NAME> (seeds and kept crash reproducers) through it.
function(pc_add_fuzz NAME SOURCE)
  cmake_parse_arguments(F "" "" "DEPS" ${ARGN})
  if(NOT PC_TESTS)
    return()
  endif()
  add_executable(fuzz_${NAME} ${SOURCE})
  target_link_libraries(fuzz_${NAME} PRIVATE ${F_DEPS} pc_warnings)
  set(corpus ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/${NAME})
  if(PC_FUZZ OR PC_LIBFUZZER)
    target_compile_options(fuzz_${NAME} PRIVATE -fsanitize=fuzzer)
    target_link_options(fuzz_${NAME} PRIVATE -fsanitize=fuzzer)
    if(PC_LIBFUZZER)
      # The libFuzzer binary replays the corpus once (-runs=0) as a regression test.
      add_test(NAME fuzz_replay_${NAME} COMMAND fuzz_${NAME} -runs=0 ${corpus})
      set_tests_properties(fuzz_replay_${NAME} PROPERTIES LABELS "fuzz-replay")
    endif()
  else()
    target_link_libraries(fuzz_${NAME} PRIVATE pc_fuzz_replay)
    add_test(NAME fuzz_replay_${NAME} COMMAND fuzz_${NAME} ${corpus})
    set_tests_properties(fuzz_replay_${NAME} PROPERTIES LABELS "fuzz-replay")
  endif()
endfunction()

# pc_assert_not_linked(TARGET OTHER ...)
#   Fails the configure step when TARGET links any OTHER, directly or through its dependencies:
#   a layering rule of the module graph (the Noise stage does not know yamux) is checked, not hoped.
#   Call it after the targets involved are defined.
function(pc_assert_not_linked TARGET)
  set(seen "")
  set(todo ${TARGET})
  while(todo)
    list(POP_FRONT todo t)
    if(t IN_LIST seen OR NOT TARGET ${t})
      continue()
    endif()
    list(APPEND seen ${t})
    get_target_property(deps ${t} INTERFACE_LINK_LIBRARIES)
    if(deps)
      list(APPEND todo ${deps})
    endif()
  endwhile()
  foreach(other ${ARGN})
    if(other IN_LIST seen AND NOT other STREQUAL TARGET)
      message(FATAL_ERROR "${TARGET} must not link ${other} (module layering)")
    endif()
  endforeach()
endfunction()
