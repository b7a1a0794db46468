"""`/new`: the new-ticket form, a package so that it can be cut into modules."""

from handlers.customers.new_ticket.steps import build, register

__all__ = ["build", "register"]
