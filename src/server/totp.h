// Two-factor login with time-based one-time passwords (RFC 6238: HMAC-SHA1, 6 digits, 30 s
// steps), computed by liboath, and the QR code of the enrolment URI drawn by libqrencode.
// Thread-safety: free functions; liboath is initialised once (thread-safe static).
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace wattline::server {

// A new random secret of 160 bits, base32 without padding (what authenticator apps and
// `oathtool --totp -b` take).
std::string NewTotpSecret();

// otpauth://totp/<issuer>:<account>?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30
std::string TotpUri(const std::string& issuer, const std::string& account,
                    const std::string& secret_base32);

// The time step (Unix seconds / 30) whose code `code` is, within one step of `unix_seconds`
// either way. kUnauthenticated when the code is wrong or its step is not after `last_step`
// (a code works once); kInvalidArgument for a secret that is not base32.
Result<int64_t> VerifyTotp(const std::string& secret_base32, const std::string& code,
                           int64_t unix_seconds, int64_t last_step);

// The current code, for tests of our own (interoperability is tested against oathtool).
Result<std::string> TotpCode(const std::string& secret_base32, int64_t unix_seconds);

// `text` as a QR code (error correction M), an SVG of dark squares on white with a 4-module
// quiet zone; kInvalidArgument when the text does not fit.
Result<std::string> QrSvg(const std::string& text);

}  // namespace wattline::server
