"""Benchmarks for the scheduler: synthetic data at scale (`bench.seed`) and the measurements
(`bench.scheduler`). Not shipped: nothing in bot/, handlers/ or storage/ imports this package,
and the image copies only those three folders."""
