"""The project file (routegate.yaml) and ``routegate check``: what a pull request changed and what to gate."""
