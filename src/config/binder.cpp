#include "config/binder.hpp"

#include <toml++/toml.h>

#include <CLI/CLI.hpp>
#include <charconv>

#include "core/fs.hpp"
#include "core/units.hpp"

namespace pc::config {
namespace {

constexpr std::size_t kMaxConfigFile = 1 << 20;

Error invalid(std::string message) {
  return Error(make_error_code(Errc::kInvalidArgument), message);
}

/// A TOML scalar as the text a flag would carry: strings as they are, numbers in decimal.
std::optional<std::string> scalarText(const toml::node& n) {
  if (auto s = n.value_exact<std::string>()) return *s;
  if (auto i = n.value_exact<std::int64_t>()) return std::to_string(*i);
  if (auto d = n.value_exact<double>()) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, *d);
    return std::string(buf, r.ptr);
  }
  return std::nullopt;
}

template <class T>
Apply integerOf(T& out, T min, T max) {
  return [&out, min, max](std::string_view text) -> Result<void> {
    T v{};
    const auto* end = text.data() + text.size();
    auto [p, ec] = std::from_chars(text.data(), end, v);
    if (ec != std::errc{} || p != end || v < min || v > max) {
      return invalid("expected an integer " + std::to_string(min) + ".." + std::to_string(max) +
                     ", not '" + std::string(text) + "'");
    }
    out = v;
    return {};
  };
}

}  // namespace

void Binder::text(std::string key, std::string flag, std::string help, std::string& out) {
  value(std::move(key), std::move(flag), std::move(help), [&out](std::string_view t) {
    out = std::string(t);
    return Result<void>{};
  });
}

void Binder::path(std::string key, std::string flag, std::string help, std::filesystem::path& out) {
  value(std::move(key), std::move(flag), std::move(help), [&out](std::string_view t) {
    out = std::filesystem::path(std::string(t));
    return Result<void>{};
  });
}

void Binder::boolean(std::string key, std::string flag, std::string help, bool& out,
                     bool flagValue) {
  Setting s;
  s.key = std::move(key);
  s.flag = std::move(flag);
  s.help = std::move(help);
  s.kind = Kind::kBool;
  s.setBool = [&out](bool v) { out = v; };
  s.flagValue = flagValue;
  settings_.push_back(std::move(s));
}

void Binder::list(std::string key, std::string flag, std::string help,
                  std::vector<std::string>& out) {
  Setting s;
  s.key = std::move(key);
  s.flag = std::move(flag);
  s.help = std::move(help);
  s.kind = Kind::kList;
  s.setList = [&out](std::vector<std::string> v) { out = std::move(v); };
  settings_.push_back(std::move(s));
}

void Binder::value(std::string key, std::string flag, std::string help, Apply apply) {
  Setting s;
  s.key = std::move(key);
  s.flag = std::move(flag);
  s.help = std::move(help);
  s.apply = std::move(apply);
  settings_.push_back(std::move(s));
}

Result<void> Binder::applyNode(const Setting& s, const void* nodePtr,
                               std::string_view where) const {
  const auto& n = *static_cast<const toml::node*>(nodePtr);
  auto bad = [&](std::string_view why) {
    return invalid(std::string(where) + ": " + std::string(why));
  };
  switch (s.kind) {
    case Kind::kBool: {
      auto v = n.value_exact<bool>();
      if (!v) return bad("expected true or false");
      s.setBool(*v);
      return {};
    }
    case Kind::kList: {
      const auto* arr = n.as_array();
      if (arr == nullptr) return bad("expected an array of strings");
      std::vector<std::string> out;
      for (const auto& e : *arr) {
        auto v = e.value_exact<std::string>();
        if (!v) return bad("expected an array of strings");
        out.push_back(*v);
      }
      s.setList(std::move(out));
      return {};
    }
    case Kind::kText:
      break;
  }
  auto text = scalarText(n);
  if (!text) return bad("expected a number or a string");
  if (auto r = s.apply(*text); !r) return bad(r.error().message());
  return {};
}

