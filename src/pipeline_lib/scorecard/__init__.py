"""The scorecard: the papers' published numbers against the studies' tables.  Layer rule: imports the
studies and every layer below them (it reads each study's tables through that study's own code)."""
