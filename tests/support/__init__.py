"""Helpers the tests share. Nothing here is imported by a chapter: a chapter
must run on its own when a reader downloads it."""
