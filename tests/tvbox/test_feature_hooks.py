"""Features plug into the box: server pushes reach their handler; unknown pushes are ignored."""

from __future__ import annotations

from protocol import Changed, Revoked, Topic
from tvbox.box import AppViewModel
from tvbox.events import ServerMessage


def test_a_registered_feature_gets_its_pushes(paired_vm: AppViewModel) -> None:
    got: list[Changed] = []
    paired_vm.on_message(Changed, got.append)
    push = Changed(topic=Topic.DEVICE, elder_id=1, data={"x": 1})
    paired_vm.handle_link_event(ServerMessage(push))
    assert got == [push]


def test_pushes_nobody_handles_change_nothing(paired_vm: AppViewModel) -> None:
    before = paired_vm.snapshot()
    paired_vm.handle_link_event(ServerMessage(Revoked(message="not for a feature")))
    assert paired_vm.snapshot() == before
