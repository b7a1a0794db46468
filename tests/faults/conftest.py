"""The flow tests' fixtures (a fake Bot API, settings pointing at it), for the fault tests."""

from tests.flows.conftest import bot_settings, fake

__all__ = ["bot_settings", "fake"]
