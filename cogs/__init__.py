"""Discord glue: nextcord cogs, views and modals that parse an interaction, call the domain and
respond. Every slash command passes through `cogs.pipeline`; every error reaches the player
through `cogs.responses`."""
