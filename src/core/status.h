// Status and Result<T>: how every domain and storage API reports failure.
//
// Codes follow abseil's canonical set; the code tells the caller what to do next:
//   kUnavailable / kDeadlineExceeded  retry with backoff (meter offline, uplink down)
//   kFailedPrecondition               don't retry until configuration changes
//   kInvalidArgument                  the input was bad; fix the input
//   kNotFound / kAlreadyExists        the named thing is missing / already there
//   kUnauthenticated / kPermissionDenied  who the caller is / what the caller may do
//   kDataLoss                         stored data is damaged: raise a system alarm
// Thread-safety: value types, no shared state.
#pragma once

#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <utility>

namespace wattline {

enum class Code : int {
  kOk = 0,
  kCancelled = 1,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kOutOfRange = 11,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// Name of a code as used in logs and JSON error bodies ("invalid_argument").
std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid_argument: bad CRC in frame".
  std::string ToString() const;
  // A machine-readable refinement of the code for clients that must act on it (the API's
  // "reason", e.g. "totp_required"); empty for most errors.
  const std::string& reason() const { return reason_; }
  Status&& WithReason(std::string reason) && {
    reason_ = std::move(reason);
    return std::move(*this);
  }

 private:
  Code code_ = Code::kOk;
  std::string message_;
  std::string reason_;
};

inline Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
inline Status DeadlineExceeded(std::string m) { return {Code::kDeadlineExceeded, std::move(m)}; }
inline Status FailedPrecondition(std::string m) {
  return {Code::kFailedPrecondition, std::move(m)};
}
inline Status DataLoss(std::string m) { return {Code::kDataLoss, std::move(m)}; }
inline Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }
inline Status Unauthenticated(std::string m) { return {Code::kUnauthenticated, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
inline Status ResourceExhausted(std::string m) { return {Code::kResourceExhausted, std::move(m)}; }

// Result<T> holds a T or a non-OK Status. Return `Fail(status)` for the error case.
template <typename T>
using Result = tl::expected<T, Status>;

inline tl::unexpected<Status> Fail(Status s) { return tl::unexpected<Status>(std::move(s)); }

}  // namespace wattline
