"""Short full-screen notices ("coming soon", "voice is off"); OK or Back goes home."""
