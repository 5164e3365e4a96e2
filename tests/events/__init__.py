"""Tests of lumi.events."""
