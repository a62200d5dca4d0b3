"""Tests of tvbox/ui/."""
