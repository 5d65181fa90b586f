#include "gateway/http_head.hpp"

#include <algorithm>
#include <cctype>
#include <set>

namespace pc::gateway {
namespace {

/// Header names that describe one hop, never forwarded (RFC 9110 §7.6.1), plus the ones the
/// gateway writes itself. Forwarding a client's Transfer-Encoding or Content-Length as-is is how
/// request smuggling starts, so framing is always re-stated by the gateway. A client's own
/// forwarding fields would let it pose as another address, scheme or port to the deployment
/// (IP allowlists, "secure" cookies, redirects), so none passes. `lname` is lower-cased with
/// '_' as '-': servers behind CGI or WSGI read X_Forwarded_For as X-Forwarded-For.
bool isHopByHop(const std::string& lname) {
  static const std::set<std::string> kNames = {"connection",
                                               "keep-alive",
                                               "proxy-connection",
                                               "te",
                                               "trailer",
                                               "transfer-encoding",
                                               "upgrade",
                                               "content-length",
                                               "proxy-authorization",
                                               "forwarded",
                                               "x-forwarded-for",
                                               "x-forwarded-proto",
                                               "x-forwarded-host",
                                               "x-forwarded-port",
                                               "x-forwarded-prefix",
                                               "x-forwarded-ssl",
                                               "x-forwarded-server",
                                               "x-forwarded-scheme",
                                               "x-real-ip",
                                               "x-client-ip",
                                               "true-client-ip"};
  return kNames.contains(lname);
}

/// An RFC 7239 value: a token when it is one, else a quoted-string (IPv6 addresses in
/// brackets, as §6 asks).
std::string forwardedValue(std::string_view v, bool isAddress) {
  std::string inner(v);
  if (isAddress && v.find(':') != std::string_view::npos) {
    inner = "[" + inner + "]";
  }
  const bool token = !inner.empty() && inner.find_first_not_of(
                                           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                           "0123456789!#$%&'*+-.^_`|~") == std::string::npos;
  if (token) {
    return inner;
  }
  std::string out = "\"";
  for (const char c : inner) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "\"";
}

/// The gateway's own forwarding fields.
void appendForwarding(std::string& head, const Forwarding& fwd) {
  const std::string port = std::to_string(fwd.port);
  head += "X-Forwarded-For: ";
  head += fwd.clientIp;
  head += "\r\nX-Forwarded-Proto: ";
  head += fwd.scheme;
  head += "\r\nX-Forwarded-Host: ";
  head += fwd.host;
  head += "\r\nX-Forwarded-Port: " + port;
  head += "\r\nX-Real-IP: ";
  head += fwd.clientIp;
  head += "\r\nForwarded: for=" + forwardedValue(fwd.clientIp, true) +
          ";proto=" + forwardedValue(fwd.scheme, false) +
          ";host=" + forwardedValue(fwd.host, false) + "\r\n";
}

/// `name` lower-cased with '_' read as '-'.
std::string fieldKey(std::string_view name) {
  std::string out = lowerAscii(name);
  std::replace(out.begin(), out.end(), '_', '-');
  return out;
}

/// Names listed in a Connection header are hop-by-hop too.
std::set<std::string> connectionTokens(std::string_view v) {
  std::set<std::string> out;
  while (!v.empty()) {
    const auto comma = v.find(',');
    out.insert(fieldKey(trimOws(v.substr(0, comma))));
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return out;
}

template <bool isRequest>
void appendFieldsImpl(std::string& out, const http::header<isRequest, http::fields>& h) {
  const auto listed = connectionTokens(h[http::field::connection]);
  for (const auto& f : h) {
    const std::string name = fieldKey(f.name_string());
    if (isHopByHop(name) || listed.contains(name)) continue;
    out.append(f.name_string().data(), f.name_string().size());
    out += ": ";
    out.append(f.value().data(), f.value().size());
    out += "\r\n";
  }
}

}  // namespace

std::string_view trimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

void appendEndToEndFields(std::string& out, const http::request_header<>& h) {
  appendFieldsImpl(out, h);
}
void appendEndToEndFields(std::string& out, const http::response_header<>& h) {
  appendFieldsImpl(out, h);
}

std::string upstreamRequestHead(const http::request_header<>& req, const UpstreamFraming& framing,
                                const Forwarding& fwd) {
  std::string head;
  head.reserve(512);
  head.append(req.method_string().data(), req.method_string().size());
  head += ' ';
  head.append(req.target().data(), req.target().size());
  head += framing.version == 10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n";
  appendEndToEndFields(head, req);
  appendForwarding(head, fwd);
  if (framing.chunked) {
    head += "Transfer-Encoding: chunked\r\n";
  } else if (framing.contentLength) {
    head += "Content-Length: " + std::to_string(*framing.contentLength) + "\r\n";
  }
  if (framing.upgrade) {
    head += "Connection: Upgrade\r\nUpgrade: ";
    head.append(req[http::field::upgrade].data(), req[http::field::upgrade].size());
    head += "\r\n";
  } else {
    head += "Connection: keep-alive\r\n";
  }
  head += "\r\n";
  return head;
}

void normalizeHeaderLineEnds(Bytes& buf, std::size_t limit) {
  // One pass, copying only once a bare LF is seen: inserting in place would shift the rest of
  // the buffer at every line, quadratic in a hostile 64 KiB header of short lines.
  Bytes out;
  bool copying = false;
  std::size_t i = 0;
  for (; i < buf.size(); ++i) {
    if ((copying ? out.size() : i) >= limit) break;
    const std::uint8_t c = buf[i];
    const bool bare = c == '\n' && (i == 0 || buf[i - 1] != '\r');
    if (bare && !copying) {
      out.reserve(buf.size() + 64);
      out.assign(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(i));
      copying = true;
    }
    if (copying) {
      if (bare) out.push_back('\r');
      out.push_back(c);
    }
    if (c != '\n') continue;
    // "\r\n\r\n" ends the header: the body must not be touched.
    const Bytes& v = copying ? out : buf;
    const std::size_t end = copying ? out.size() : i + 1;
    if (end >= 4 && v[end - 4] == '\r' && v[end - 3] == '\n' && v[end - 2] == '\r') {
      ++i;
      break;
    }
  }
  if (!copying) return;
  out.insert(out.end(), buf.begin() + static_cast<std::ptrdiff_t>(i), buf.end());
  buf.swap(out);
}

std::optional<ResponsePlan> planResponse(const http::basic_parser<false>& p,
                                         const http::response_header<>& h, unsigned version,
                                         bool keepAlive) {
  const unsigned status = h.result_int();
  if (status < 100 || status > 599) {
    return std::nullopt;
  }
  ResponsePlan plan;
  plan.keepAlive = keepAlive;
  std::string& out = plan.head;
  out = version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(status) + " ";
  out.append(h.reason().data(), h.reason().size());
  out += "\r\n";
  appendEndToEndFields(out, h);
  plan.informational = status < 200 && status != 101;
  if (status == 101) {
    out += "Connection: Upgrade\r\nUpgrade: ";
    out.append(h[http::field::upgrade].data(), h[http::field::upgrade].size());
    out += "\r\n";
    plan.switched = true;
  } else if (!plan.informational) {
    if (auto cl = p.content_length(); cl && !p.chunked()) {
      out += "Content-Length: " + std::to_string(*cl) + "\r\n";
    } else if (p.chunked() && version == 11) {
      out += "Transfer-Encoding: chunked\r\n";
      plan.chunked = true;
    } else if (!p.is_done() && (p.chunked() || p.need_eof())) {
      plan.closeDelimited = true;  // a 1.0 client gets the body delimited by our close
    }
    plan.upstreamReusable = p.keep_alive();
    plan.keepAlive = keepAlive && !plan.closeDelimited;
    out += plan.keepAlive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  }
  out += "\r\n";
  return plan;
}

}  // namespace pc::gateway
