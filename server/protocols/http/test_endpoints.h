// Endpoints that make shoal useful in front of or behind proxies and load balancers, all
// answered without blocking the worker and bounded by config (Response::limits):
//  * GET /bytes/N: N bytes of the pattern in wire.h (AppendTestBytes), which a client verifies
//    from N and each byte's offset alone; N at most limits.max_frame_bytes.
//  * GET /delay/DURATION: 200 "delayed DURATION\n" after DURATION (config syntax: 250ms, 2s,
//    ...), on the worker's timer wheel; DURATION at most limits.max_delay. Requests pipelined
//    behind it are answered after it, in order.
//  * GET /status/CODE: a response with status CODE (200-599) and its reason phrase as the body
//    (none for 204 and 304).
// A malformed or out-of-bounds parameter gets 400 with the reason in the body. Every answer,
// errors included, keeps the connection open. HEAD works for all three.
//
// Threading: the handlers are stateless; any worker.
#ifndef SHOAL_SERVER_PROTOCOLS_HTTP_TEST_ENDPOINTS_H_
#define SHOAL_SERVER_PROTOCOLS_HTTP_TEST_ENDPOINTS_H_

#include "server/protocols/http/router.h"

namespace shoal::http {

void AddTestEndpoints(Router& router);

}  // namespace shoal::http

#endif  // SHOAL_SERVER_PROTOCOLS_HTTP_TEST_ENDPOINTS_H_
