"""The WhatsApp channel: the Cloud API's webhook in, the desk's outbox lane out (pywa)."""
