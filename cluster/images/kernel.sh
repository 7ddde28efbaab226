#!/bin/sh
# A notebook kernel (the notebook image's python3 kernelspec runs this): the
# Spark application it starts carries a run id of its own and the owner
# "notebook" in its configuration (jobs/runtime/run_tags.py),
# so that `./lab status` lists it and `./lab stop RUN` ends it alone. pyspark
# starts the kernel's JVM with spark-submit's arguments from PYSPARK_SUBMIT_ARGS.
run="notebook-$(date -u +%Y%m%d-%H%M%S)-$$"
export PYSPARK_SUBMIT_ARGS="--conf spark.sparklab.run=$run --conf spark.sparklab.owner=notebook ${PYSPARK_SUBMIT_ARGS:-pyspark-shell}"
exec /opt/venv/bin/python -m ipykernel_launcher "$@"
