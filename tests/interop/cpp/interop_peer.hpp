#pragma once
/// What the interop peer's parts share: its test protocols, JSON output and the dial context.
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json.hpp>
#include <iostream>
#include <map>

#include "crypto/hash.hpp"
#include "net/error.hpp"
#include "net/host.hpp"

namespace interop {

using namespace pc;
using namespace pc::net;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

inline constexpr const char* kEcho = "/echo/1.0.0";
inline constexpr const char* kSink = "/sink/1.0.0";
inline constexpr const char* kReset = "/reset/1.0.0";
inline constexpr const char* kHold =
    "/hold/1.0.0";  // benchmark only: keeps the stream open and idle

inline void out(const json::object& o) { std::cout << json::serialize(o) << std::endl; }

inline double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

inline json::array addrsJson(const std::vector<Multiaddr>& as) {
  json::array a;
  for (const auto& m : as) a.emplace_back(m.toString());
  return a;
}

inline Bytes pseudoRandom(std::size_t n, std::uint32_t seed) {
  Bytes b(n);
  std::uint32_t x = seed;
  for (auto& v : b) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    v = static_cast<std::uint8_t>(x);
  }
  return b;
}

struct Ctx {
  std::shared_ptr<Host> host;
  std::shared_ptr<Connection> conn;
  Multiaddr target;
  std::map<std::string, std::string> opts;
  std::int64_t num(const std::string& k, std::int64_t d) const {
    auto it = opts.find(k);
    return it == opts.end() ? d : std::stoll(it->second);
  }
};

/// One echo round trip on a new stream: `payload` out, everything the remote sends back.
asio::awaitable<Result<Bytes>> echoOnce(Ctx& c, Bytes payload);

// The benchmark scenarios (interop_bench.cpp).
asio::awaitable<json::object> scBenchConnect(Ctx& c);
asio::awaitable<json::object> scBenchThroughput(Ctx& c);
asio::awaitable<json::object> scBenchMemory(Ctx& c);

}  // namespace interop
