#include <gtest/gtest.h>

#include <rapidcheck/gtest.h>
#include <sys/stat.h>
#include <fstream>

#include "core/fs.hpp"
#include "core/multibase.hpp"
#include "crypto/identity.hpp"
#include "support/temp_dir.hpp"

namespace pc::crypto {
namespace {

Bytes seed0to31() {
  Bytes s(32);
  for (std::size_t i = 0; i < 32; ++i) s[i] = static_cast<std::uint8_t>(i);
  return s;
}

TEST(PeerId, KnownAnswerVector) {
  auto id = Identity::fromSeed(seed0to31()).value();
  EXPECT_EQ(id.peerId().toBase58(), "12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSB");
  // The CID form parses back to the same id and starts with the base32 multibase prefix.
  const auto cid = id.peerId().toCid();
  EXPECT_EQ(cid.substr(0, 1), "b");
  EXPECT_EQ(PeerId::parse(cid).value(), id.peerId());
  EXPECT_EQ(PeerId::parse(id.peerId().toBase58()).value(), id.peerId());
  EXPECT_EQ(id.peerId().ed25519Key().value(), id.publicKey());
}

TEST(PeerId, ParsesKnownTextForms) {
  // The spec's own examples: an Ed25519 identity id and its CIDv1 form, and an RSA (sha2-256) id.
  auto a = PeerId::parse("12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA");
  ASSERT_TRUE(a) << a.error().message();
  auto b = PeerId::parse("bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqxe");
  ASSERT_TRUE(b) << b.error().message();
  EXPECT_EQ(b->toBase58(), "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N");
  EXPECT_FALSE(PeerId::parse("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N")->ed25519Key());
}

TEST(PeerId, RejectsMalformed) {
  for (auto bad :
       {"", "12D3KooW", "12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeS0",
        "12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSBx", "xyz", "bafy", "hello"}) {
    EXPECT_FALSE(PeerId::parse(bad)) << bad;
  }
  EXPECT_FALSE(PeerId::parse(std::string(200, '1')));
  // A CIDv1 with a codec other than libp2p-key (dag-pb 0x70) is not a peer id.
  auto id = Identity::fromSeed(seed0to31()).value();
  Bytes cid{0x01, 0x70};
  append(cid, id.peerId().bytes());
  EXPECT_FALSE(PeerId::parse(multibase::encode(multibase::Base::kBase32Lower, cid)));
}

TEST(PeerId, PublicKeyProtobufStrict) {
  auto id = Identity::fromSeed(seed0to31()).value();
  auto pb = encodePublicKey(id.publicKey());
  EXPECT_EQ(toHex(BytesView(pb).first(4)), "08011220");
  EXPECT_EQ(decodePublicKey(pb).value(), id.publicKey());
  auto dup = pb;
  append(dup, BytesView(pb).first(2));  // repeated Type field
  EXPECT_FALSE(decodePublicKey(dup));
  auto rsa = pb;
  rsa[1] = 0;
  EXPECT_EQ(decodePublicKey(rsa).error(), make_error_code(Errc::kUnsupportedKeyType));
  EXPECT_FALSE(decodePublicKey(BytesView(pb).first(20)));
}

RC_GTEST_PROP(PeerIdProp, ParseNeverCrashes, (std::string text)) { (void)PeerId::parse(text); }
RC_GTEST_PROP(PeerIdProp, FromBytesNeverCrashes, (std::vector<std::uint8_t> b)) {
  (void)PeerId::fromBytes(b);
}

TEST(Identity, KeyFileRoundTripAndTamperDetection) {
  auto id = Identity::generate().value();
  auto file = id.encodeKeyFile();
  EXPECT_EQ(toHex(BytesView(file).first(4)), "08011240");
  EXPECT_EQ(Identity::decodeKeyFile(file).value().peerId(), id.peerId());
  auto tampered = file;
  tampered.back() ^= 1;  // public half no longer matches the seed
  EXPECT_EQ(Identity::decodeKeyFile(tampered).error(), make_error_code(Errc::kBadKeyFile));
  EXPECT_FALSE(Identity::decodeKeyFile(BytesView(file).first(30)));
  auto secp = file;
  secp[1] = 2;
  EXPECT_EQ(Identity::decodeKeyFile(secp).error(), make_error_code(Errc::kUnsupportedKeyType));
}

RC_GTEST_PROP(IdentityProp, KeyFileDecoderNeverCrashes, (std::vector<std::uint8_t> b)) {
  (void)Identity::decodeKeyFile(b);
}

TEST(Identity, SaveCreatesPrivateFileAndDirectory) {
  test::TempDir dir;
  const auto home = dir.path() / "home";
  const auto path = home / "identity.key";
  auto id = Identity::generate().value();
  ASSERT_TRUE(id.save(path));
  struct stat st {};
  ASSERT_EQ(::stat(home.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(Identity::load(path).value().peerId(), id.peerId());
}

TEST(Identity, LoadOrCreateNeverReplacesAnUnusableFile) {
  test::TempDir dir;
  const auto path = dir.path() / "identity.key";
  bool created = false;
  auto a = Identity::loadOrCreate(path, &created);
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_TRUE(created);
  auto b = Identity::loadOrCreate(path, &created);
  ASSERT_TRUE(b);
  EXPECT_FALSE(created);
  EXPECT_EQ(a->peerId(), b->peerId());
  {
    std::ofstream f(path, std::ios::trunc);
    f << "garbage";
  }
  EXPECT_FALSE(Identity::loadOrCreate(path, &created));  // an error, not a silent new identity
  EXPECT_FALSE(created);
}

TEST(Identity, RefusesKeyReadableByOthersWithFix) {
  test::TempDir dir;
  const auto path = dir.path() / "identity.key";
  ASSERT_TRUE(Identity::generate().value().save(path));
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto r = Identity::load(path);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(Errc::kUnsafeKeyFile));
  EXPECT_NE(r.error().message().find("chmod 600"), std::string::npos);
  EXPECT_NE(r.error().message().find("0644"), std::string::npos);
}

TEST(Identity, MissingAndCorruptFiles) {
  test::TempDir dir;
  auto missing = Identity::load(dir.path() / "none.key");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("peerctl init"), std::string::npos);
  const auto path = dir.path() / "bad.key";
  ASSERT_TRUE(fs::writeFileAtomic(path, "not a key", 0600));
  EXPECT_FALSE(Identity::load(path));
}

}  // namespace
}  // namespace pc::crypto
