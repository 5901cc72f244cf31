"""Plumbing every layer may use: bounded reading of untrusted files, text made
safe for terminals and line formats, the one number and duration formatter,
streams and --output that pipes can trust, private cache files, signals."""
