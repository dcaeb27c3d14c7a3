#include "http/tls.h"

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <memory>

namespace wattline::http {
namespace ssl = boost::asio::ssl;

namespace {

std::string OpenSslError(const std::string& what) {
  char buf[256];
  unsigned long e = ERR_get_error();
  ERR_error_string_n(e, buf, sizeof buf);
  return what + ": " + buf;
}

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};

bool LooksLikeIp(const std::string& h) {
  return h.find_first_not_of("0123456789.") == std::string::npos ||
         h.find(':') != std::string::npos;
}

}  // namespace

Status EnsureSelfSignedCertificate(const std::string& cert_path, const std::string& key_path,
                                   const std::vector<std::string>& hostnames) {
  namespace fs = std::filesystem;
  bool have_cert = fs::exists(cert_path);
  bool have_key = fs::exists(key_path);
  if (have_cert && have_key) return Status::Ok();
  if (have_cert != have_key) {
    return FailedPrecondition("only one of " + cert_path + " and " + key_path +
                              " exists; provide both or neither");
  }

  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  if (!key) return Internal(OpenSslError("generating an EC key"));
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  if (!cert) return Internal(OpenSslError("X509_new"));
  X509_set_version(cert.get(), 2);
  // A random serial: browsers reject two different certificates with the same issuer+serial.
  std::unique_ptr<BIGNUM, decltype(&BN_free)> serial(BN_new(), BN_free);
  BN_rand(serial.get(), 120, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
  BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  const std::string cn = hostnames.empty() ? "wattline" : hostnames.front();
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Wattline"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);

  std::string san;
  for (const auto& h : hostnames) {
    if (!san.empty()) san += ",";
    san += (LooksLikeIp(h) ? "IP:" : "DNS:") + h;
  }
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert.get(), cert.get(), nullptr, nullptr, 0);
  const std::pair<int, std::string> exts[] = {
      {NID_basic_constraints, "critical,CA:FALSE"},
      {NID_key_usage, "critical,digitalSignature"},
      {NID_ext_key_usage, "serverAuth"},
      {NID_subject_alt_name, san},
  };
  for (const auto& [nid, value] : exts) {
    if (value.empty()) continue;
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
    if (!ext) return Internal(OpenSslError("certificate extension " + value));
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    return Internal(OpenSslError("signing the certificate"));
  }

  std::error_code ec;
  fs::create_directories(fs::path(cert_path).parent_path(), ec);
  fs::create_directories(fs::path(key_path).parent_path(), ec);
  {
    // The key file is created with mode 0600 before any secret is written to it.
    mode_t old = umask(077);
    std::unique_ptr<FILE, FileCloser> f(std::fopen(key_path.c_str(), "wb"));
    umask(old);
    if (!f ||
        PEM_write_PrivateKey(f.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
      return Internal("cannot write TLS key " + key_path);
    }
  }
  std::unique_ptr<FILE, FileCloser> f(std::fopen(cert_path.c_str(), "wb"));
  if (!f || PEM_write_X509(f.get(), cert.get()) != 1) {
    return Internal("cannot write TLS certificate " + cert_path);
  }
  return Status::Ok();
}

Result<std::shared_ptr<ssl::context>> MakeServerContext(const std::string& cert_path,
                                                        const std::string& key_path) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  // TLS 1.2: ECDHE with AEAD only. TLS 1.3 suites are all strong; OpenSSL's defaults stay.
  SSL_CTX_set_cipher_list(ctx->native_handle(),
                          "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                          "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                          "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
  SSL_CTX_set_options(ctx->native_handle(),
                      SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  ctx->use_certificate_chain_file(cert_path, ec);
  if (ec)
    return Fail(InvalidArgument("cannot load TLS certificate " + cert_path + ": " + ec.message()));
  ctx->use_private_key_file(key_path, ssl::context::pem, ec);
  if (ec) return Fail(InvalidArgument("cannot load TLS key " + key_path + ": " + ec.message()));
  return ctx;
}

Result<std::shared_ptr<ssl::context>> MakePinnedClientContext(
    const std::string& trusted_cert_path) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  boost::system::error_code ec;
  ctx->load_verify_file(trusted_cert_path, ec);
  if (ec) {
    return Fail(InvalidArgument("cannot load trusted server certificate " + trusted_cert_path +
                                ": " + ec.message()));
  }
  // The pinned certificate is self-signed and not a CA: accept it as a trust anchor by itself.
  X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx->native_handle()), X509_V_FLAG_PARTIAL_CHAIN);
  ctx->set_verify_mode(ssl::verify_peer);
  return ctx;
}

