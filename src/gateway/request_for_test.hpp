#pragma once
/// Tests only: a request head parsed by Beast from its text, as the gateway's front parses it.
#include <gtest/gtest.h>

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <string_view>

#include "gateway/http_head.hpp"

namespace pc::gateway {

inline http::request_header<> parseRequest(std::string_view text) {
  http::request_parser<http::empty_body> p;
  p.eager(true);
  boost::system::error_code ec;
  p.put(boost::asio::buffer(text.data(), text.size()), ec);
  EXPECT_FALSE(ec) << ec.message();
  return p.get().base();
}

}  // namespace pc::gateway
