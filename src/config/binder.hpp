#pragma once
/// One table of settings per daemon, read from a TOML file and from command-line flags.
///
/// Each setting is declared once — TOML key, flag, help text and how a value is applied — and
/// the binder does the rest: defaults (the target's value before anything is applied), then the
/// file, then the flags that were given, each later source overriding the earlier one key by
/// key. A flag that was not given changes nothing, so no `-1` or `""` sentinel stands for
/// "unset". Every error says where the value came from: `file:line: key: why` or `--flag: why`.
/// Unknown keys are errors (a typo must not silently leave a limit at its default).
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace CLI {
class App;
}

namespace pc::config {

/// Applies one value given as text (a flag's argument, a TOML string, or a TOML number written
/// out in decimal). Errors: a sentence saying what is wrong with the value (the binder adds
/// where it came from).
using Apply = std::function<Result<void>(std::string_view text)>;

class Binder {
 public:
  /// A string value.
  void text(std::string key, std::string flag, std::string help, std::string& out);
  /// A path.
  void path(std::string key, std::string flag, std::string help, std::filesystem::path& out);
  /// A boolean: `key = true|false` in the file; the flag (no argument) sets `flagValue`
  /// (`--stop-on-exit` sets true, `--no-mdns` sets false).
  void boolean(std::string key, std::string flag, std::string help, bool& out, bool flagValue);
  /// A list of strings: an array in the file, a repeatable flag.
  void list(std::string key, std::string flag, std::string help, std::vector<std::string>& out);
  /// Any other value (numbers, sizes, durations, CPU amounts): a TOML integer, float or string,
  /// or a flag's text, handed to `apply`.
  void value(std::string key, std::string flag, std::string help, Apply apply);

  /// Applies TOML `text` read from `source` (named in errors).
  Result<void> applyToml(std::string_view text, std::string_view source) const;
  /// Applies the TOML file at `path` (at most 1 MiB).
  Result<void> applyTomlFile(const std::filesystem::path& path) const;
  /// Declares every setting that has a flag on `app`; the values are kept until applyFlags().
  void addFlags(CLI::App& app);
  /// Applies the flags given on the command line (after `app` parsed them).
  Result<void> applyFlags() const;
  /// The daemons' order of sources: the flags (so that `--data-dir` is known), then the file —
  /// `explicitFile` when not empty (it must exist), else `defaultFile()` when it exists — then
  /// the flags again, over the file.
  Result<void> applyLayers(const std::filesystem::path& explicitFile,
                           const std::function<std::filesystem::path()>& defaultFile) const;
  /// The TOML keys, comma-separated (for help texts).
  [[nodiscard]] std::string keys() const;

 private:
  enum class Kind { kText, kBool, kList };
  struct Setting {
    std::string key;
    std::string flag;
    std::string help;
    Kind kind = Kind::kText;
    Apply apply;                                            ///< kText
    std::function<void(bool)> setBool;                      ///< kBool
    bool flagValue = true;                                  ///< kBool: what the flag sets
    std::function<void(std::vector<std::string>)> setList;  ///< kList
    // Filled by the command-line parser.
    std::string flagText;
    std::vector<std::string> flagList;
    bool flagSet = false;
    const void* option = nullptr;  ///< the CLI::Option, to ask whether it was given
  };
  Result<void> applyNode(const Setting& s, const void* node, std::string_view where) const;
  std::deque<Setting> settings_;  ///< a deque: the parser keeps pointers into the entries
};

/// Builders of `Apply` for common value kinds. Each checks its range and names it on error.
Apply integer(std::uint32_t& out, std::uint32_t min, std::uint32_t max);
Apply integer(std::uint64_t& out, std::uint64_t min, std::uint64_t max);
Apply port(std::uint16_t& out);
Apply number(double& out, double min);
/// A CPU amount in millicores from the forms `peerctl deploy --cpu` reads: "2" or "0.5" cores,
/// "500m" millicores.
Apply cpuMillis(std::uint32_t& out);
/// A size with a unit ("4G", "256M", "512").
Apply bytes(std::uint64_t& out);
/// A duration ("10s", "5m", "1h"; a bare number is seconds).
Apply seconds(std::chrono::seconds& out);

}  // namespace pc::config
