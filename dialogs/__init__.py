"""Conversation state machines (transitions). No Telegram and no SQL in here."""
