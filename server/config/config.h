// The shoal configuration, all of it: value types, units, the strict YAML reader, validation and
// emission. schema.h is the table they all walk; see each header for its contract.
#ifndef SHOAL_SERVER_CONFIG_CONFIG_H_
#define SHOAL_SERVER_CONFIG_CONFIG_H_

#include "server/config/emit.h"      // IWYU pragma: export
#include "server/config/reader.h"    // IWYU pragma: export
#include "server/config/types.h"     // IWYU pragma: export
#include "server/config/units.h"     // IWYU pragma: export
#include "server/config/validate.h"  // IWYU pragma: export

#endif  // SHOAL_SERVER_CONFIG_CONFIG_H_
