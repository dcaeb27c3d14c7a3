#include "server/password.h"

#include <sodium.h>

namespace wattline::server {
namespace {
struct SodiumInit {
  SodiumInit() {
    if (sodium_init() < 0) std::abort();  // no secure randomness: refuse to run at all
  }
};
void EnsureSodium() { static SodiumInit init; }
std::string Hex(const unsigned char* p, size_t n) {
  std::string out(n * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), p, n);
  out.pop_back();
  return out;
}
}  // namespace

Result<std::string> HashPassword(const std::string& password) {
  EnsureSodium();
  char out[crypto_pwhash_STRBYTES];
  // INTERACTIVE limits (64 MiB, 2 passes) keep a login under ~0.2 s on a small server.
  if (crypto_pwhash_str_alg(out, password.data(), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Fail(ResourceExhausted("not enough memory to hash a password"));
  }
  return std::string(out);
}

bool VerifyPassword(const std::string& password, const std::string& encoded_hash) {
  EnsureSodium();
  if (encoded_hash.size() >= crypto_pwhash_STRBYTES) return false;
  return crypto_pwhash_str_verify(encoded_hash.c_str(), password.data(), password.size()) == 0;
}

std::string RandomHex(size_t bytes) {
  EnsureSodium();
  std::string buf(bytes, '\0');
  randombytes_buf(buf.data(), bytes);
  return Hex(reinterpret_cast<const unsigned char*>(buf.data()), bytes);
}

std::string GeneratePassword() {
  EnsureSodium();
  static constexpr char kAlphabet[] = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::string out;
  for (int i = 0; i < 16; ++i) out.push_back(kAlphabet[randombytes_uniform(sizeof(kAlphabet) - 1)]);
  return out;
}

std::string TokenHash(const std::string& secret) {
  EnsureSodium();
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
  return Hex(h, sizeof h);
}

}  // namespace wattline::server
