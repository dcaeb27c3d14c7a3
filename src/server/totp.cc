#include "server/totp.h"

#include <liboath/oath.h>
#include <qrencode.h>
#include <sodium.h>

#include <cctype>
#include <cstdlib>
#include <ctime>
#include <memory>

namespace wattline::server {
namespace {
constexpr unsigned kStep = 30;
constexpr unsigned kDigits = 6;

void InitOath() {
  static const bool ok = [] { return oath_init() == OATH_OK; }();
  (void)ok;
}

struct FreeDeleter {
  void operator()(char* p) const { std::free(p); }
};

Result<std::string> DecodeSecret(const std::string& b32) {
  InitOath();
  char* raw = nullptr;
  size_t len = 0;
  if (oath_base32_decode(b32.data(), b32.size(), &raw, &len) != OATH_OK) {
    return Fail(InvalidArgument("two-factor secret is not base32"));
  }
  std::unique_ptr<char, FreeDeleter> owned(raw);
  return std::string(raw, len);
}

// Percent-encoding for the URI's label and issuer.
std::string UriEscape(const std::string& s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}
}  // namespace

std::string NewTotpSecret() {
  InitOath();
  unsigned char bytes[20];
  randombytes_buf(bytes, sizeof bytes);
  char* out = nullptr;
  size_t len = 0;
  oath_base32_encode(reinterpret_cast<const char*>(bytes), sizeof bytes, &out, &len);
  std::unique_ptr<char, FreeDeleter> owned(out);
  std::string s(out, len);
  while (!s.empty() && s.back() == '=') s.pop_back();  // 160 bits need no padding anyway
  return s;
}

std::string TotpUri(const std::string& issuer, const std::string& account,
                    const std::string& secret_base32) {
  return "otpauth://totp/" + UriEscape(issuer) + ":" + UriEscape(account) +
         "?secret=" + secret_base32 + "&issuer=" + UriEscape(issuer) +
         "&algorithm=SHA1&digits=6&period=30";
}

Result<int64_t> VerifyTotp(const std::string& secret_base32, const std::string& code,
                           int64_t unix_seconds, int64_t last_step) {
  auto secret = DecodeSecret(secret_base32);
  if (!secret) return Fail(secret.error());
  if (code.size() != kDigits || code.find_first_not_of("0123456789") != std::string::npos) {
    return Fail(Unauthenticated("the two-factor code has 6 digits").WithReason("totp_invalid"));
  }
  int pos = 0;
  uint64_t counter = 0;
  int rc = oath_totp_validate3(secret->data(), secret->size(), static_cast<time_t>(unix_seconds),
                               kStep, 0, /*window=*/1, &pos, &counter, code.c_str());
  if (rc < 0) {
    return Fail(Unauthenticated("wrong two-factor code").WithReason("totp_invalid"));
  }
  if (static_cast<int64_t>(counter) <= last_step) {
    return Fail(Unauthenticated("this two-factor code was already used; wait for the next one")
                    .WithReason("totp_invalid"));
  }
  return static_cast<int64_t>(counter);
}

Result<std::string> TotpCode(const std::string& secret_base32, int64_t unix_seconds) {
  auto secret = DecodeSecret(secret_base32);
  if (!secret) return Fail(secret.error());
  char out[kDigits + 1] = {};
  if (oath_totp_generate(secret->data(), secret->size(), static_cast<time_t>(unix_seconds), kStep,
                         0, kDigits, out) != OATH_OK) {
    return Fail(Internal("liboath could not compute a code"));
  }
  return std::string(out);
}

Result<std::string> QrSvg(const std::string& text) {
  std::unique_ptr<QRcode, void (*)(QRcode*)> qr(
      QRcode_encodeString(text.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1), QRcode_free);
  if (!qr) return Fail(InvalidArgument("text too long for a QR code"));
  const int w = qr->width;
  const int size = w + 8;
  std::string path;
  for (int y = 0; y < w; ++y) {
    for (int x = 0; x < w; ++x) {
      if (qr->data[y * w + x] & 1) {  // bit 0: dark module
        path += "M" + std::to_string(x + 4) + " " + std::to_string(y + 4) + "h1v1h-1z";
      }
    }
  }
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + std::to_string(size) + " " +
         std::to_string(size) + "\" shape-rendering=\"crispEdges\"><rect width=\"" +
         std::to_string(size) + "\" height=\"" + std::to_string(size) +
         "\" fill=\"#fff\"/><path fill=\"#000\" d=\"" + path + "\"/></svg>";
}

}  // namespace wattline::server
