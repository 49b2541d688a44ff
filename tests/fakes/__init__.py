"""In-memory fakes of every port (services/*/ports.py, services/common/ports.py), for handler unit tests.

Each fake keeps plain dicts a test can read, and calls `Faults.write` before every write, so a test can make the
process "die" between any two writes (tests/fakes/faults.py). tests/contract runs one suite per store port
against its fake and against FerretDB, so the fakes cannot drift from the real adapters.
"""
