"""SOS: alerts raised by a box, fanned out to the board and family, escalated until answered.

- `alerts`: store (once per key), acknowledge, resolve, views and monthly figures
- `delivery`: fan-out, escalation and telling the box, claimed in the database; the sweep
- `intake`: the one path of an SOS from a box (socket and sensor route): store → answer → fan out
- `socket`: the `sos_raise` box handler
- `check_in`: the daily check-in rule, sent to a box when it changes and on connect
- `routes` / `pages`: the JSON API, and the board section on the operator and family pages
  with its form actions
- `feature`: what the feature adds to the server (`server.features.Feature`)
"""
