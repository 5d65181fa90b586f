#include "core/protobuf.hpp"

namespace pc::protobuf {

Result<std::uint64_t> Reader::readVarint() {
  std::uint64_t value = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (pos_ >= in_.size()) {
      return fail(Errc::kTruncated, "protobuf varint is truncated");
    }
    const std::uint8_t b = in_[pos_++];
    if (shift == 63 && b > 1) {
      return fail(Errc::kOverlong, "protobuf varint overflows 64 bits");
    }
    value |= std::uint64_t{b & 0x7fu} << shift;
    if ((b & 0x80) == 0) {
      return value;
    }
  }
  return fail(Errc::kOverlong, "protobuf varint longer than 10 bytes");
}

Result<std::optional<Field>> Reader::next() {
  if (pos_ == in_.size()) {
    return std::optional<Field>{};
  }
  auto key = readVarint();
  if (!key) return key.error();
  const auto number = *key >> 3;
  const auto type = *key & 7;
  if (number == 0 || number > 0x1fffffff) {
    return fail(Errc::kMalformed, "protobuf field number out of range");
  }
  Field f{static_cast<std::uint32_t>(number), WireType::kVarint, 0, {}};
  if (type == 0) {
    auto v = readVarint();
    if (!v) return v.error();
    f.varint = *v;
  } else if (type == 2) {
    auto len = readVarint();
    if (!len) return len.error();
    if (*len > in_.size() - pos_) {
      return fail(Errc::kTruncated, "protobuf field " + std::to_string(number) + " declares " +
                                        std::to_string(*len) + " bytes but " +
                                        std::to_string(in_.size() - pos_) + " remain");
    }
    f.type = WireType::kLengthDelimited;
    f.bytes = in_.subspan(pos_, static_cast<std::size_t>(*len));
    pos_ += static_cast<std::size_t>(*len);
  } else {
    return fail(Errc::kUnknownCode, "unsupported protobuf wire type " + std::to_string(type));
  }
  return std::optional<Field>{f};
}

void writeVarint(Bytes& out, std::uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(value | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(value));
}

void writeVarintField(Bytes& out, std::uint32_t number, std::uint64_t value) {
  writeVarint(out, std::uint64_t{number} << 3);
  writeVarint(out, value);
}

void writeBytesField(Bytes& out, std::uint32_t number, BytesView value) {
  writeVarint(out, (std::uint64_t{number} << 3) | 2);
  writeVarint(out, value.size());
  append(out, value);
}

}  // namespace pc::protobuf
