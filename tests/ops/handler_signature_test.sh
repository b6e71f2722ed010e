#!/usr/bin/env bash
# A handler with a signature nanocaf does not take stops the build with one error, the
# static_assert that lists the accepted forms (it used to be 20-70 lines of template errors).
#   handler_signature_test.sh CXX SOURCE_DIR
set -u
cxx=$1 src=$2
source "$(dirname "$0")/common.sh"
failed=0 passed=0
check() { # name, handler expression
  cat > "$work/bad.cpp" <<CPP
#include <nanocaf/component.hpp>
struct bad : nanocaf::component {
  void setup() override { handle("h", $2); }
};
int main() { bad b; b.setup(); }
CPP
  "$cxx" -std=c++17 -fsyntax-only -I"$src/actors/include" -I"$src/proto/codec/include" \
    "$work/bad.cpp" > "$work/out.txt" 2>&1
  local rc=$? errors
  errors=$(grep -c "error:" "$work/out.txt")
  if [ $rc -ne 0 ] && [ "$errors" -eq 1 ] && grep -q "nanocaf: a handler is" "$work/out.txt"; then
    passed=$((passed + 1))
  else
    echo "FAIL $1: exit $rc, $errors errors:"; head -20 "$work/out.txt"; failed=$((failed + 1))
  fi
}
check "session by value" '[](nanocaf::session, const nanocaf::bytes&) {}'
check "no session" '[](const nanocaf::bytes&) {}'
check "three arguments" '[](nanocaf::session&, int, int) {}'
check "generic lambda" '[](auto&, const auto&) {}'
check "not callable" '42'
# And the accepted forms compile.
cat > "$work/good.cpp" <<'CPP'
#include <nanocaf/component.hpp>
struct good : nanocaf::component {
  void setup() override {
    handle("a", [](nanocaf::session&) {});
    handle("b", [](const nanocaf::session&, const nlohmann::json& j) { return j; });
    handle("c", &good::member);
  }
  nanocaf::bytes member(nanocaf::session&, const nanocaf::bytes& b) { return b; }
};
int main() { good g; g.setup(); }
CPP
if "$cxx" -std=c++17 -fsyntax-only -I"$src/actors/include" -I"$src/proto/codec/include" "$work/good.cpp" > "$work/out.txt" 2>&1; then
  passed=$((passed + 1))
else
  echo "FAIL accepted forms:"; head -20 "$work/out.txt"; failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
