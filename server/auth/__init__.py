"""Log-in and log-out: the token API (`/api/auth/*`) and the log-in page."""
