// TLS set-up for the HTTPS server and the HTTPS client.
// Thread-safety: the functions are safe to call from any thread; the returned contexts are
// shared read-only by all connections after set-up.
#pragma once

#include <boost/asio/ssl/context.hpp>
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

}  // namespace wattline::http
