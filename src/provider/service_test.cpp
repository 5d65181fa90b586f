// The provider's handlers and scheduler over real loopback sockets (libp2p hosts on ephemeral
// ports), with the in-memory FakeRuntime standing in for Docker. The same flows run against the
// real engine through the CLI in tests/e2e/provider_e2e.sh.
#include "provider/service_test_fixture.hpp"

namespace pc::provider {
namespace {

TEST_F(ProviderTest, DeployStatusLogsStop) {
  auto msgs = callOk(alice, kDeployProtocol, deployReq(), aliceId);
  ASSERT_GE(msgs.size(), 3U);
  auto* first = std::get_if<protocol::DeployProgress>(&msgs.front());
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->phase, protocol::DeployPhase::kPulling);
  bool sawPercent = false, sawStarting = false;
  for (const auto& m : msgs) {
    if (auto* p = std::get_if<protocol::DeployProgress>(&m)) {
      if (p->percent) sawPercent = true;
      if (p->phase == protocol::DeployPhase::kStarting) sawStarting = true;
    }
  }
  EXPECT_TRUE(sawPercent);
  EXPECT_TRUE(sawStarting);
  auto* resp = std::get_if<protocol::DeployResponse>(&msgs.back());
  ASSERT_NE(resp, nullptr);
  EXPECT_EQ(resp->state, DeploymentState::kRunning);
  EXPECT_TRUE(protocol::isDeploymentId(resp->deploymentId));
  ASSERT_TRUE(resp->url);
  const std::string id = resp->deploymentId;

  // The container got the request's settings under the locked-down spec.
  auto* c = rt.byDeployment(id);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->spec.requesterId, aliceId.peerId().toBase58());
  EXPECT_EQ(c->spec.cpuMillis, 500U);
  EXPECT_EQ(c->spec.memoryBytes, 64U << 20);
  EXPECT_EQ(c->spec.exposedPort, 8080);
  ASSERT_EQ(c->spec.env.size(), 1U);
  EXPECT_EQ(c->spec.env[0].second, "hello");

  msgs = callOk(alice, kStatusProtocol, statusReq(), aliceId);
  ASSERT_EQ(msgs.size(), 1U);
  auto* st = std::get_if<protocol::StatusResponse>(&msgs[0]);
  ASSERT_NE(st, nullptr);
  ASSERT_EQ(st->deployments.size(), 1U);
  EXPECT_EQ(st->deployments[0].state, DeploymentState::kRunning);
  EXPECT_EQ(st->deployments[0].cpuUsageMillicores, 125);
  EXPECT_EQ(st->deployments[0].memoryBytes, 3 << 20);
  EXPECT_EQ(st->deployments[0].netRxBytes, 4096);
  EXPECT_EQ(st->deployments[0].netTxBytes, 512);
  // When the provider took the sample (a client's rates span two samples by their own times).
  ASSERT_TRUE(st->deployments[0].statsAtMs.has_value());
  EXPECT_LE(*st->deployments[0].statsAtMs, protocol::unixMillisNow());
  EXPECT_EQ(st->deployments[0].memoryLimit, 64 << 20);

  rt.emit(id, "hello stdout");
  rt.emit(id, "hello stderr", runtime::LogStream::kStderr);
  msgs = callOk(alice, kLogsProtocol, logsReq(id), aliceId);
  ASSERT_EQ(msgs.size(), 3U);
  auto* l0 = std::get_if<protocol::LogEntry>(&msgs[0]);
  auto* l1 = std::get_if<protocol::LogEntry>(&msgs[1]);
  ASSERT_TRUE(l0 && l1);
  EXPECT_EQ(l0->line, "hello stdout");
  EXPECT_EQ(l1->stream, protocol::LogStream::kStderr);
  EXPECT_NE(std::get_if<protocol::LogsEnd>(&msgs[2]), nullptr);

