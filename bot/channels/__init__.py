"""The channels the desk speaks through: one package per channel, adapters only."""
