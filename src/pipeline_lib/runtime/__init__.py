"""Process guards every job needs: thread pools pinned to the rule's threads, a heap that keeps what a batch
frees, a stop when Snakemake is gone.
Layer rule: imports nothing of the package.  Not in any code hash (they cannot change what a rule writes)."""