  msgs = callOk(alice, kStopProtocol, stopReq(id), aliceId);
  ASSERT_EQ(msgs.size(), 1U);
  auto* stopped = std::get_if<protocol::StopResponse>(&msgs[0]);
  ASSERT_NE(stopped, nullptr);
  EXPECT_EQ(stopped->state, DeploymentState::kStopped);
  EXPECT_EQ(rt.byDeployment(id), nullptr) << "the container is removed";
  EXPECT_TRUE(audited("deploy_accepted", aliceId));
  EXPECT_TRUE(audited("stop_accepted", aliceId));
}

TEST_F(ProviderTest, ForgedSignatureIsRefusedAndAudited) {
  Message req = deployReq();
  ASSERT_TRUE(protocol::sign(req, aliceId));
  auto& sig = protocol::requestHeader(req)->signature;
  sig[10] = sig[10] == '0' ? '1' : '0';
  auto bytes = protocol::encodeMessage(req).value();
  auto r = run(io, callRaw(alice, kDeployProtocol, bytes));
  ASSERT_TRUE(r) << r.error().message();
  auto* e = errorOf(*r);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->code, "bad_signature");
  EXPECT_EQ(rt.creates, 0);
  EXPECT_TRUE(audited("bad_signature", aliceId));
}

TEST_F(ProviderTest, RequestInAnotherPeersNameIsRefused) {
  // Bob's connection carries a request validly signed by Alice (e.g. captured from her).
  Message req = deployReq();
  ASSERT_TRUE(protocol::sign(req, aliceId));
  auto r = run(io, callRaw(bob, kDeployProtocol, protocol::encodeMessage(req).value()));
  ASSERT_TRUE(r);
  auto* e = errorOf(*r);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->code, "requester_mismatch");
  EXPECT_EQ(rt.creates, 0);
  EXPECT_TRUE(audited("requester_mismatch", bobId));
}

TEST_F(ProviderTest, ReplayIsRefusedEvenAfterRestart) {
  Message req = stopReq("dep-aaaaaaaaaaaaaaaa");
  ASSERT_TRUE(protocol::sign(req, aliceId));
  const auto bytes = protocol::encodeMessage(req).value();
  auto first = run(io, callRaw(alice, kStopProtocol, bytes));
  ASSERT_TRUE(first);
  ASSERT_NE(errorOf(*first), nullptr);
  EXPECT_EQ(errorOf(*first)->code, "not_found");  // accepted as a request, no such deployment
  auto second = run(io, callRaw(alice, kStopProtocol, bytes));
  ASSERT_TRUE(second);
  ASSERT_NE(errorOf(*second), nullptr);
  EXPECT_EQ(errorOf(*second)->code, "replay");

  alice->close();
  stopProvider();
  startProvider();
  alice = net::Host::create(io.get_executor(), aliceId);
  auto third = run(io, callRaw(alice, kStopProtocol, bytes));
  ASSERT_TRUE(third) << third.error().message();
  ASSERT_NE(errorOf(*third), nullptr);
  EXPECT_EQ(errorOf(*third)->code, "replay");
  EXPECT_TRUE(audited("replay", aliceId));
}

