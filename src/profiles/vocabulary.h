// The fixed vocabulary of signal names a profile may use, so that every meter's "power" is the
// same signal on the server. Units are implied by the name (V, A, W, var, VA, Hz, Wh, varh,
// VAh, %, dimensionless); profiles state them for display.
// Thread-safety: constant data.
#pragma once

#include <string_view>

namespace wattline::profiles {

// True when `name` is in the vocabulary (including the identity names).
bool IsKnownSignal(std::string_view name);

// True for serial_number, firmware_version and model_name: identity data, not readings.
bool IsIdentitySignal(std::string_view name);

}  // namespace wattline::profiles
