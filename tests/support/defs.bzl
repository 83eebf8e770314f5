"""Build rules for tests on the shared support in //tests/support."""

def support_library(name, deps = [], **kwargs):
    """A test helper library of one idea: `name`.cc and `name`.h, test-only."""
    native.cc_library(
        name = name,
        testonly = True,
        srcs = [name + ".cc"],
        hdrs = [name + ".h"],
        deps = deps,
        **kwargs
    )

def support_test(name, support = [], deps = [], srcs = None, **kwargs):
    """A gtest cc_test (`name`.cc) on the helper families named in `support` (in //tests/support).

    A family that another listed family depends on comes with it and need not be named.
    """
    native.cc_test(
        name = name,
        srcs = srcs if srcs != None else [name + ".cc"],
        deps = ["//tests/support:" + s for s in support] + deps + ["@system//:gtest_main"],
        **kwargs
    )
