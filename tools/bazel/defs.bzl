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

def idea_libraries(deps_by_name, **common):
    """One idea_library per entry of `deps_by_name` (name: its deps), each also with `common`.

    A table keeps a package's plain one-idea libraries one line each.
    """
    for name, deps in deps_by_name.items():
        idea_library(name = name, deps = deps, **common)