// Issue 14 item 5: a trusted peer sending signed requests as fast as it can is held to its own
// rate (answered rate_limited, with the limit and when to retry) while another peer is served.
TEST_F(ProviderTest, OnePeerOverItsRateIsRefusedAndAnotherIsServed) {
  stopProvider();
  limits = RequestLimits{.perSecond = 0.001, .burst = 3};  // no refill within the test
  startProvider();
  for (int i = 0; i < 3; ++i) {
    auto ok = callOk(alice, kStatusProtocol, statusReq(), aliceId);
    ASSERT_EQ(ok.size(), 1U);
    EXPECT_NE(std::get_if<protocol::StatusResponse>(&ok[0]), nullptr);
  }
  for (int i = 0; i < 5; ++i) {
    auto over = callOk(alice, kStatusProtocol, statusReq(), aliceId);
    ASSERT_NE(errorOf(over), nullptr);
    EXPECT_EQ(errorOf(over)->code, "rate_limited");
    EXPECT_NE(errorOf(over)->message.find("(request_rate, request_burst); retry after"),
              std::string::npos)
        << errorOf(over)->message;
  }
  auto other = callOk(bob, kStatusProtocol, statusReq(), bobId);
  ASSERT_EQ(other.size(), 1U);
  EXPECT_NE(std::get_if<protocol::StatusResponse>(&other[0]), nullptr);
  EXPECT_TRUE(audited("rate_limited", aliceId));
  EXPECT_EQ(replay->size().value(), 4U);  // the refused requests never reached the cache
}

TEST_F(ProviderTest, StaleTimestampIsRefused) {
  auto req = deployReq();
  req.header.timestampMs = protocol::unixMillisNow() - 6 * 60 * 1000;
  auto msgs = callOk(alice, kDeployProtocol, req, aliceId);
  ASSERT_NE(errorOf(msgs), nullptr);
  EXPECT_EQ(errorOf(msgs)->code, "clock_skew");
  req.header = protocol::newRequestHeader(protocol::unixMillisNow() + 6 * 60 * 1000);
  msgs = callOk(alice, kDeployProtocol, req, aliceId);
  ASSERT_NE(errorOf(msgs), nullptr);
  EXPECT_EQ(errorOf(msgs)->code, "clock_skew");
  EXPECT_EQ(rt.creates, 0);
}

TEST_F(ProviderTest, CapacityAndPerPeerQuotaNameTheLimit) {
  ASSERT_FALSE(deployAs(alice, aliceId).empty());
  ASSERT_FALSE(deployAs(alice, aliceId).empty());
  auto msgs = callOk(alice, kDeployProtocol, deployReq(), aliceId);
  ASSERT_NE(errorOf(msgs), nullptr);
  EXPECT_EQ(errorOf(msgs)->code, "over_capacity");
  EXPECT_NE(errorOf(msgs)->message.find("max_per_peer"), std::string::npos)
      << errorOf(msgs)->message;
  ASSERT_FALSE(deployAs(bob, bobId).empty());
  msgs = callOk(bob, kDeployProtocol, deployReq(), bobId);
  ASSERT_NE(errorOf(msgs), nullptr);
  EXPECT_EQ(errorOf(msgs)->code, "over_capacity");
  EXPECT_NE(errorOf(msgs)->message.find("max_deployments"), std::string::npos);
  auto big = deployReq();
  big.memoryBytes = 2LL << 30;
  msgs = callOk(bob, kDeployProtocol, big, bobId);
  ASSERT_NE(errorOf(msgs), nullptr);
  EXPECT_NE(errorOf(msgs)->message.find("max_memory"), std::string::npos);
  EXPECT_EQ(rt.creates, 3);
  EXPECT_TRUE(audited("deploy_refused", bobId));
}

TEST_F(ProviderTest, ImagePolicyIsCheckedBeforeAnyPull) {
  auto req = deployReq();
  req.image = "docker.io/library/nginx:1.25";
  auto msgs = callOk(alice, kDeployProtocol, req, aliceId);
  ASSERT_NE(errorOf(msgs), nullptr);
  EXPECT_EQ(errorOf(msgs)->code, "image_not_allowed");
  EXPECT_EQ(rt.creates, 0);
}

TEST_F(ProviderTest, FailedPullIsReportedAndFreesCapacity) {
  auto req = deployReq();
  req.image = "127.0.0.1:5055/peercompute/missing:1";
  auto msgs = callOk(alice, kDeployProtocol, req, aliceId);
  auto* r = std::get_if<protocol::DeployResponse>(&msgs.back());
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->state, DeploymentState::kFailed);
  ASSERT_TRUE(r->error);
  EXPECT_NE(r->error->find("not found"), std::string::npos);
  // Failed deployments hold no capacity: two more fit under max_per_peer = 2.
  EXPECT_FALSE(deployAs(alice, aliceId).empty());
  EXPECT_FALSE(deployAs(alice, aliceId).empty());
}

