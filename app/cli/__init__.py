"""The flask commands: management (commands), the development server, demo and scale data."""

from __future__ import annotations

from flask import Flask

from app.cli.commands import COMMANDS
from app.cli.dev_server import dev


def register_commands(app: Flask) -> None:
    for command in (dev, *COMMANDS):
        app.cli.add_command(command)
