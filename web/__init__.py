"""The website: an aiohttp application served from the bot's process (see web/app.py)."""
