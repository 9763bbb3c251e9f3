"""Chaos tests: real bot processes under faults, compared with a serial replay (see conftest.py)."""
