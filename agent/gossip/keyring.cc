#include "agent/gossip/keyring.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>

namespace cairn::gossip {

namespace {

struct CtxDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;

// One context per thread, reset for every message: no allocation per packet.
EVP_CIPHER_CTX* cipher_ctx() {
  thread_local CtxPtr ctx(EVP_CIPHER_CTX_new());
  EVP_CIPHER_CTX_reset(ctx.get());
  return ctx.get();
}

const EVP_CIPHER* gcm_for(size_t key_len) {
  switch (key_len) {
    case 16:
      return EVP_aes_128_gcm();
    case 24:
      return EVP_aes_192_gcm();
    case 32:
      return EVP_aes_256_gcm();
    default:
      return nullptr;
  }
}

const unsigned char* uc(const void* p) {
  return static_cast<const unsigned char*>(p);
}

bool decrypt_with(std::string_view key, Bytes in, Bytes aad, std::string& out) {
  const EVP_CIPHER* cipher = gcm_for(key.size());
  if (cipher == nullptr) return false;
  EVP_CIPHER_CTX* ctx = cipher_ctx();
  const uint8_t* nonce = in.data() + 1;
  const uint8_t* ct = nonce + kNonceSize;
  const size_t ct_len = in.size() - 1 - kNonceSize - kTagSize;
  const uint8_t* tag = ct + ct_len;
  int len = 0;
  if (EVP_DecryptInit_ex(ctx, cipher, nullptr, uc(key.data()), nonce) != 1) return false;
  if (!aad.empty() && EVP_DecryptUpdate(ctx, nullptr, &len, aad.data(), int(aad.size())) != 1)
    return false;
  const size_t base = out.size();
  out.resize(base + ct_len);
  auto* dst = reinterpret_cast<unsigned char*>(out.data() + base);
  if (ct_len > 0 && EVP_DecryptUpdate(ctx, dst, &len, ct, int(ct_len)) != 1) {
    out.resize(base);
    return false;
  }
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, int(kTagSize), const_cast<uint8_t*>(tag)) !=
          1 ||
      EVP_DecryptFinal_ex(ctx, dst + ct_len, &len) != 1) {
    out.resize(base);
    return false;
  }
  return true;
}

}  // namespace

bool Keyring::install(std::string key) {
  if (!valid_key_size(key.size())) return false;
  if (std::find(keys_.begin(), keys_.end(), key) != keys_.end()) return true;
  keys_.push_back(std::move(key));
  return true;
}

bool Keyring::use(std::string_view key) {
  auto it = std::find(keys_.begin(), keys_.end(), key);
  if (it == keys_.end()) return false;
  std::rotate(keys_.begin(), it, it + 1);
  return true;
}

bool Keyring::remove(std::string_view key) {
  auto it = std::find(keys_.begin(), keys_.end(), key);
  if (it == keys_.end()) return true;
  if (it == keys_.begin()) return false;
  keys_.erase(it);
  return true;
}

std::string Keyring::decode_base64(std::string_view b64) {
  if (b64.empty() || b64.size() % 4 != 0) return {};
  std::string out(b64.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), uc(b64.data()),
                                int(b64.size()));
  if (n < 0) return {};
  size_t pad = 0;
  if (b64.back() == '=') ++pad;
  if (b64.size() >= 2 && b64[b64.size() - 2] == '=') ++pad;
  out.resize(size_t(n) - pad);
  return out;
}

std::string Keyring::encode_base64(std::string_view raw) {
  std::string out((raw.size() + 2) / 3 * 4 + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), uc(raw.data()),
                                int(raw.size()));
  out.resize(size_t(n));
  return out;
}

bool encrypt_payload(std::string_view key, Bytes msg, Bytes aad, std::string& out) {
  const EVP_CIPHER* cipher = gcm_for(key.size());
  if (cipher == nullptr) return false;
  const size_t base = out.size();
  out.resize(base + kEncryptOverhead + msg.size());
  auto* p = reinterpret_cast<unsigned char*>(out.data() + base);
  p[0] = kEncryptionVersion;
  unsigned char* nonce = p + 1;
  unsigned char* ct = nonce + kNonceSize;
  EVP_CIPHER_CTX* ctx = cipher_ctx();
  int len = 0;
  bool ok =
      RAND_bytes(nonce, int(kNonceSize)) == 1 &&
      EVP_EncryptInit_ex(ctx, cipher, nullptr, uc(key.data()), nonce) == 1 &&
      (aad.empty() || EVP_EncryptUpdate(ctx, nullptr, &len, aad.data(), int(aad.size())) == 1) &&
      (msg.empty() || EVP_EncryptUpdate(ctx, ct, &len, msg.data(), int(msg.size())) == 1) &&
      EVP_EncryptFinal_ex(ctx, ct + msg.size(), &len) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, int(kTagSize), ct + msg.size()) == 1;
  if (!ok) out.resize(base);
  return ok;
}

bool decrypt_payload(const Keyring& ring, Bytes in, Bytes aad, std::string& out) {
  if (in.empty() || in[0] > 1) return false;
  const bool padded = in[0] == 0;
  // Version 0 always carries at least one block of padding.
  if (in.size() < kEncryptOverhead + (padded ? 16 : 0)) return false;
  for (const auto& key : ring.keys()) {
    const size_t base = out.size();
    if (!decrypt_with(key, in, aad, out)) continue;
    if (padded) {
      const size_t n = out.size() - base;
      const uint8_t pad = static_cast<uint8_t>(out.back());
      if (pad == 0 || pad > n) {
        out.resize(base);
        return false;
      }
      out.resize(out.size() - pad);
    }
    return true;
  }
  return false;
}

}  // namespace cairn::gossip
