"""The playground: try ladderbot without a Discord token.

``python bot.py playground`` (or ``./run.sh playground``) runs the real bot — the same
``build_bot``, cogs, pipeline and command log as ``python bot.py`` — against the local Discord
(``localdiscord``) on 127.0.0.1, with its own SQLite file and short ladder timers, and serves a
page where one person plays every side: alice, bob, more players, simulated players and an admin.

=================  ===========================================================================
``runner.py``      the command line; ``Playground``: local Discord + the bot + reset, one loop
``app.py``         the page and its JSON + Server-Sent-Events API, acting as each user
``views.py``       what the page is sent: messages, commands and modals as plain JSON
``simulated.py``   simulated players who set up, queue, confirm and report on their own
``static/``        the page: one HTML file, a script and a style sheet (no build step)
=================  ===========================================================================

It never reads ``DISCORD_TOKEN`` nor ``.env`` and opens no connection off 127.0.0.1.
"""
