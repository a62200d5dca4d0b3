"""Tests of tvbox/listening/."""
