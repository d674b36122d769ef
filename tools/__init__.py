"""The book's tools, run from the repository's root as modules:
`python -m tools.nbtool` (stamp, normalise, check), `python -m tools.refresh`.
tools/i18n.py, tools/builtin_layers.py and tools/supported_python.py also
run as plain scripts; tools/cells/ holds shared cells, not modules."""
