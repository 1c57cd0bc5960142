"""End-to-end tests: the real nextcord client (and the real bot) against a fake Discord."""
