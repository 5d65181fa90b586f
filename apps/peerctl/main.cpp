#include "cli/common.hpp"

int main(int argc, char** argv) { return pc::cli::runPeerctl(argc, argv); }
