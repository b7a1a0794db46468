"""The desk's benchmark (see run.py)."""
