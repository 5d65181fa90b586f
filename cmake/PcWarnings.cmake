# Warnings as an INTERFACE target: every project target links pc_warnings.
add_library(pc_warnings INTERFACE)
target_compile_options(pc_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow
  -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough
  -Wformat=2)
if(PC_WERROR)
  target_compile_options(pc_warnings INTERFACE -Werror)
endif()
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  # GCC 12 at -O2 reports every Asio coroutine frame as freed by a "mismatched" operator delete:
  # Asio's awaitable_frame_base pairs its own operator new and delete (a thread-local frame
  # recycler), which GCC 12 cannot see through (a false positive, fixed in GCC 13). Exactly that
  # warning is turned off; every other one stays.
  target_compile_options(pc_warnings INTERFACE -Wno-mismatched-new-delete)
endif()
