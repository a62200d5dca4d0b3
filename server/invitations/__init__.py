"""Family invitations: a relative invited by e-mail joins an elder's family on Anxin."""
