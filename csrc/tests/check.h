// The C++ test programs' checks: count failures, print the first ones, report per suite.
#pragma once

#include <cstdio>
#include <functional>
#include <string>

namespace rqlbench::testing {

inline int failures = 0;

inline void check(bool ok, const std::string& what) {
  if (!ok && ++failures <= 30) std::printf("FAILED: %s\n", what.c_str());
}

template <class Exception>
void check_throws(const std::function<void()>& f, const std::string& what) {
  try {
    f();
  } catch (const Exception&) {
    return;
  }
  check(false, what + " did not throw");
}

// The line the sanitizer test looks for, and the program's exit code.
inline int report(const char* suite) {
  std::printf("%s tests %s: %d failed\n", suite, failures == 0 ? "passed" : "FAILED", failures);
  return failures == 0 ? 0 : 1;
}

}  // namespace rqlbench::testing
