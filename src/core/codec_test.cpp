#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "core/base32.hpp"
#include "core/base58.hpp"
#include "core/multibase.hpp"
#include "core/multihash.hpp"
#include "core/protobuf.hpp"
#include "core/varint.hpp"

namespace pc {
namespace {

Bytes hex(std::string_view h) { return fromHex(h).value(); }

TEST(Varint, KnownEncodings) {
  const std::pair<std::uint64_t, std::string_view> cases[] = {
      {0, "00"},     {1, "01"},     {127, "7f"},       {128, "8001"},
      {255, "ff01"}, {300, "ac02"}, {16384, "808001"}, {varint::kMaxValue, "ffffffffffffffff7f"}};
  for (auto [value, text] : cases) {
    EXPECT_EQ(toHex(varint::encode(value)), text);
    auto d = varint::decode(hex(text));
    ASSERT_TRUE(d) << text;
    EXPECT_EQ(d->value, value);
    EXPECT_EQ(d->size, text.size() / 2);
    EXPECT_EQ(varint::encodedSize(value), text.size() / 2);
  }
}

TEST(Varint, RejectsOverlongNonMinimalAndTruncated) {
  EXPECT_EQ(varint::decode(hex("ffffffffffffffff8001")).error(), make_error_code(Errc::kOverlong));
  EXPECT_EQ(varint::decode(hex("ffffffffffffffffff")).error(), make_error_code(Errc::kOverlong));
  EXPECT_EQ(varint::decode(hex("8000")).error(), make_error_code(Errc::kNonMinimal));
  EXPECT_EQ(varint::decode(hex("ff00")).error(), make_error_code(Errc::kNonMinimal));
  EXPECT_EQ(varint::decode(hex("80")).error(), make_error_code(Errc::kTruncated));
  EXPECT_EQ(varint::decode(Bytes{}).error(), make_error_code(Errc::kTruncated));
}

RC_GTEST_PROP(VarintProp, RoundTrips, (std::uint64_t v)) {
  v &= varint::kMaxValue;
  auto enc = varint::encode(v);
  enc.push_back(0xAA);  // trailing data is not consumed
  auto d = varint::decode(enc);
  RC_ASSERT(d.has_value());
  RC_ASSERT(d->value == v);
  RC_ASSERT(d->size == enc.size() - 1);
}

RC_GTEST_PROP(VarintProp, DecodeNeverCrashesAndIsCanonical, (std::vector<std::uint8_t> in)) {
  auto d = varint::decode(in);
  if (d) {
    // Whatever decodes re-encodes to exactly the bytes consumed: one value, one encoding.
    RC_ASSERT(varint::encode(d->value) == Bytes(in.begin(), in.begin() + d->size));
  }
}

TEST(Base58, KnownVectors) {
  EXPECT_EQ(base58::encode(asBytes("Hello World!")), "2NEpo7TZRRrLZSi2U");
  EXPECT_EQ(base58::encode(hex("00000000287fb4cd")), "1111233QC4");
  EXPECT_EQ(base58::encode(Bytes{}), "");
  EXPECT_EQ(base58::decode("1111233QC4").value(), hex("00000000287fb4cd"));
  EXPECT_EQ(asString(base58::decode("2NEpo7TZRRrLZSi2U").value()), "Hello World!");
}

TEST(Base58, RejectsBadCharactersAndOversize) {
  for (auto bad : {"0", "O", "I", "l", "abc+", "z z"}) {
    EXPECT_EQ(base58::decode(bad).error(), make_error_code(Errc::kBadCharacter)) << bad;
  }
  EXPECT_EQ(base58::decode(std::string(base58::kMaxEncodedLength + 1, '2')).error(),
            make_error_code(Errc::kTooLarge));
}

RC_GTEST_PROP(Base58Prop, RoundTrips, (std::vector<std::uint8_t> in)) {
  RC_PRE(in.size() < 600);
  RC_ASSERT(base58::decode(base58::encode(in)).value() == in);
}

RC_GTEST_PROP(Base58Prop, DecodeNeverCrashes, (std::string in)) { (void)base58::decode(in); }

TEST(Base32, Rfc4648VectorsLowerCaseUnpadded) {
  const std::pair<std::string_view, std::string_view> cases[] = {{"", ""},
                                                                 {"f", "my"},
                                                                 {"fo", "mzxq"},
                                                                 {"foo", "mzxw6"},
                                                                 {"foob", "mzxw6yq"},
                                                                 {"fooba", "mzxw6ytb"},
                                                                 {"foobar", "mzxw6ytboi"}};
  for (auto [plain, enc] : cases) {
    EXPECT_EQ(base32::encode(asBytes(plain)), enc);
    EXPECT_EQ(asString(base32::decode(enc).value()), plain);
  }
}

TEST(Base32, RejectsUpperCasePaddingAndTrailingBits) {
  EXPECT_EQ(base32::decode("MY").error(), make_error_code(Errc::kBadCharacter));
  EXPECT_EQ(base32::decode("my======").error(), make_error_code(Errc::kBadCharacter));
  EXPECT_EQ(base32::decode("mz").error(), make_error_code(Errc::kBadPadding));
  EXPECT_EQ(base32::decode("m").error(), make_error_code(Errc::kBadLength));
}

RC_GTEST_PROP(Base32Prop, RoundTrips, (std::vector<std::uint8_t> in)) {
  RC_ASSERT(base32::decode(base32::encode(in)).value() == in);
}

RC_GTEST_PROP(Base32Prop, DecodeIsCanonical, (std::string in)) {
  auto d = base32::decode(in);
  if (d) RC_ASSERT(base32::encode(*d) == in);
}

TEST(Multibase, PrefixesAndErrors) {
  const auto data = asBytes("hi");
  EXPECT_EQ(multibase::encode(multibase::Base::kBase32Lower, data), "bnbuq");
  EXPECT_EQ(multibase::encode(multibase::Base::kBase16Lower, data), "f6869");
  EXPECT_EQ(multibase::decode("z8wr").value(), Bytes(data.begin(), data.end()));
  EXPECT_EQ(multibase::decode("Q123").error(), make_error_code(Errc::kUnknownCode));
  EXPECT_EQ(multibase::decode("").error(), make_error_code(Errc::kTruncated));
  EXPECT_EQ(multibase::decode("f6A").error(), make_error_code(Errc::kBadCharacter));
}

TEST(Multihash, ParsesIdentityAndSha256) {
  const auto idBytes = hex("0003616263");
  auto id = multihash::parse(idBytes);
  ASSERT_TRUE(id);
  EXPECT_EQ(id->code, multihash::kIdentity);
  EXPECT_EQ(asString(id->digest), "abc");
  Bytes sha = hex("1220");
  sha.resize(34, 7);
  EXPECT_TRUE(multihash::parse(sha));
  EXPECT_EQ(multihash::parse(hex("1203aabbcc")).error(), make_error_code(Errc::kBadLength));
  EXPECT_EQ(multihash::parse(hex("0003aabb")).error(), make_error_code(Errc::kBadLength));
  EXPECT_EQ(multihash::parse(hex("0002aabbcc")).error(), make_error_code(Errc::kBadLength));
  EXPECT_EQ(multihash::parse(hex("1300")).error(), make_error_code(Errc::kUnknownCode));
  Bytes big = hex("008101");
  big.resize(big.size() + 129);
  EXPECT_EQ(multihash::parse(big).error(), make_error_code(Errc::kTooLarge));
}

TEST(Protobuf, ReadsVarintAndBytesFields) {
  Bytes msg;
  protobuf::writeVarintField(msg, 1, 300);
  protobuf::writeBytesField(msg, 2, asBytes("hey"));
  EXPECT_EQ(toHex(msg), "08ac021203686579");
  protobuf::Reader r(msg);
  auto f1 = r.next().value();
  ASSERT_TRUE(f1);
  EXPECT_EQ(f1->number, 1u);
  EXPECT_EQ(f1->varint, 300u);
  auto f2 = r.next().value();
  ASSERT_TRUE(f2);
  EXPECT_EQ(asString(f2->bytes), "hey");
  EXPECT_FALSE(r.next().value());
}

TEST(Protobuf, RejectsTruncatedAndUnsupported) {
  EXPECT_FALSE(protobuf::Reader(hex("1205aabb")).next());                // length past the end
  EXPECT_FALSE(protobuf::Reader(hex("0d00000000")).next());              // fixed32 wire type
  EXPECT_FALSE(protobuf::Reader(hex("0080")).next());                    // field number 0
  EXPECT_FALSE(protobuf::Reader(hex("08ffffffffffffffffff7f")).next());  // > 64 bits
}

RC_GTEST_PROP(ProtobufProp, ReaderNeverCrashes, (std::vector<std::uint8_t> in)) {
  protobuf::Reader r(in);
  for (int i = 0; i < 1000; ++i) {
    auto f = r.next();
    if (!f || !*f) break;
  }
}

TEST(Hex, RoundTripAndErrors) {
  EXPECT_EQ(toHex(hex("00ff10")), "00ff10");
  EXPECT_EQ(fromHex("ABcd").value(), hex("abcd"));
  EXPECT_FALSE(fromHex("abc"));
  EXPECT_FALSE(fromHex("zz"));
  EXPECT_TRUE(isLowerHex("0123456789abcdef"));
  EXPECT_TRUE(isLowerHex(""));
  EXPECT_FALSE(isLowerHex("ABCD"));
  EXPECT_FALSE(isLowerHex("0g"));
  EXPECT_TRUE(constantTimeEqual(hex("0102"), hex("0102")));
  EXPECT_FALSE(constantTimeEqual(hex("0102"), hex("0103")));
  EXPECT_FALSE(constantTimeEqual(hex("0102"), hex("01")));
}

TEST(Error, ContextAndMessages) {
  Error e = fail(Errc::kTruncated, "varint ends early");
  EXPECT_EQ(e.context("peer id").message(), "peer id: varint ends early");
  EXPECT_EQ(Error(make_error_code(Errc::kIo)).message(), "I/O error");
  Result<int> r = e;
  EXPECT_THROW((void)r.value(), ErrorException);
}

}  // namespace
}  // namespace pc
