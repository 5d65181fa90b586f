#include "provider/public_urls.hpp"

#include <gtest/gtest.h>

namespace pc::provider {
namespace {

using Urls = std::vector<std::string>;

TEST(PublicUrls, GatewaysOfOneDomainGiveOneUrl) {
  PublicUrls book(2);
  EXPECT_TRUE(book.urls("dep-a").empty());
  EXPECT_EQ(book.set("dep-a", 1, "https://dep-a.example.org/"), Urls{"https://dep-a.example.org/"});
  // The other gateway of the domain answers the same URL: nothing changes.
  EXPECT_EQ(book.set("dep-a", 0, "https://dep-a.example.org/"), std::nullopt);
  EXPECT_EQ(book.urls("dep-a"), Urls{"https://dep-a.example.org/"});
  // The same answer after a reconnect changes nothing either.
  EXPECT_EQ(book.set("dep-a", 1, "https://dep-a.example.org/"), std::nullopt);
}

TEST(PublicUrls, DifferentDomainsAreListedInGatewayOrder) {
  PublicUrls book(3);
  // The second gateway answers first; the first gateway's URL leads once it answers.
  EXPECT_EQ(book.set("dep-a", 1, "https://dep-a.b.example/"), Urls{"https://dep-a.b.example/"});
  EXPECT_EQ(book.set("dep-a", 0, "https://dep-a.a.example/"),
            (Urls{"https://dep-a.a.example/", "https://dep-a.b.example/"}));
  EXPECT_EQ(book.set("dep-a", 2, "https://dep-a.a.example/"), std::nullopt);
  // A gateway that now answers another URL (its domain changed) replaces its own answer.
  EXPECT_EQ(book.set("dep-a", 1, "https://dep-a.c.example/"),
            (Urls{"https://dep-a.a.example/", "https://dep-a.c.example/"}));
  EXPECT_EQ(book.set("dep-b", 2, "https://dep-b.a.example/"), Urls{"https://dep-b.a.example/"});
  EXPECT_EQ(book.size(), 2U);
}

TEST(PublicUrls, ForgetAndOutOfRange) {
  PublicUrls book(1);
  EXPECT_EQ(book.set("dep-a", 1, "https://x/"), std::nullopt);  // no gateway 1
  EXPECT_EQ(book.size(), 0U);
  ASSERT_TRUE(book.set("dep-a", 0, "https://x/"));
  book.forget("dep-a");
  EXPECT_EQ(book.size(), 0U);
  EXPECT_TRUE(book.urls("dep-a").empty());
  // After forgetting, the same answer counts as new (the deployment runs again).
  EXPECT_EQ(book.set("dep-a", 0, "https://x/"), Urls{"https://x/"});
}

}  // namespace
}  // namespace pc::provider