TEST_F(ProviderTest, OtherPeersCannotSeeOrStopADeployment) {
  const std::string id = deployAs(alice, aliceId);
  ASSERT_FALSE(id.empty());
  for (auto [proto, req] : {std::pair<std::string_view, Message>{kStopProtocol, stopReq(id, true)},
                            {kStatusProtocol, statusReq(id)},
                            {kLogsProtocol, logsReq(id)}}) {
    auto msgs = callOk(bob, proto, req, bobId);
    ASSERT_NE(errorOf(msgs), nullptr) << proto;
    EXPECT_EQ(errorOf(msgs)->code, "not_found") << proto;
  }
  auto msgs = callOk(bob, kStatusProtocol, statusReq(), bobId);
  ASSERT_EQ(msgs.size(), 1U);
  EXPECT_TRUE(std::get<protocol::StatusResponse>(msgs[0]).deployments.empty());
  ASSERT_NE(rt.byDeployment(id), nullptr);
  EXPECT_EQ(rt.byDeployment(id)->info.state, runtime::ContainerState::kRunning);
  EXPECT_TRUE(audited("stop_refused", bobId));
}

TEST_F(ProviderTest, UntrustedPeerIsRefusedBeforeAnyProtocol) {
  auto r = run(io, call(mallory, kStatusProtocol, statusReq(), &malloryId));
  ASSERT_FALSE(r);
  test::pump(io, 20ms);
  EXPECT_TRUE(audited("connection_refused", malloryId));
}

TEST_F(ProviderTest, MalformedFramesAreRefused) {
  // Unknown type byte.
  Bytes unknown{0x66, 0, 0, 0, 2, '{', '}'};
  auto r = run(io, callRaw(alice, kDeployProtocol, unknown));
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_NE(errorOf(*r), nullptr);
  EXPECT_EQ(errorOf(*r)->code, "bad_request");
  // A length far over the limit is refused from the header alone.
  Bytes huge{0x01, 0x7f, 0xff, 0xff, 0xff};
  r = run(io, callRaw(alice, kDeployProtocol, huge));
  ASSERT_TRUE(r);
  ASSERT_NE(errorOf(*r), nullptr);
  // A request of the wrong type for the protocol.
  Message status = statusReq();
  ASSERT_TRUE(protocol::sign(status, aliceId));
  r = run(io, callRaw(alice, kDeployProtocol, protocol::encodeMessage(status).value()));
  ASSERT_TRUE(r);
  ASSERT_NE(errorOf(*r), nullptr);
  EXPECT_EQ(errorOf(*r)->code, "bad_request");
  EXPECT_TRUE(audited("bad_request", aliceId));
  EXPECT_EQ(rt.creates, 0);
}

TEST_F(ProviderTest, FollowSeesLinesWrittenAfterItBeganAndEndsWithTheContainer) {
  const std::string id = deployAs(alice, aliceId);
  ASSERT_FALSE(id.empty());
  rt.emit(id, "before");
  std::vector<std::string> lines;
  bool ended = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        Message req = logsReq(id, true);
        (void)protocol::sign(req, aliceId);
        auto conn = co_await alice->connect(provAddr);
        const std::vector<std::string> protos{std::string(kLogsProtocol)};
        auto s = co_await alice->newStream(*conn, protos);
        (void)co_await (*s)->write(protocol::encodeMessage(req).value());
        rpc::MessageReader reader(**s);
        while (true) {
          auto m = co_await reader.next();
          if (!m || !*m) break;
          if (auto* e = std::get_if<protocol::LogEntry>(&**m)) lines.push_back(e->line);
          if (std::holds_alternative<protocol::LogsEnd>(**m)) ended = true;
        }
      },
      asio::detached);
  const auto waitFor = [&](auto pred) {
    const auto end = std::chrono::steady_clock::now() + 10s;
    while (!pred() && std::chrono::steady_clock::now() < end) io.run_one_for(10ms);
    return pred();
  };
  ASSERT_TRUE(waitFor([&] { return lines.size() == 1; }));
  rt.emit(id, "after");
  ASSERT_TRUE(waitFor([&] { return lines.size() == 2; }));
  EXPECT_EQ(lines[1], "after");
  rt.exit(id, 3);
  ASSERT_TRUE(waitFor([&] { return ended; }));
}

