"""Browser tests of the reports; a package, so its conftest does not shadow tests/conftest."""
