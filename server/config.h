// Forwarding header: the configuration lives in server/config/ (config.h there lists its parts).
#ifndef SHOAL_SERVER_CONFIG_H_
#define SHOAL_SERVER_CONFIG_H_

#include "server/config/config.h"  // IWYU pragma: export

#endif  // SHOAL_SERVER_CONFIG_H_
