# Warnings as an INTERFACE target: every project target links pc_warnings.
add_library(pc_warnings INTERFACE)
target_compile_options(pc_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow
  -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough
  -Wformat=2)
if(PC_WERROR)
  target_compile_options(pc_warnings INTERFACE -Werror)
endif()
