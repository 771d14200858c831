"""Sparkgate's declarative MLlib training job: the entry point Spark runs.

Usage: train.py <spec.json URI>

The code is the sparkgate_jobs package (sparkgate_jobs/training.py says what the job
does), which the gateway ships beside this file as one zip with `--py-files`.
"""

import sys

from sparkgate_jobs.training import main

if __name__ == "__main__":
    sys.exit(main(sys.argv))
