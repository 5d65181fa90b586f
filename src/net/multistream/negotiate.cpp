#include "net/multistream/negotiate.hpp"

#include <algorithm>

#include "core/varint.hpp"
#include "net/error.hpp"
#include "net/multistream/codec.hpp"

namespace pc::net::multistream {
namespace {

// Reads one message without reading past it (the bytes after it belong to the next layer).
Task<std::string> readMessage(ByteStream& s) {
  auto body = co_await readLengthPrefixed(s, kMaxMessageSize);
  if (!body) {
    co_return Error(body.error().code(), "multistream-select: " + body.error().message());
  }
  Bytes framed;
  varint::encode(body->size(), framed);
  append(framed, *body);
  auto msg = decode(framed);
  if (!msg) co_return msg.error();
  co_return std::move((*msg)->text);
}

}  // namespace

Task<std::string> selectOne(ByteStream& s, const std::vector<std::string>& protocols) {
  if (protocols.empty()) co_return fail(Errc::kNegotiationFailed, "no protocol to propose");
  Bytes out;
  encode(kProtocolId, out);
  bool headerChecked = false;
  for (const auto& proto : protocols) {
    encode(proto, out);
    if (auto w = co_await s.write(out); !w) co_return w.error();
    out.clear();
    if (!headerChecked) {
      auto header = co_await readMessage(s);
      if (!header) co_return header.error();
      if (*header != kProtocolId) {
        co_return fail(Errc::kProtocolError, "remote does not speak " + std::string(kProtocolId) +
                                                 " (said '" + *header + "')");
      }
      headerChecked = true;
    }
    auto reply = co_await readMessage(s);
    if (!reply) co_return reply.error();
    if (*reply == proto) co_return proto;
    if (*reply != kNa) {
      co_return fail(Errc::kProtocolError, "unexpected multistream reply '" + *reply + "'");
    }
  }
  std::string list;
  for (const auto& p : protocols) list += (list.empty() ? "" : ", ") + p;
  co_return fail(Errc::kNegotiationFailed, "remote supports none of: " + list);
}

void encodeProposal(std::string_view protocol, Bytes& out) {
  encode(kProtocolId, out);
  encode(protocol, out);
}

Task<void> readConfirmation(ByteStream& s, std::string_view protocol) {
  auto header = co_await readMessage(s);
  if (!header) co_return header.error();
  if (*header != kProtocolId) {
    co_return fail(Errc::kProtocolError, "remote does not speak " + std::string(kProtocolId) +
                                             " (said '" + *header + "')");
  }
  auto reply = co_await readMessage(s);
  if (!reply) co_return reply.error();
  if (*reply == protocol) co_return Result<void>{};
  if (*reply == kNa)
    co_return fail(Errc::kNegotiationFailed, "remote does not support " + std::string(protocol));
  co_return fail(Errc::kProtocolError, "unexpected multistream reply '" + *reply + "'");
}

Task<std::string> handle(ByteStream& s, const std::vector<std::string>& supported) {
  Bytes out;
  encode(kProtocolId, out);
  if (auto w = co_await s.write(out); !w) co_return w.error();
  auto header = co_await readMessage(s);
  if (!header) co_return header.error();
  if (*header != kProtocolId) {
    co_return fail(Errc::kProtocolError, "remote does not speak " + std::string(kProtocolId));
  }
  for (std::size_t i = 0; i < kMaxProposals; ++i) {
    auto proposal = co_await readMessage(s);
    if (!proposal) co_return proposal.error();
    out.clear();
    if (std::find(supported.begin(), supported.end(), *proposal) != supported.end()) {
      encode(*proposal, out);
      if (auto w = co_await s.write(out); !w) co_return w.error();
      co_return *proposal;
    }
    encode(kNa, out);
    if (auto w = co_await s.write(out); !w) co_return w.error();
  }
  co_return fail(Errc::kNegotiationFailed,
                 "remote proposed " + std::to_string(kMaxProposals) + " unsupported protocols");
}

}  // namespace pc::net::multistream
