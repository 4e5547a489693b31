"""Use cases: each runs in one visible transaction and takes its time from the clock it holds."""
