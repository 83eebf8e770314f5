"""Build rules shared by the repository's own packages."""

def idea_library(name, deps = [], header_only = False, **kwargs):
    """A library of one idea: `name`.h, with `name`.cc unless `header_only`."""
    native.cc_library(
        name = name,
        srcs = [] if header_only else [name + ".cc"],
        hdrs = [name + ".h"],
        deps = deps,
        **kwargs
    )
