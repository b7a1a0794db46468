"""The support desk bot: settings, application wiring and the domain."""
