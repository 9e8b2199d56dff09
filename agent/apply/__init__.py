"""Adapters that change the machine; each tolerates EEXIST/ENOENT by name."""
