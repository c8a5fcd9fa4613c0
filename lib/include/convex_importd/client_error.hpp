#pragma once

#include <system_error>
#include <type_traits>

#include <boost/system/error_code.hpp>

namespace convex_importd {

/// Errors the HTTP client raises itself: one timeout per phase of a request, so that a log
/// line or a results row says which step of the exchange the deployment did not answer in.
enum class client_error {
    resolve_timeout = 1,
    connect_timeout,
    tls_timeout,
    write_timeout,
    read_timeout,
};

const boost::system::error_category& client_category();

inline boost::system::error_code make_error_code(client_error value) {
    return {static_cast<int>(value), client_category()};
}

}  // namespace convex_importd

template <>
struct boost::system::is_error_code_enum<convex_importd::client_error> : std::true_type {};
