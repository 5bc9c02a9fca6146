"""Pieces of the JSON API shared by every app: errors, parsing, auth, paging."""
