"""The flask commands: management (commands), the development server, demo and scale data,
and the worker that delivers the outbox."""

from __future__ import annotations

from flask import Flask

from app.cli.commands import COMMANDS
from app.cli.dev_server import dev
from app.cli.worker import worker


def register_commands(app: Flask) -> None:
    for command in (dev, worker, *COMMANDS):
        app.cli.add_command(command)
