"""Pure media code: probe, transcribe, select, render. No database, no Redis.

Every function here takes paths and plain data (see ``types``) and returns plain data, so
the same code runs inside arq jobs, the ``clipflow process`` command and the benchmarks.
"""
