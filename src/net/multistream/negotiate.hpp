#pragma once
/// multistream-select 1.0 over any ByteStream. Every exchange here takes several reads and
/// writes: cancelling one leaves the stream mid-negotiation, so each is cancel-safe only by
/// resetting the stream (the host's negotiation deadline does exactly that).
#include <string>
#include <vector>

#include "net/stream.hpp"

namespace pc::net::multistream {

/// Dialer: proposes `protocols` in order (the header and the first proposal go out in one
/// write, as js-libp2p and go-libp2p do) and returns the one the listener accepted.
/// Errors: kNegotiationFailed when every proposal got "na", kProtocolError, kTooLarge.
Task<std::string> selectOne(ByteStream& s, const std::vector<std::string>& protocols);

/// Optimistic dialer, for a single protocol: appends the header and the proposal to `out` so the
/// caller can send them together with the protocol's first bytes ...
void encodeProposal(std::string_view protocol, Bytes& out);
/// ... and later reads the listener's header and its answer. Errors: kNegotiationFailed ("na").
Task<void> readConfirmation(ByteStream& s, std::string_view protocol);

/// Listener: answers proposals until one is in `supported`, then returns it. Unsupported ones
/// get "na"; more than kMaxProposals is kNegotiationFailed.
Task<std::string> handle(ByteStream& s, const std::vector<std::string>& supported);

}  // namespace pc::net::multistream
