"""Tests of tvbox/link/."""
