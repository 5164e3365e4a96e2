"""Test helpers for apps that use ``lumi``: the pytest plugin and ``responses`` helpers."""
