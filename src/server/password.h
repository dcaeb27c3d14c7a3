// Password hashing with Argon2id (libsodium's crypto_pwhash_str, which stores algorithm,
// parameters and salt in the returned string) and random secrets.
#pragma once

#include <string>

#include "core/status.h"

namespace wattline::server {

// Returns the encoded Argon2id hash, or kResourceExhausted when memory for hashing is lacking.
Result<std::string> HashPassword(const std::string& password);
// True when `password` matches `encoded_hash`. Constant-time in the hash comparison.
bool VerifyPassword(const std::string& password, const std::string& encoded_hash);
// `bytes` random bytes from the OS CSPRNG, hex-encoded.
std::string RandomHex(size_t bytes);
// A password a person can type: 16 characters from an alphabet without look-alikes.
std::string GeneratePassword();
// SHA-256 of `secret`, hex; used for high-entropy tokens (connector credentials, sessions).
std::string TokenHash(const std::string& secret);

}  // namespace wattline::server
