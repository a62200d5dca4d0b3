"""Health: the liveness and readiness checks (`/healthz`)."""
