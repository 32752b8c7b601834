"""The test suite: a package, so that its files import each other's helpers by one name each
(`tests.conftest`, `tests.support...`) and mypy checks them under those names."""
