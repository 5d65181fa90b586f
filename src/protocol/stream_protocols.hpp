#pragma once
/// The libp2p protocol ids of Peer Compute (DESIGN.md "Peer Compute protocols").
#include <string_view>

namespace pc::protocol {

inline constexpr std::string_view kDeployProtocol = "/peercompute/deploy/1.0.0";
inline constexpr std::string_view kStopProtocol = "/peercompute/stop/1.0.0";
inline constexpr std::string_view kStatusProtocol = "/peercompute/status/1.0.0";
inline constexpr std::string_view kLogsProtocol = "/peercompute/logs/1.0.0";
inline constexpr std::string_view kTunnelProtocol = "/peercompute/tunnel/1.0.0";
inline constexpr std::string_view kProxyProtocol = "/peercompute/proxy/1.0.0";

}  // namespace pc::protocol
