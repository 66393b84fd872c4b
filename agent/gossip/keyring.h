// The gossip keyring and memberlist's AES-GCM message encryption (OpenSSL).
//
// Keys are 16, 24 or 32 bytes (AES-128/192/256-GCM; Consul's `encrypt` keys
// are 32). The first key is the primary: everything is encrypted with it,
// and decryption tries every key, primary first, so keys can be rotated
// without a flag day (install everywhere, use, then remove the old one).
//
// Wire form (memberlist security.go): version:u8 | nonce:12 | ciphertext |
// tag:16. Version 1 has no padding; version 0 (protocol 1 peers) pads
// PKCS#7-style to the AES block size. Both are decrypted; we write 1.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/gossip/msgpack_codec.h"

namespace cairn::gossip {

inline constexpr size_t kNonceSize = 12;
inline constexpr size_t kTagSize = 16;
inline constexpr uint8_t kEncryptionVersion = 1;

// Bytes encryption adds to a message of any length (version 1).
inline constexpr size_t kEncryptOverhead = 1 + kNonceSize + kTagSize;  // 29

class Keyring {
 public:
  Keyring() = default;
  // Fails (and keeps the ring unchanged) when a key has a bad length.
  bool install(std::string key);
  // Makes an installed key the primary. False if not installed.
  bool use(std::string_view key);
  // Removes a key; the primary cannot be removed. False if refused.
  bool remove(std::string_view key);
  bool empty() const { return keys_.empty(); }
  const std::string& primary() const { return keys_.front(); }
  const std::vector<std::string>& keys() const { return keys_; }

  static bool valid_key_size(size_t n) { return n == 16 || n == 24 || n == 32; }
  // Base64 (Consul's `encrypt` form) to a raw key; empty on error.
  static std::string decode_base64(std::string_view b64);
  static std::string encode_base64(std::string_view raw);

 private:
  std::vector<std::string> keys_;
};

// Encrypts msg with key (version 1), appending version|nonce|ct|tag to out.
// aad is authenticated but not sent (the label, or the TCP frame header).
bool encrypt_payload(std::string_view key, Bytes msg, Bytes aad, std::string& out);

// Decrypts in with the first key that authenticates; appends the plaintext
// to out. False when no key fits or the input is malformed.
bool decrypt_payload(const Keyring& ring, Bytes in, Bytes aad, std::string& out);

}  // namespace cairn::gossip
