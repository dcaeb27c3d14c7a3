// TLS set-up for the HTTPS server and the HTTPS client.
// Thread-safety: the functions are safe to call from any thread; the returned contexts are
// shared read-only by all connections after set-up.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace wattline::http {

// Makes sure `cert_path` and `key_path` exist. When both are missing, generates a self-signed
// ECDSA P-256 certificate valid for `hostnames` (DNS names or IP addresses) for 10 years and
// writes the key with mode 0600. When exactly one exists, returns kFailedPrecondition (we never
// overwrite a half-configured pair). Returns kInternal when OpenSSL or the file system fails.
Status EnsureSelfSignedCertificate(const std::string& cert_path, const std::string& key_path,
                                   const std::vector<std::string>& hostnames);

// A server context: TLS 1.2 and 1.3 only, forward-secret AEAD ciphers only, the given
// certificate chain and key. Returns kInvalidArgument when they cannot be loaded.
Result<std::shared_ptr<boost::asio::ssl::context>> MakeServerContext(const std::string& cert_path,
                                                                     const std::string& key_path);

// A client context that trusts exactly the certificate(s) in `trusted_cert_path` (pinning: the
// connector trusts the server certificate it was given, not the system store) and verifies the
// peer. Returns kInvalidArgument when the file cannot be loaded.
Result<std::shared_ptr<boost::asio::ssl::context>> MakePinnedClientContext(
    const std::string& trusted_cert_path);

// SHA-256 fingerprint of a certificate (of its DER encoding) as shown to people: 32 upper-case
// hex bytes separated by colons ("AB:CD:..."), the form `openssl x509 -fingerprint -sha256`
// prints.
// Returns the fingerprint of the first certificate in the PEM file `cert_path`, or
// kInvalidArgument when the file cannot be read or holds no certificate.
Result<std::string> CertificateFingerprintFromFile(const std::string& cert_path);

// Called during each TLS handshake with the fingerprint of the certificate the server presented.
using CertificateObserver = std::function<void(const std::string& fingerprint)>;

// Trust on first use: a client context that accepts whatever certificate the server presents
// (no chain, name or expiry check) and reports its fingerprint to `observer`. Only for the
// connector's first contact with a server; from then on it pins with
// MakeFingerprintPinnedClientContext.
std::shared_ptr<boost::asio::ssl::context> MakeTrustOnFirstUseClientContext(
    CertificateObserver observer);

// A client context that accepts exactly the server certificate with this fingerprint (in the
// form above, case-insensitive) and nothing else; host name, chain and expiry are not checked:
// the pin is stronger than any of them. `observer`, when set, sees every presented fingerprint
// (to say which certificate was refused). kInvalidArgument for a malformed fingerprint.
Result<std::shared_ptr<boost::asio::ssl::context>> MakeFingerprintPinnedClientContext(
    const std::string& fingerprint, CertificateObserver observer = nullptr);

}  // namespace wattline::http
