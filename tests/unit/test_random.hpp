#pragma once

#include <cstddef>
#include <cstdint>

namespace convex_importd::testing {

/// Deterministic pseudo-random numbers (xorshift64) for generated test inputs: the same
/// inputs on every run, so that a failure can be run again.
class test_random {
public:
    explicit test_random(std::uint64_t seed) : state_(seed) {}

    /// A number from 0 to `limit` - 1.
    std::size_t below(std::size_t limit) {
        state_ ^= state_ << 13;
        state_ ^= state_ >> 7;
        state_ ^= state_ << 17;
        return static_cast<std::size_t>(state_ % limit);
    }

private:
    std::uint64_t state_;
};

}  // namespace convex_importd::testing