Result<void> Binder::applyToml(std::string_view text, std::string_view source) const {
  toml::table t;
  try {
    // The packaged toml++ is built with exceptions; a syntax error is turned into a value here.
    t = toml::parse(text, source);
  } catch (const toml::parse_error& err) {
    return invalid(std::string(source) + ":" + std::to_string(err.source().begin.line) + ": " +
                   std::string(err.description()));
  }
  for (const auto& [k, node] : t) {
    const std::string where = std::string(source) + ":" + std::to_string(node.source().begin.line) +
                              ": " + std::string(k.str());
    const Setting* s = nullptr;
    for (const auto& candidate : settings_) {
      if (candidate.key == k.str()) s = &candidate;
    }
    if (s == nullptr) return invalid(where + ": unknown key (the keys are: " + keys() + ")");
    if (auto r = applyNode(*s, &node, where); !r) return r;
  }
  return {};
}

Result<void> Binder::applyTomlFile(const std::filesystem::path& path) const {
  auto text = fs::readConfigFile(path, kMaxConfigFile);
  if (!text) return invalid(text.error().message());
  return applyToml(*text, path.string());
}

void Binder::addFlags(CLI::App& app) {
  for (auto& s : settings_) {
    if (s.flag.empty()) continue;
    CLI::Option* o = nullptr;
    switch (s.kind) {
      case Kind::kBool:
        o = app.add_flag(s.flag, s.flagSet, s.help);
        break;
      case Kind::kList:
        o = app.add_option(s.flag, s.flagList, s.help);
        break;
      case Kind::kText:
        o = app.add_option(s.flag, s.flagText, s.help);
        break;
    }
    s.option = o;
  }
}

Result<void> Binder::applyFlags() const {
  for (const auto& s : settings_) {
    const auto* o = static_cast<const CLI::Option*>(s.option);
    if (o == nullptr || o->count() == 0) continue;  // not given: the file or default stands
    const std::string name = o->get_name();
    switch (s.kind) {
      case Kind::kBool:
        s.setBool(s.flagValue);
        break;
      case Kind::kList:
        s.setList(s.flagList);
        break;
      case Kind::kText:
        if (auto r = s.apply(s.flagText); !r) return invalid(name + ": " + r.error().message());
        break;
    }
  }
  return {};
}

Result<void> Binder::applyLayers(const std::filesystem::path& explicitFile,
                                 const std::function<std::filesystem::path()>& defaultFile) const {
  if (auto r = applyFlags(); !r) return r;
  const auto file = explicitFile.empty() ? defaultFile() : explicitFile;
  if (!explicitFile.empty() || std::filesystem::exists(file)) {
    if (auto r = applyTomlFile(file); !r) return r;
  }
  return applyFlags();
}

std::string Binder::keys() const {
  std::string out;
  for (const auto& s : settings_) out += (out.empty() ? "" : ", ") + s.key;
  return out;
}

Apply integer(std::uint32_t& out, std::uint32_t min, std::uint32_t max) {
  return integerOf(out, min, max);
}

Apply integer(std::uint64_t& out, std::uint64_t min, std::uint64_t max) {
  return integerOf(out, min, max);
}

Apply port(std::uint16_t& out) { return integerOf<std::uint16_t>(out, 0, 65535); }

Apply number(double& out, double min) {
  return [&out, min](std::string_view text) -> Result<void> {
    double v = 0;
    const auto* end = text.data() + text.size();
    auto [p, ec] = std::from_chars(text.data(), end, v);
    if (ec != std::errc{} || p != end || !(v >= min)) {
      return invalid("expected a number ≥ " + std::to_string(static_cast<long long>(min)) +
                     ", not '" + std::string(text) + "'");
    }
    out = v;
    return {};
  };
}

namespace {

/// An Apply that stores what `parse` makes of the text.
template <class T, class Parse>
Apply parsedBy(T& out, Parse parse) {
  return [&out, parse](std::string_view text) -> Result<void> {
    auto v = parse(text);
    if (!v) return v.error();
    out = T(*v);
    return {};
  };
}

}  // namespace

Apply cpuMillis(std::uint32_t& out) { return parsedBy(out, units::parseCpu); }

Apply bytes(std::uint64_t& out) { return parsedBy(out, units::parseBytes); }

Apply seconds(std::chrono::seconds& out) {
  return parsedBy(out, [](std::string_view text) -> Result<std::chrono::seconds> {
    auto v = units::parseDuration(text);
    if (!v) return v.error();
    return std::chrono::duration_cast<std::chrono::seconds>(*v);
  });
}

}  // namespace pc::config
