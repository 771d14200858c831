"""Sparkgate's PySpark jobs as one package, shipped to Spark as one zip with `--py-files`.

jobs/train.py and jobs/score.py are thin entry points that call `training.main` and
`scoring.main`; jobs/engine.py, a warm engine, is a long-running Spark application that runs
the same `training.work` and `scoring.work` for the jobs the gateway hands it (`engine.main`).

  errors            SpecError: a bad spec or bad data (a SPARKGATE_ERROR line, error.json)
  algorithms        the MLlib algorithms (name → task, estimator), the options each takes
  spec              the training spec's rules: the task, the missing-value policy, options
  storage           reading the input data; small files through Hadoop's FileSystem
  preparation       missing values, the label, the rows the model may see
  features          the feature stages: impute, index, one-hot, assemble, scale
  evaluation        metrics, confusion matrix, curves, residuals, coefficients
  cross_validation  k folds: the grid search, or every metric as mean ± std
  training          train(spark, spec): fit, evaluate, save the model and metrics.json
  scoring           score(spark, spec): a saved model on every row of a dataset
  runner            spec.json in, one JSON line out; SPARKGATE_ERROR, error.json, exit code 2
  engine            a warm engine: poll the gateway for jobs, run them, report their end

The gateway zips every *.py file of this folder (src/training/job-package.ts), so this
package holds Python files only, and its __init__ imports nothing (not even pyspark).
"""