TEST_F(ProviderTest, ADeathIsLearntFromEventsWithItsExitCode) {
  const std::string id = deployAs(alice, aliceId);
  ASSERT_FALSE(id.empty());
  rt.exit(id, 0, /*oom=*/true);
  test::pump(io, 50ms);
  auto msgs = callOk(alice, kStatusProtocol, statusReq(id), aliceId);
  auto& st = std::get<protocol::StatusResponse>(msgs.at(0)).deployments.at(0);
  EXPECT_EQ(st.state, DeploymentState::kFailed);
  EXPECT_EQ(st.exitCode, 0);
  // The failed container is kept for its logs until the owner stops it.
  ASSERT_NE(rt.byDeployment(id), nullptr);
  msgs = callOk(alice, kStopProtocol, stopReq(id), aliceId);
  EXPECT_EQ(std::get<protocol::StopResponse>(msgs.at(0)).state, DeploymentState::kFailed);
  EXPECT_EQ(rt.byDeployment(id), nullptr);
}

TEST_F(ProviderTest, RestartReadoptsReconcilesAndLeavesNoOrphan) {
  const std::string running = deployAs(alice, aliceId);
  const std::string dies = deployAs(alice, aliceId);
  ASSERT_FALSE(running.empty());
  ASSERT_FALSE(dies.empty());
  alice->close();
  stopProvider();
  // While the provider is down: one container dies, and a deploy was caught half-way (its
  // record says starting and its container exists).
  rt.exit(dies, 42);
  Deployment half;
  half.id = "dep-hhhhhhhhhhhhhhhh";
  half.requester = bobId.peerId().toBase58();
  half.image = kImage;
  half.cpuMillis = 100;
  half.memoryBytes = 16 << 20;
  half.state = DeploymentState::kStarting;
  half.createdAtMs = protocol::unixMillisNow();
  {
    auto s = Store::open(dir.path() / Store::kFileName).value();
    ASSERT_TRUE(s->put(half));
  }
  rt.adopt(half.id, half.requester);
  startProvider();
  alice = net::Host::create(io.get_executor(), aliceId);

  auto msgs = callOk(alice, kStatusProtocol, statusReq(), aliceId);
  std::map<std::string, protocol::DeploymentStatus> byId;
  for (auto& d : std::get<protocol::StatusResponse>(msgs.at(0)).deployments)
    byId[d.deploymentId] = d;
  EXPECT_EQ(byId.at(running).state, DeploymentState::kRunning);
  EXPECT_EQ(byId.at(dies).state, DeploymentState::kFailed);
  EXPECT_EQ(byId.at(dies).exitCode, 42);
  // Status says why it failed, not only that it did.
  ASSERT_TRUE(byId.at(dies).error.has_value());
  EXPECT_NE(byId.at(dies).error->find("42"), std::string::npos) << *byId.at(dies).error;
  EXPECT_FALSE(byId.at(running).error.has_value());
  EXPECT_EQ(rt.byDeployment(half.id), nullptr) << "the interrupted deploy's container is removed";
  auto rec = sched->find(half.requester, half.id);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->state, DeploymentState::kFailed);
  // Still stoppable after the restart.
  msgs = callOk(alice, kStopProtocol, stopReq(running), aliceId);
  EXPECT_EQ(std::get<protocol::StopResponse>(msgs.at(0)).state, DeploymentState::kStopped);
}

