"""SOS: alerts raised by a box, fanned out to the board and family, escalated until answered.

- `alerts`: store (once per key), acknowledge, resolve, views and monthly figures
- `delivery`: fan-out, escalation and telling the box, claimed in the database; the sweep
- `socket`: the `sos_raise` box handler (store → ack → fan out)
- `board`: the board section on the operator and family pages, and its form actions
- `calls`: the hook through which the video-call feature plugs in
"""
