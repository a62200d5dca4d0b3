"""Tests of tvbox/sos/."""
