"""A stand-in for the `tutor` package (not installable here): only what the
plugin imports. The plugin test puts this directory first on sys.path."""
