"""Registers the ``distributed`` marker: tests that start worker processes talking over 127.0.0.1."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "distributed: starts tf.distribute worker processes on 127.0.0.1 (bounded by timeouts; "
        "run in CI; deselect with -m 'not distributed')",
    )
