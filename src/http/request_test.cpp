#include <gtest/gtest.h>

#include "http/error.hpp"
#include "http/request.hpp"

namespace pc::http {
namespace {

TEST(Request, RendersFieldsInOrderWithALength) {
  Request r;
  r.method = Verb::post;
  r.target = "/v1.41/containers/create?name=x";
  r.fields = {
      {"Host", "docker"}, {"User-Agent", "peercompute"}, {"Content-Type", "application/json"}};
  r.body = "{}";
  auto wire = render(r);
  ASSERT_TRUE(wire) << wire.error().message();
  EXPECT_EQ(*wire,
            "POST /v1.41/containers/create?name=x HTTP/1.1\r\nHost: docker\r\n"
            "User-Agent: peercompute\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
            "\r\n{}");
}

TEST(Request, BodilessGetHasNoLength) {
  Request r;
  r.target = "/_ping";
  r.fields = {{"Host", "docker"}};
  auto wire = render(r);
  ASSERT_TRUE(wire);
  EXPECT_EQ(*wire, "GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n");
}

TEST(Request, LineBreaksInAnyFieldAreRefused) {
  for (const auto& bad :
       {std::string("a\r\nX-Injected: 1"), std::string("a\nb"), std::string("a\0b", 3)}) {
    Request target;
    target.target = "/" + bad;
    Request value;
    value.fields = {{"Host", bad}};
    Request name;
    name.fields = {{bad, "v"}};
    for (const auto* r : {&target, &value, &name}) {
      auto wire = render(*r);
      ASSERT_FALSE(wire);
      EXPECT_EQ(wire.error(), make_error_code(Errc::kInvalidRequest));
    }
  }
}

}  // namespace
}  // namespace pc::http
