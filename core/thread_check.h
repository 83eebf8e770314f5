// Loop-thread assertions (muduo's assertInLoopThread): SHOAL_ASSERT_IN_LOOP_THREAD(loop) aborts
// with a message when a loop-only entry point runs on another thread than `loop`'s.
//
// Active in the sanitizer builds (--config=asan/tsan) and in unoptimized builds; compiled out
// entirely in the optimized build (the default here, which does not define NDEBUG, so NDEBUG is
// not the switch). -DSHOAL_THREAD_CHECKS forces them on in any build.
#ifndef SHOAL_CORE_THREAD_CHECK_H_
#define SHOAL_CORE_THREAD_CHECK_H_

#include <cstdio>
#include <cstdlib>

#if defined(SHOAL_THREAD_CHECKS) || defined(__SANITIZE_ADDRESS__) || \
    defined(__SANITIZE_THREAD__) || !defined(__OPTIMIZE__)
#define SHOAL_THREAD_CHECKS_ENABLED 1
#else
#define SHOAL_THREAD_CHECKS_ENABLED 0
#endif

namespace shoal::core::internal {

[[noreturn]] inline void LoopThreadCheckFailed(const char* file, int line, const char* function) {
  std::fprintf(stderr, "%s:%d: %s called off its event loop's thread\n", file, line, function);
  std::abort();
}

}  // namespace shoal::core::internal

#if SHOAL_THREAD_CHECKS_ENABLED
#define SHOAL_ASSERT_IN_LOOP_THREAD(loop)                                                   \
  do {                                                                                      \
    if (!(loop).InLoopThread()) {                                                           \
      ::shoal::core::internal::LoopThreadCheckFailed(__FILE__, __LINE__, __func__);         \
    }                                                                                       \
  } while (false)
#else
#define SHOAL_ASSERT_IN_LOOP_THREAD(loop) \
  do {                                    \
  } while (false)
#endif

#endif  // SHOAL_CORE_THREAD_CHECK_H_
