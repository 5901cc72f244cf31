"""The judge: one row per API object (rows), the verdict of a run (report), and
judging with time (policy, state, timing)."""
