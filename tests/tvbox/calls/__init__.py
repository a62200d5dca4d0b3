"""Tests of tvbox/calls/."""
