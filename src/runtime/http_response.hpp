#pragma once
/// Transitional: the HTTP response decoder moved to src/http (http/response_decoder.hpp) and the
/// JSON line splitter to runtime/json_lines.hpp. docker.cpp and docker_observe.cpp still include
/// this name; once they include runtime/json_lines.hpp, this file goes.
#include "runtime/json_lines.hpp"
