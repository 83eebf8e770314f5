// The protocol registry: every protocol shoal can speak, by name. A protocol is a folder under
// server/protocols/ whose registration.cc holds one static `Registrar` with its Registration; the
// folder's :registration target is alwayslink and //server/protocols:all collects them, so linking
// :all is what makes the names known. The registry names no protocol itself: the config schema
// takes the valid `listeners[].protocol` names from it, Application and the test server build
// protocols through it.
//
// Threading: registrars run during static initialization (before main); afterwards the registry
// is read-only and may be read from any thread. Lookups are O(protocols).
#ifndef SHOAL_SERVER_PROTOCOLS_REGISTRY_H_
#define SHOAL_SERVER_PROTOCOLS_REGISTRY_H_

#include <memory>
#include <span>
#include <string_view>

#include "core/protocol.h"

namespace shoal::server {
struct Config;
struct ListenerConfig;
}  // namespace shoal::server

namespace shoal::protocols {

// A worker's protocol instance for one listener, which also takes the live settings of a reloaded
// config. Apply runs on the instance's worker thread only (a SIGHUP posts it there); sessions see
// the new settings from their next request on.
class LiveProtocol : public core::Protocol {
 public:
  virtual void Apply(const server::Config& config) = 0;
};

struct Registration {
  std::string_view name;  // the listeners[].protocol spelling: "echo"
  // One instance per worker and listener, from the running config. Called on the main thread
  // before the workers start; the instance is then used on its worker's thread only.
  std::unique_ptr<LiveProtocol> (*make)(const server::Config& config,
                                        const server::ListenerConfig& listener);
  // The libFuzzer target of its wire code: tools/fuzz/build.sh <fuzz_target>,
  // tests/fuzz/<fuzz_target>_fuzzer.cc; empty: none yet.
  std::string_view fuzz_target;
  // One request and how the reply to it starts, under Config::Default(): what the registry's own
  // test sends to every registered protocol.
  std::string_view example_request;
  std::string_view example_reply_prefix;
};

// Defined at namespace scope in a protocol's registration.cc: registers `registration` (whose
// strings must be static) before main. A second registration of a name aborts.
class Registrar {
 public:
  explicit Registrar(const Registration& registration);
};

// The registration of `name`, or nullptr.
const Registration* Find(std::string_view name);
// Every registration, sorted by name.
std::span<const Registration> All();
// Every registered name, sorted: the choices of listeners[].protocol.
std::span<const std::string_view> Names();

}  // namespace shoal::protocols

#endif  // SHOAL_SERVER_PROTOCOLS_REGISTRY_H_
