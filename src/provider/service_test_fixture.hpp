#pragma once
// The ProviderTest fixture: the provider's handlers and scheduler over real loopback sockets
// (libp2p hosts on ephemeral ports), with the in-memory FakeRuntime standing in for Docker.
// Shared by service_test.cpp and service_pull_test.cpp.
#include "provider/service.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <fstream>

#include "protocol/signing.hpp"
#include "protocol/sqlite_replay_cache.hpp"
#include "provider/config.hpp"
#include "rpc/message_stream.hpp"
#include "support/fake_runtime.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"

namespace pc::provider {

using namespace std::chrono_literals;
namespace asio = net::asio;
using protocol::DeploymentState;
using protocol::Message;
using test::run;

constexpr const char* kImage = "127.0.0.1:5055/peercompute/busybox:test";

class ProviderTest : public ::testing::Test {
 protected:
  asio::io_context io{1};
  /// The io_context never runs out of work between steps (a restart may leave nothing pending).
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  test::TempDir dir;
  crypto::Identity provId = crypto::Identity::generate().value();
  crypto::Identity aliceId = crypto::Identity::generate().value();
  crypto::Identity bobId = crypto::Identity::generate().value();
  crypto::Identity malloryId = crypto::Identity::generate().value();
  test::FakeRuntime rt{io.get_executor()};
  std::unique_ptr<Store> store;
  std::unique_ptr<protocol::SqliteReplayCache> replay;
  std::unique_ptr<AuditLog> audit;
  std::unique_ptr<Scheduler> sched;
  std::shared_ptr<Service> svc;
  std::shared_ptr<net::Host> prov, alice, bob, mallory;
  net::Multiaddr provAddr;
  RequestLimits limits;  ///< the service's request rate (restart the provider after a change)

  void SetUp() override {
    rt.images = {kImage};
    startProvider();
    alice = net::Host::create(io.get_executor(), aliceId);
    bob = net::Host::create(io.get_executor(), bobId);
    mallory = net::Host::create(io.get_executor(), malloryId);
  }

  void startProvider() {
    store = Store::open(dir.path() / Store::kFileName).value();
    replay = protocol::SqliteReplayCache::open(dir.path() / Store::kFileName).value();
    audit = AuditLog::open(dir.path() / AuditLog::kFileName).value();
    ProviderConfig cfg;
    cfg.allowedRegistries = {"127.0.0.1:5055"};
    cfg.maxDeployments = 3;
    cfg.maxPerPeer = 2;
    cfg.maxCpuMillis = 4000;
    cfg.maxMemoryBytes = 1ULL << 30;
    sched = std::make_unique<Scheduler>(io.get_executor(), rt, *store,
                                        runtime::Policy::create(cfg.policy()).value());
    ASSERT_TRUE(sched->load());
    svc = std::make_shared<Service>(*sched, *audit, *replay, limits);
    prov = net::Host::create(io.get_executor(), provId);
    const auto alicePeer = aliceId.peerId();
    const auto bobPeer = bobId.peerId();
    prov->setGater([=](const crypto::PeerId& p) { return p == alicePeer || p == bobPeer; });
    prov->onReject(
        [this](const std::optional<crypto::PeerId>& p, const net::Multiaddr& remote,
               const std::string& why) { svc->connectionRefused(p, remote.toString(), why); });
    svc->install(*prov);
    provAddr = prov->listen(net::Multiaddr::parse("/ip4/127.0.0.1/tcp/0").value())
                   .value()
                   .withPeerId(provId.peerId());
    sched->start();
    test::pump(io, 20ms);  // first reconciliation
  }

  static asio::awaitable<bool> shutDown(Service& svc, Scheduler& s) {
    co_await svc.shutdown(std::chrono::milliseconds(1000));
    co_await s.shutdown(std::chrono::milliseconds(1000));
    co_return true;
  }

  /// What the daemon does: stop admitting and end the scheduler's tasks, close the host, then
  /// wait until every task of the handlers and of the scheduler has ended.
  void stopProvider() {
    sched->shutdown();
    prov->close();
    test::pump(io, 20ms);
    run(io, shutDown(*svc, *sched));
    svc.reset();
    sched.reset();
    audit.reset();
    replay.reset();
    store.reset();
  }

