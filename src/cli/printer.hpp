#pragma once
/// peerctl's one way to the terminal. A command returns a Report (its result in table and JSON
/// form, its errors, its exit code) and the Printer shows it once, in the format the user chose.
/// Output that must appear as it happens (pull progress, `logs -f`, ping replies, notices)
/// goes through the Printer's streaming path instead, unbuffered; once a command is past its
/// deadline that path is closed, so a timed-out command prints its one error and nothing else.
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace pc::cli {

/// The `-o` choice of the commands that have one; kTable for every other command.
enum class OutputFormat { kTable, kJson };

/// "json" → kJson; anything else (the option only admits "table" and "json") → kTable.
OutputFormat outputFormat(std::string_view name);

/// What a command hands the printer when it is done.
struct Report {
  /// Printed first, on stderr, as one "error: <message>" line each.
  std::vector<Error> errors;
  /// Printed on stderr after the errors, as is: a hint that is not a failure.
  std::string notice;
  /// The result for people (stdout, as is), printed with kTable, or with kJson when `json` is
  /// not set (a command without a JSON form).
  std::string text;
  /// The result as one JSON document (stdout, one line), printed with kJson.
  std::optional<std::string> json;
  int exitCode = 0;

  /// A report of one failure: `e` on stderr, exit code 1.
  static Report failure(Error e);
  /// A successful report whose only output is `text`.
  static Report ofText(std::string text);
};

class Printer {
 public:
  /// Prints to `out` (results, streamed stdout) and `err` (errors, notices, progress); the
  /// streams must outlive the printer.
  Printer(OutputFormat format, std::ostream& out, std::ostream& err);
  /// A printer on std::cout and std::cerr.
  explicit Printer(OutputFormat format);

  [[nodiscard]] OutputFormat format() const { return format_; }

  /// Streaming path: writes `text` to stdout now and flushes (dropped once closed).
  void stream(std::string_view text);
  /// Streaming path: writes `text` to stderr now and flushes (dropped once closed).
  void streamErr(std::string_view text);
  /// Closes the streaming path for good: what a command being torn down after its deadline
  /// would still stream (its connections "cancelled") is dropped. finish() still prints.
  void closeStream() { closed_ = true; }

  /// Prints `r`: errors and notice on stderr (on a new line if a streamed progress bar left
  /// stderr mid-line), then its JSON or text on stdout, and returns its exit code. Prints only the
  /// first report it is given; later calls only return the code.
  int finish(const Report& r);

 private:
  OutputFormat format_;
  std::ostream& out_;
  std::ostream& err_;
  bool closed_ = false;
  bool errMidLine_ = false;  ///< the last text streamed to stderr did not end a line
  bool finished_ = false;
};

/// Runs `command` (a callable taking Printer& and returning a Report) with a printer for
/// `format` on std::cout and std::cerr, prints its report and returns the exit code.
template <class Command>
int runPrinted(OutputFormat format, Command&& command) {
  Printer out(format);
  return out.finish(std::forward<Command>(command)(out));
}

}  // namespace pc::cli
