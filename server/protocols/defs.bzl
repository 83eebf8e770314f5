"""Build rules of a protocol folder: its I/O-free wire library, its Protocol, its registration."""

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

def protocol_library(name, deps = []):
    """:`name`, the Protocol and its sessions (`name`_protocol.cc/.h) on the session interface."""
    native.cc_library(
        name = name,
        srcs = [name + "_protocol.cc"],
        hdrs = [name + "_protocol.h"],
        deps = [
            ":wire",
            "//core:session",
            "//server:log_rate_limit",
            "//server/config:schema",
            "//server/protocols:registry",
            "@system//:spdlog",
        ] + deps,
    )
