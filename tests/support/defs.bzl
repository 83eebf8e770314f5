"""Build rules for tests on the shared support in //tests/support."""

load("//tools/bazel:defs.bzl", "idea_library")

def support_library(name, deps = [], **kwargs):
    """A test helper library of one idea: `name`.h (and `name`.cc unless header_only), test-only."""
    idea_library(name = name, testonly = True, deps = deps, **kwargs)

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

def support_tests(tests, **common):
    """One support_test per entry of `tests` (name: its own attributes), each also with `common`.

    A table keeps a folder's tests one line each; an entry's attributes override `common`.
    """
    for name, attributes in tests.items():
        support_test(name = name, **dict(common, **attributes))
