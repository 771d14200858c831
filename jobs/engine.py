"""Sparkgate's warm engine: the entry point of one long-running Spark application that runs
a tenant's training and scoring jobs one after another, in-process.

Usage: engine.py <gateway base URL> <engine id> <token file URI>

The code is the sparkgate_jobs package (sparkgate_jobs/engine.py says how it asks the
gateway for jobs), which the gateway ships beside this file as one zip with `--py-files`.
"""

import sys

from sparkgate_jobs.engine import main

if __name__ == "__main__":
    sys.exit(main(sys.argv))
