"""Build rules of a protocol folder: its I/O-free wire library and its registration."""

def protocol_wire(srcs, hdrs, deps = []):
    """:wire, the protocol's wire code: visible to its package, loadgen and the tests."""
    native.cc_library(
        name = "wire",
        srcs = srcs,
        hdrs = hdrs,
        deps = deps,
        visibility = [
            ":__pkg__",
            "//tests:__subpackages__",
            "//tools/loadgen:__subpackages__",
        ],
    )

def protocol_registration(protocol):
    """:registration, registration.cc linked always; listed once in //server/protocols:all."""
    native.cc_library(
        name = "registration",
        srcs = ["registration.cc"],
        alwayslink = True,
        deps = [protocol, ":wire", "//server/protocols:registry"],
    )
