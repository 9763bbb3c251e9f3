"""The Telegram edge: configuration, the Application, handlers, the terminal chat and the CLI."""
