"""What the tests share: plain helpers and constants, imported by the tests.
Shared fixtures live in the nearest common conftest.py, found by pytest."""
