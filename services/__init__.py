"""Application services: use cases that load domain state from storage, apply the domain's rules
and write the result in one transaction. No nextcord here; cogs call these."""
