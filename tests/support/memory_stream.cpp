#include "support/memory_stream.hpp"

#include <cstring>

#include "net/error.hpp"

namespace pc::test {
namespace {

struct Direction {
  explicit Direction(const net::asio::any_io_executor& ex) : readable(ex) {}
  Bytes buf;
  std::size_t start = 0;
  bool eof = false;
  net::Signal readable;
  Tap tap;
};

struct Shared {
  Shared(const net::asio::any_io_executor& ex) : ab(ex), ba(ex) {}
  Direction ab, ba;
  bool reset = false;
};

class End final : public net::ByteStream {
 public:
  End(std::shared_ptr<Shared> s, Direction& in, Direction& out)
      : s_(std::move(s)), in_(in), out_(out) {}
  ~End() override { reset(); }

  net::Task<std::size_t> readSome(std::span<std::uint8_t> buf) override {
    auto keep = s_;
    while (in_.start == in_.buf.size()) {
      if (s_->reset) co_return net::fail(net::Errc::kClosed, "memory pipe reset");
      if (in_.eof) co_return std::size_t{0};
      co_await in_.readable.wait();
    }
    const auto n = std::min(buf.size(), in_.buf.size() - in_.start);
    std::memcpy(buf.data(), in_.buf.data() + in_.start, n);
    in_.start += n;
    if (in_.start == in_.buf.size()) {
      in_.buf.clear();
      in_.start = 0;
    }
    co_return n;
  }

  net::Task<void> write(BytesView data) override {
    if (s_->reset || out_.eof) co_return net::fail(net::Errc::kClosed, "memory pipe closed");
    Bytes chunk(data.begin(), data.end());
    if (out_.tap) out_.tap(chunk);
    append(out_.buf, chunk);
    out_.readable.notify();
    co_return Result<void>{};
  }

  net::Task<void> closeWrite() override {
    out_.eof = true;
    out_.readable.notify();
    co_return Result<void>{};
  }

  void reset() override {
    if (s_->reset) return;
    s_->reset = true;
    in_.readable.notify();
    out_.readable.notify();
  }

 private:
  std::shared_ptr<Shared> s_;
  Direction& in_;
  Direction& out_;
};

}  // namespace

std::pair<std::unique_ptr<net::ByteStream>, std::unique_ptr<net::ByteStream>> memoryPipe(
    const net::asio::any_io_executor& ex, Tap aToB, Tap bToA) {
  auto s = std::make_shared<Shared>(ex);
  s->ab.tap = std::move(aToB);
  s->ba.tap = std::move(bToA);
  auto a = std::make_unique<End>(s, s->ba, s->ab);
  auto b = std::make_unique<End>(s, s->ab, s->ba);
  return {std::move(a), std::move(b)};
}

}  // namespace pc::test
