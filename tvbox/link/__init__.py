"""The server link and pairing: `ServerLink` (HTTP pairing, `/ws/box`, heartbeats, outbox
pump), the events it reports, and the pairing screen with its controller."""
