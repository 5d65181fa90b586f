#include "admin/site.hpp"

#include <spdlog/spdlog.h>

#include "admin/assets.hpp"
#include "admin/exposition.hpp"
#include "admin/listen.hpp"

namespace pc::admin {

namespace {

Response assetResponse(std::string_view name) {
  const auto a = findAsset(name);
  if (!a) {
    return Response{404, "text/plain; charset=utf-8", "not found\n"};
  }
  return Response{200, std::string(a->contentType), std::string(a->body)};
}

}  // namespace

Result<std::shared_ptr<AdminServer>> startSite(const net::asio::any_io_executor& ex,
                                               const AdminSettings& settings, SiteOptions site) {
  auto at = parseListen(settings.listen);
  if (!at) {
    return at.error().context("admin_listen");
  }
  ServerOptions o;
  o.name = site.daemon;
  if (!settings.tokenFile.empty()) {
    auto token = AdminToken::load(settings.tokenFile);
    if (!token) {
      return token.error();
    }
    o.token = std::move(*token);
  }
  const std::string page = site.daemon + ".html";
  o.routes.emplace("/", [page](const Request&) { return assetResponse(page); });
  for (const auto& name : assetNames()) {
    if (name.ends_with(".html")) {
      continue;  // pages are served at / only
    }
    const std::string file(name);
    o.routes.emplace("/assets/" + file, [file](const Request&) { return assetResponse(file); });
  }
  o.routes.emplace("/metrics", [f = std::move(site.metrics)](const Request&) {
    return Response{200, Exposition::kContentType, f()};
  });
  o.routes.emplace("/api/summary", [f = std::move(site.summary)](const Request&) {
    return Response{200, "application/json", f()};
  });
  return AdminServer::start(ex, *at, std::move(o));
}

Result<void> Site::open(const AdminSettings& settings, SiteOptions site) {
  auto server = startSite(ex_, settings, std::move(site));
  if (!server) {
    return server.error();
  }
  server_ = std::move(*server);
  return {};
}

void Site::close() {
  if (server_) {
    server_->close();
  }
  tasks_.cancel();
}

net::asio::awaitable<void> Site::shutdown() {
  close();
  if (server_) {
    co_await server_->shutdown(std::chrono::milliseconds(100));
  }
  co_await tasks_.shutdown(std::chrono::milliseconds(100));
}

std::string describe(const AdminServer& server, bool withToken) {
  const auto ep = server.endpoint();
  const auto a = ep.address();
  const std::string host = a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
  return "Admin listening on http://" + host + ":" + std::to_string(ep.port()) +
         " (/metrics, dashboard at /; " +
         (withToken ? "loopback, or any client with the admin token)" : "loopback clients only)");
}

}  // namespace pc::admin
