#include <cstdio>
#include <cstring>

// Placeholder until the peergateway issue lands: prints its version and says so.
int main(int argc, char** argv) {
  if (argc > 1 && (std::strcmp(argv[1], "--version") == 0 || std::strcmp(argv[1], "-V") == 0)) {
    std::printf("peergateway %s\n", PC_VERSION);
    return 0;
  }
  std::printf("peergateway %s: not implemented yet (only --version)\n", PC_VERSION);
  return 2;
}