  void TearDown() override {
    for (auto& h : {alice, bob, mallory}) h->close();
    if (sched) stopProvider();
    test::pump(io, 20ms);
  }

  /// Sends `req` (signed by `signer` unless `sign` is false) on a new stream from `h` and
  /// collects every message until the provider closes the stream.
  asio::awaitable<Result<std::vector<Message>>> call(std::shared_ptr<net::Host> h,
                                                     std::string_view proto, Message req,
                                                     const crypto::Identity* signer) {
    if (signer != nullptr) {
      if (auto r = protocol::sign(req, *signer); !r) co_return r.error();
    }
    auto bytes = protocol::encodeMessage(req);
    if (!bytes) co_return bytes.error();
    co_return co_await callRaw(h, proto, *bytes);
  }

  asio::awaitable<Result<std::vector<Message>>> callRaw(std::shared_ptr<net::Host> h,
                                                        std::string_view proto, Bytes bytes) {
    auto conn = co_await h->connect(provAddr);
    if (!conn) co_return conn.error();
    const std::vector<std::string> protos{std::string(proto)};
    auto s = co_await h->newStream(*conn, protos);
    if (!s) co_return s.error();
    if (auto w = co_await (*s)->write(bytes); !w) co_return w.error();
    rpc::MessageReader reader(**s);
    std::vector<Message> out;
    while (true) {
      auto m = co_await reader.next();
      if (!m) co_return m.error();
      if (!*m) break;
      out.push_back(std::move(**m));
    }
    co_return out;
  }

  std::vector<Message> callOk(std::shared_ptr<net::Host> h, std::string_view proto, Message req,
                              const crypto::Identity& signer) {
    auto r = run(io, call(h, proto, std::move(req), &signer));
    EXPECT_TRUE(r) << r.error().message();
    return r ? *r : std::vector<Message>{};
  }

  static protocol::DeployRequest deployReq(std::optional<std::uint16_t> port = 8080) {
    protocol::DeployRequest d;
    d.header = protocol::newRequestHeader(protocol::unixMillisNow());
    d.image = kImage;
    d.cpuMillicores = 500;
    d.memoryBytes = 64 << 20;
    d.exposePort = port;
    d.env = {{"GREETING", "hello"}};
    d.timeoutSeconds = 60;
    return d;
  }
  static protocol::StopRequest stopReq(const std::string& id, bool force = false) {
    return {protocol::newRequestHeader(protocol::unixMillisNow()), id, force};
  }
  static protocol::StatusRequest statusReq(std::optional<std::string> id = std::nullopt) {
    return {protocol::newRequestHeader(protocol::unixMillisNow()), std::move(id)};
  }
  static protocol::LogsRequest logsReq(const std::string& id, bool follow = false) {
    protocol::LogsRequest l;
    l.header = protocol::newRequestHeader(protocol::unixMillisNow());
    l.deploymentId = id;
    l.follow = follow;
    return l;
  }

  /// Deploys as `who` and returns the deployment id (empty on failure).
  std::string deployAs(std::shared_ptr<net::Host> h, const crypto::Identity& who) {
    auto msgs = callOk(h, kDeployProtocol, deployReq(), who);
    if (msgs.empty()) return "";
    auto* r = std::get_if<protocol::DeployResponse>(&msgs.back());
    if (r == nullptr || r->state != DeploymentState::kRunning) return "";
    return r->deploymentId;
  }

  static const protocol::ErrorMessage* errorOf(const std::vector<Message>& msgs) {
    return msgs.size() == 1 ? std::get_if<protocol::ErrorMessage>(&msgs[0]) : nullptr;
  }

  std::vector<boost::json::object> auditRecords() {
    std::vector<boost::json::object> out;
    std::ifstream in(dir.path() / AuditLog::kFileName);
    std::string line;
    while (std::getline(in, line)) out.push_back(boost::json::parse(line).as_object());
    return out;
  }
  bool audited(std::string_view event, const crypto::Identity& who) {
    for (const auto& r : auditRecords()) {
      if (r.at("event").as_string() == event && r.at("peer").as_string() == who.peerId().toBase58())
        return true;
    }
    return false;
  }
};

}  // namespace pc::provider
