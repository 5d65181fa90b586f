#include "cli/printer.hpp"

#include <iostream>

namespace pc::cli {

OutputFormat outputFormat(std::string_view name) {
  return name == "json" ? OutputFormat::kJson : OutputFormat::kTable;
}

Report Report::failure(Error e) {
  Report r;
  r.errors.push_back(std::move(e));
  r.exitCode = 1;
  return r;
}

Report Report::ofText(std::string text) {
  Report r;
  r.text = std::move(text);
  return r;
}

Printer::Printer(OutputFormat format, std::ostream& out, std::ostream& err)
    : format_(format), out_(out), err_(err) {}

Printer::Printer(OutputFormat format) : Printer(format, std::cout, std::cerr) {}

void Printer::stream(std::string_view text) {
  if (closed_) {
    return;
  }
  out_ << text << std::flush;
}

void Printer::streamErr(std::string_view text) {
  if (closed_) {
    return;
  }
  err_ << text << std::flush;
  if (!text.empty()) {
    errMidLine_ = text.back() != '\n';
  }
}

int Printer::finish(const Report& r) {
  if (finished_) {
    return r.exitCode;
  }
  finished_ = true;
  if (errMidLine_ && (!r.errors.empty() || !r.notice.empty())) {
    // A progress bar redrawn in place ends without a newline; the error gets a line of its own.
    err_ << "\n";
  }
  for (const auto& e : r.errors) {
    err_ << "error: " << e.message() << "\n";
  }
  err_ << r.notice << std::flush;
  if (format_ == OutputFormat::kJson && r.json) {
    out_ << *r.json << "\n";
  } else {
    out_ << r.text;
  }
  out_ << std::flush;
  return r.exitCode;
}

}  // namespace pc::cli