namespace {

std::string FingerprintOf(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &len) != 1) return "";
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    if (i) out.push_back(':');
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

// What the verification callback of a TOFU or fingerprint-pinned context needs. It lives in the
// same allocation as the context (aliasing shared_ptr), so it outlives every SSL object.
struct FingerprintContext {
  ssl::context ctx{ssl::context::tls_client};
  std::string expected;  // empty: accept any certificate (trust on first use)
  CertificateObserver observer;
};

// Replaces OpenSSL's whole chain verification (including the host name check): the decision is
// only whether the leaf certificate is the pinned one.
int VerifyFingerprint(X509_STORE_CTX* store, void* arg) {
  auto* fc = static_cast<FingerprintContext*>(arg);
  X509* leaf = X509_STORE_CTX_get0_cert(store);
  std::string seen = leaf ? FingerprintOf(leaf) : "";
  if (fc->observer && !seen.empty()) fc->observer(seen);
  if (seen.empty()) {
    X509_STORE_CTX_set_error(store, X509_V_ERR_UNSPECIFIED);
    return 0;
  }
  if (fc->expected.empty()) return 1;
  if (seen.size() != fc->expected.size() ||
      CRYPTO_memcmp(seen.data(), fc->expected.data(), seen.size()) != 0) {
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
    return 0;
  }
  return 1;
}

std::shared_ptr<ssl::context> MakeFingerprintContext(std::string expected,
                                                     CertificateObserver observer) {
  auto fc = std::make_shared<FingerprintContext>();
  fc->expected = std::move(expected);
  fc->observer = std::move(observer);
  SSL_CTX* native = fc->ctx.native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_cert_verify_callback(native, VerifyFingerprint, fc.get());
  fc->ctx.set_verify_mode(ssl::verify_peer);
  return std::shared_ptr<ssl::context>(fc, &fc->ctx);
}

}  // namespace

Result<std::string> CertificateFingerprintFromFile(const std::string& cert_path) {
  std::unique_ptr<FILE, FileCloser> f(std::fopen(cert_path.c_str(), "rb"));
  if (!f) return Fail(InvalidArgument("cannot open certificate " + cert_path));
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_X509(f.get(), nullptr, nullptr, nullptr), X509_free);
  if (!cert) return Fail(InvalidArgument("no PEM certificate in " + cert_path));
  std::string fp = FingerprintOf(cert.get());
  if (fp.empty()) return Fail(Internal(OpenSslError("hashing certificate " + cert_path)));
  return fp;
}

std::shared_ptr<ssl::context> MakeTrustOnFirstUseClientContext(CertificateObserver observer) {
  return MakeFingerprintContext("", std::move(observer));
}

Result<std::shared_ptr<ssl::context>> MakeFingerprintPinnedClientContext(
    const std::string& fingerprint, CertificateObserver observer) {
  std::string upper;
  for (char c : fingerprint)
    upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  // 32 bytes: "XX" followed by 31 ":XX".
  bool ok = upper.size() == 95;
  for (size_t i = 0; ok && i < upper.size(); ++i) {
    ok = (i % 3 == 2) ? upper[i] == ':' : std::isxdigit(static_cast<unsigned char>(upper[i])) != 0;
  }
  if (!ok)
    return Fail(InvalidArgument("malformed SHA-256 certificate fingerprint '" + fingerprint + "'"));
  return MakeFingerprintContext(std::move(upper), std::move(observer));
}

}  // namespace wattline::http
