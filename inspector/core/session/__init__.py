"""The reader session: what a key does to an open log, for every front-end."""
