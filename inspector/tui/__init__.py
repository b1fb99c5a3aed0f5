"""The Textual front-end: the terminal app, its widgets and dialogs, and the
``allocdir-inspector`` command line."""
