"""Performance benchmarks of the SDK (run with ``nox -s bench`` or ``python -m benchmarks``).

Each ``bench_*.py`` module has a ``main()`` that prints its figures; nothing
here is asserted by the test suite.
"""
