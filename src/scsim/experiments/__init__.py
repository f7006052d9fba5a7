"""Experiments over many runs: sweeps on Dask (``scsim sweep``), their designs, measures,
results and reports.

- ``spec``: the sweep file (base scenario, parameters, design, replicates, outcomes, size);
- ``design``: the points of a design (grid, random, Latin hypercube, Sobol, Morris);
- ``measures``: outcomes as SQL over one run's views, checked before any run starts;
- ``tasks``: one (point, replicate) as a task named by a hash of what defines it;
- ``executor``: a Dask client (a local cluster, or a scheduler by address) and the loop that
  runs the missing tasks and stores each result atomically;
- ``sweep``: the sweep directory (manifest, task results, ``results.parquet``).
"""
