#pragma once
/// peergateway: public HTTP(S) ingress for deployments, reached over reverse tunnels that
/// allowlisted providers dial in to. It never runs user code.
#include <string>

#include "gateway/config.hpp"

namespace pc::gateway {

/// Runs until SIGINT/SIGTERM; returns the exit code.
int runGateway(const GatewayConfig& cfg, const std::string& version);

}  // namespace pc::gateway
