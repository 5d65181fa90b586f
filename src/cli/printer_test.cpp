#include "cli/printer.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace pc::cli {
namespace {

struct Streams {
  std::ostringstream out;
  std::ostringstream err;
};

Report sample() {
  Report r;
  r.text = "NAME  ID\n";
  r.json = R"([{"name":"a"}])";
  return r;
}

TEST(Printer, TableFormatPrintsTheText) {
  Streams s;
  Printer p(OutputFormat::kTable, s.out, s.err);
  EXPECT_EQ(p.finish(sample()), 0);
  EXPECT_EQ(s.out.str(), "NAME  ID\n");
  EXPECT_EQ(s.err.str(), "");
}

TEST(Printer, JsonFormatPrintsOneJsonLine) {
  Streams s;
  Printer p(OutputFormat::kJson, s.out, s.err);
  EXPECT_EQ(p.finish(sample()), 0);
  EXPECT_EQ(s.out.str(), "[{\"name\":\"a\"}]\n");
}

TEST(Printer, JsonFormatFallsBackToTextWithoutJson) {
  Streams s;
  Printer p(OutputFormat::kJson, s.out, s.err);
  p.finish(Report::ofText("done\n"));
  EXPECT_EQ(s.out.str(), "done\n");
}

TEST(Printer, ErrorsAndNoticeGoToStderrFirst) {
  Streams s;
  Printer p(OutputFormat::kTable, s.out, s.err);
  Report r = sample();
  r.errors.push_back(fail(Errc::kNotFound, "status from prov: gone"));
  r.notice = "(hint)\n";
  r.exitCode = 1;
  EXPECT_EQ(p.finish(r), 1);
  EXPECT_EQ(s.err.str(), "error: status from prov: gone\n(hint)\n");
  EXPECT_EQ(s.out.str(), "NAME  ID\n");
}

TEST(Printer, FailureIsOneErrorAndExitOne) {
  Streams s;
  Printer p(OutputFormat::kJson, s.out, s.err);
  EXPECT_EQ(p.finish(Report::failure(fail(Errc::kIo, "boom"))), 1);
  EXPECT_EQ(s.err.str(), "error: boom\n");
  EXPECT_EQ(s.out.str(), "");
}

TEST(Printer, StreamsAtOnceUntilClosed) {
  Streams s;
  Printer p(OutputFormat::kTable, s.out, s.err);
  p.stream("reply 1\n");
  p.streamErr("50%\n");
  EXPECT_EQ(s.out.str(), "reply 1\n");
  EXPECT_EQ(s.err.str(), "50%\n");
  p.closeStream();
  p.stream("seq=2 failed: cancelled\n");
  p.streamErr("more\n");
  EXPECT_EQ(p.finish(Report::failure(fail(Errc::kIo, "no answer within 1 s"))), 1);
  EXPECT_EQ(s.out.str(), "reply 1\n");
  EXPECT_EQ(s.err.str(), "50%\nerror: no answer within 1 s\n");
}

TEST(Printer, PrintsOnlyTheFirstReport) {
  Streams s;
  Printer p(OutputFormat::kTable, s.out, s.err);
  p.finish(Report::ofText("first\n"));
  EXPECT_EQ(p.finish(Report::failure(fail(Errc::kIo, "late"))), 1);
  EXPECT_EQ(s.out.str(), "first\n");
  EXPECT_EQ(s.err.str(), "");
}

TEST(Printer, AnErrorAfterAnUnfinishedBarStartsOnItsOwnLine) {
  Streams s;
  Printer p(OutputFormat::kTable, s.out, s.err);
  p.streamErr("\r  [###...] 50%");
  p.closeStream();
  p.finish(Report::failure(fail(Errc::kIo, "no complete answer")));
  EXPECT_EQ(s.err.str(), "\r  [###...] 50%\nerror: no complete answer\n");
}

TEST(OutputFormat, FromOptionValue) {
  EXPECT_EQ(outputFormat("json"), OutputFormat::kJson);
  EXPECT_EQ(outputFormat("table"), OutputFormat::kTable);
}

}  // namespace
}  // namespace pc::cli
