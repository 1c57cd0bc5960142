"""Serve the website from the bot's own process: started and stopped with the bot by bot.py."""

from __future__ import annotations

import logging

from aiohttp import web

log = logging.getLogger(__name__)

# On a stop, requests already running get this long to finish before their connections close.
SHUTDOWN_TIMEOUT_SECONDS = 5.0


class WebStartError(RuntimeError):
    """The site cannot listen where it was told to; the message is one line naming WEB_PORT."""


class WebServer:
    """One aiohttp application on one TCP address: `start`, then `stop` (which drains)."""

    def __init__(self, app: web.Application, host: str, port: int) -> None:
        self.app = app
        self.host = host
        self.requested_port = port
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        """The port listened on (the one the OS chose when WEB_PORT is 0)."""
        if self._port is None:
            raise RuntimeError("the web server is not started")
        return self._port

    @property
    def url(self) -> str:
        """The local address, for the log and tests."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    async def start(self) -> None:
        """Listen; WebStartError if the address is taken or cannot be used."""
        runner = web.AppRunner(
            self.app,
            access_log=None,
            handle_signals=False,
            shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS,
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.requested_port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise WebStartError(
                f"the website cannot listen on {self.host}:{self.requested_port} "
                f"(WEB_HOST, WEB_PORT): {exc.strerror or exc}"
            ) from exc
        self._runner = runner
        self._port = runner.addresses[0][1] if runner.addresses else self.requested_port
        log.info("Website listening on %s", self.url)

    async def stop(self) -> None:
        """Stop listening, let running requests finish (up to the timeout), close the rest."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
            log.info("Website stopped")
