#ifndef SHOAL_SERVER_VERSION_H_
#define SHOAL_SERVER_VERSION_H_

namespace shoal::server {

inline constexpr char kVersion[] = "0.1.0";

}  // namespace shoal::server

#endif  // SHOAL_SERVER_VERSION_H_