TEST_F(ProviderTest, EngineOutageIsSurvived) {
  const std::string id = deployAs(alice, aliceId);
  ASSERT_FALSE(id.empty());
  rt.setDown(true);
  test::pump(io, 50ms);
  auto msgs = callOk(alice, kDeployProtocol, deployReq(), aliceId);
  auto* r = std::get_if<protocol::DeployResponse>(&msgs.back());
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->state, DeploymentState::kFailed);
  // The container died while the engine was away; once it is back the watcher reconciles.
  rt.exit(id, 9);
  rt.setDown(false);
  const auto end = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < end) {
    io.run_one_for(10ms);
    auto d = sched->find(aliceId.peerId().toBase58(), id);
    if (d && d->state == DeploymentState::kFailed) break;
  }
  auto d = sched->find(aliceId.peerId().toBase58(), id);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->state, DeploymentState::kFailed);
  EXPECT_EQ(d->exitCode, 9);
}

TEST_F(ProviderTest, AnEngineRestartDoesNotEndDeployments) {
  // dockerd restarting (without live-restore) SIGTERMs every container: exit 143 while our
  // event stream is down. Those deployments come back running; one that died of something
  // else during the same outage stays failed.
  const std::string stopped = deployAs(alice, aliceId);
  const std::string crashed = deployAs(alice, aliceId);
  ASSERT_FALSE(stopped.empty());
  ASSERT_FALSE(crashed.empty());
  rt.setDown(true);
  test::pump(io, 50ms);
  rt.exit(stopped, 143);
  rt.exit(crashed, 2);
  rt.setDown(false);
  const std::string me = aliceId.peerId().toBase58();
  const auto end = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < end) {
    io.run_one_for(10ms);
    auto a = sched->find(me, stopped);
    auto b = sched->find(me, crashed);
    if (a && b && a->state == DeploymentState::kRunning && b->state == DeploymentState::kFailed)
      break;
  }
  EXPECT_EQ(sched->find(me, stopped)->state, DeploymentState::kRunning);
  EXPECT_EQ(sched->find(me, crashed)->state, DeploymentState::kFailed);
  EXPECT_EQ(sched->find(me, crashed)->exitCode, 2);
  EXPECT_EQ(rt.starts, 1);
  EXPECT_EQ(rt.byDeployment(stopped)->info.state, runtime::ContainerState::kRunning);
}

TEST_F(ProviderTest, StopDuringPullEndsStopped) {
  rt.pullSteps = 200;
  rt.pullStepDelay = 5ms;
  std::string id;
  std::optional<DeploymentState> final;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto msgs = co_await call(alice, kDeployProtocol, deployReq(), &aliceId);
        if (msgs && !msgs->empty()) {
          if (auto* r = std::get_if<protocol::DeployResponse>(&msgs->back())) final = r->state;
        }
      },
      asio::detached);
  const auto end = std::chrono::steady_clock::now() + 10s;
  while (id.empty() && std::chrono::steady_clock::now() < end) {
    io.run_one_for(5ms);
    for (const auto& d : sched->list(aliceId.peerId().toBase58())) id = d.id;
  }
  ASSERT_FALSE(id.empty());
  auto msgs = callOk(alice, kStopProtocol, stopReq(id), aliceId);
  EXPECT_EQ(std::get<protocol::StopResponse>(msgs.at(0)).state, DeploymentState::kStopped);
  while (!final && std::chrono::steady_clock::now() < end) io.run_one_for(5ms);
  EXPECT_EQ(final, DeploymentState::kStopped);
  EXPECT_EQ(rt.creates, 0);
}

}  // namespace
}  // namespace pc::provider
