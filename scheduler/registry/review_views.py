"""Views of the registry (see the module docstring of each file)."""
