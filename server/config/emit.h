// A Config as YAML, walking the schema table: the effective config served at /config, and the
// annotated reference of every key with its default that README.md carries. Pure functions; any
// thread.
#ifndef SHOAL_SERVER_CONFIG_EMIT_H_
#define SHOAL_SERVER_CONFIG_EMIT_H_

#include <string>

#include "server/config/types.h"

namespace shoal::server {

// The config as YAML with every key present, in table order. For any valid config c,
// ParseConfig(ConfigToYaml(c), ...) == c.
std::string ConfigToYaml(const Config& config);

// Config::Default() as YAML with a comment per key: its doc line, the allowed names of a choice,
// and "[restart]" on keys a SIGHUP reload does not apply. Parses back to Config::Default().
std::string ConfigReference();

}  // namespace shoal::server

#endif  // SHOAL_SERVER_CONFIG_EMIT_H_
