"""WebSocket endpoints for boxes (`/ws/box`) and logged-in pages (`/ws/web`), and their hub."""
