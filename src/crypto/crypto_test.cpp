#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "crypto/aead.hpp"
#include "crypto/ed25519.hpp"
#include "crypto/hash.hpp"
#include "crypto/x25519.hpp"

namespace pc::crypto {
namespace {

Bytes hex(std::string_view h) { return fromHex(h).value(); }

TEST(Ed25519, Rfc8032TestVector1) {
  auto key = ed25519::PrivateKey::fromSeed(
      hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
  ASSERT_TRUE(key);
  EXPECT_EQ(toHex(key->publicKey()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  auto sig = key->sign({});
  ASSERT_TRUE(sig);
  EXPECT_EQ(
      toHex(*sig),
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e3970"
      "1cf9b46bd25bf5f0595bbe24655141438e7a100b");
  EXPECT_TRUE(ed25519::verify(key->publicKey(), {}, *sig));
}

TEST(Ed25519, RejectsTamperedMessageSignatureAndKey) {
  auto key = ed25519::PrivateKey::generate().value();
  auto msg = toBytes("deploy nginx");
  auto sig = key.sign(msg).value();
  EXPECT_TRUE(ed25519::verify(key.publicKey(), msg, sig));
  auto badMsg = msg;
  badMsg[0] ^= 1;
  EXPECT_FALSE(ed25519::verify(key.publicKey(), badMsg, sig));
  auto badSig = sig;
  badSig[10] ^= 1;
  EXPECT_FALSE(ed25519::verify(key.publicKey(), msg, badSig));
  EXPECT_FALSE(ed25519::verify(key.publicKey(), msg, BytesView(sig).first(63)));
  auto other = ed25519::PrivateKey::generate().value();
  EXPECT_FALSE(ed25519::verify(other.publicKey(), msg, sig));
  EXPECT_FALSE(ed25519::PrivateKey::fromSeed(hex("0102")));
}

TEST(X25519, Rfc7748SharedSecret) {
  auto alice = x25519::KeyPair::fromPrivate(
                   hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"))
                   .value();
  auto bob = x25519::KeyPair::fromPrivate(
                 hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"))
                 .value();
  EXPECT_EQ(toHex(alice.publicKey()),
            "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  const auto ab = alice.dh(bob.publicKey()).value();
  const auto ba = bob.dh(alice.publicKey()).value();
  EXPECT_EQ(toHex(ab.view()), "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  EXPECT_EQ(toHex(ba.view()), toHex(ab.view()));
}

TEST(X25519, RejectsSmallOrderPoints) {
  auto kp = x25519::KeyPair::generate().value();
  EXPECT_EQ(kp.dh(Bytes(32, 0)).error(), make_error_code(Errc::kWeakSharedSecret));
  Bytes one(32, 0);
  one[0] = 1;
  EXPECT_EQ(kp.dh(one).error(), make_error_code(Errc::kWeakSharedSecret));
  EXPECT_EQ(kp.dh(Bytes(31, 9)).error(), make_error_code(Errc::kBadKey));
}

TEST(ChaChaPoly, Rfc8439Section282) {
  auto aead =
      ChaChaPoly::create(hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"))
          .value();
  const auto nonce = hex("070000004041424344454647");
  const auto ad = hex("50515253c0c1c2c3c4c5c6c7");
  const auto pt = toBytes(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, "
      "sunscreen would be it.");
  Bytes out(pt.size() + ChaChaPoly::kTagSize);
  ASSERT_TRUE(aead.seal(nonce, ad, pt, out.data()));
  EXPECT_EQ(toHex(BytesView(out).first(16)), "d31a8d34648e60db7b86afbc53ef7ec2");
  EXPECT_EQ(toHex(BytesView(out).last(16)), "1ae10b594f09e26a7e902ecbd0600691");
  Bytes back(pt.size());
  ASSERT_TRUE(aead.open(nonce, ad, out, back.data()));
  EXPECT_EQ(back, pt);
}

TEST(ChaChaPoly, DetectsTamperingAndWipesOutput) {
  auto aead = ChaChaPoly::create(Bytes(32, 7)).value();
  const Bytes nonce(12, 0);
  auto buf = toBytes("secret payload");
  const auto pt = buf;
  buf.resize(buf.size() + 16);
  ASSERT_TRUE(aead.seal(nonce, {}, BytesView(buf).first(pt.size()), buf.data()));  // in place
  auto tampered = buf;
  tampered[3] ^= 0x40;
  Bytes out(pt.size(), 0xee);
  EXPECT_EQ(aead.open(nonce, {}, tampered, out.data()).error(),
            make_error_code(Errc::kDecryptFailed));
  EXPECT_EQ(out, Bytes(pt.size(), 0));
  EXPECT_FALSE(aead.open(nonce, asBytes("ad"), buf, out.data()));
  EXPECT_FALSE(aead.open(nonce, {}, BytesView(buf).first(15), out.data()));
  ASSERT_TRUE(aead.open(nonce, {}, buf, buf.data()));  // in place
  EXPECT_EQ(Bytes(buf.begin(), buf.begin() + static_cast<long>(pt.size())), pt);
}

RC_GTEST_PROP(ChaChaPolyProp, RoundTrips,
              (std::vector<std::uint8_t> pt, std::vector<std::uint8_t> ad)) {
  auto aead = ChaChaPoly::create(Bytes(32, 1)).value();
  Bytes nonce(12, 3);
  Bytes sealed(pt.size() + 16);
  RC_ASSERT(aead.seal(nonce, ad, pt, sealed.data()).has_value());
  Bytes back(pt.size());
  RC_ASSERT(aead.open(nonce, ad, sealed, back.data()).has_value());
  RC_ASSERT(back == pt);
}

TEST(Hash, Sha256AndHmacAndHkdf) {
  EXPECT_EQ(toHex(sha256(asBytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 inc;
  inc.update(asBytes("a"));
  inc.update(asBytes("bc"));
  EXPECT_EQ(inc.finish(), sha256(asBytes("abc")));
  // RFC 4231 test case 2.
  EXPECT_EQ(toHex(hmacSha256(asBytes("Jefe"), asBytes("what do ya want for nothing?"))),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // RFC 5869 test case 1.
  auto okm = hkdfSha256(hex("000102030405060708090a0b0c"), Bytes(22, 0x0b),
                        hex("f0f1f2f3f4f5f6f7f8f9"), 42);
  ASSERT_TRUE(okm);
  EXPECT_EQ(toHex(*okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
  // RFC 4231 test case 6: a key longer than the block is hashed first.
  EXPECT_EQ(toHex(hmacSha256(Bytes(131, 0xaa),
                             asBytes("Test Using Larger Than Block-Size Key - Hash Key First"))),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  // RFC 5869 test case 2: long inputs, three output blocks.
  Bytes ikm2, salt2, info2;
  for (int i = 0; i < 80; ++i) {
    ikm2.push_back(static_cast<std::uint8_t>(i));
    salt2.push_back(static_cast<std::uint8_t>(0x60 + i));
    info2.push_back(static_cast<std::uint8_t>(0xb0 + i));
  }
  auto okm2 = hkdfSha256(salt2, ikm2, info2, 82);
  ASSERT_TRUE(okm2);
  EXPECT_EQ(
      toHex(*okm2),
      "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c6"
      "5e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87");
  // RFC 5869 test case 3: empty salt and info.
  auto okm3 = hkdfSha256({}, Bytes(22, 0x0b), {}, 42);
  ASSERT_TRUE(okm3);
  EXPECT_EQ(toHex(*okm3),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
  // Empty salt and info (Noise's HKDF with an empty input key).
  EXPECT_TRUE(hkdfSha256({}, {}, {}, 64));
  EXPECT_FALSE(hkdfSha256({}, {}, {}, 0));
}

}  // namespace
}  // namespace pc::crypto
