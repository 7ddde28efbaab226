#!/bin/sh
# The runtime of sparklab/spark, installed in a container of the base with no
# network, as root; cluster/images.py commits the container as
# sparklab/spark-runtime:<key> and builds the Spark image (Dockerfile) on it.
# /tmp/build holds what images.py copied in: wheels/, requirements.lock,
# runtime.txt and class_archive.py. It is removed here, so the wheels
# (~550 MB) never reach a layer: the classic builder has no build mounts,
# and a Dockerfile stage that copies them in costs a layer of them and a
# copy of the venv out of it (about a minute here, fuse-overlayfs).
set -eu
build=/tmp/build

# The lock's uv installs, as on the host (./lab): in a venv of its own, so
# /opt/venv holds the runtime alone. --no-index: nothing can be fetched;
# -c: the lock's versions, so the image equals the host venv. The .pyc files
# are compiled here, which matters: user spark cannot write __pycache__
# under /opt/venv, so without them every Python worker would recompile
# pandas/pyspark on start. numpy/pandas/pyarrow test suites (~60 MB) are
# never imported at run time. The base's python3 makes both venvs: once
# /opt/venv exists, python3 on the image's PATH is its own.
python3 -m venv /tmp/uv
python3 -m venv /opt/venv
test -d /opt/venv/lib/python3.11 \
  || { echo "the base's python3 is not 3.11 (SPARK_HOME and the lock assume it)" >&2; exit 1; }
/tmp/uv/bin/pip install -q --no-index --no-cache-dir --disable-pip-version-check \
  --find-links "$build/wheels" -c "$build/requirements.lock" uv
/tmp/uv/bin/uv pip install --python /opt/venv/bin/python --no-index --no-cache --only-binary=:all: \
  --compile-bytecode --find-links "$build/wheels" -c "$build/requirements.lock" -r "$build/runtime.txt"
rm -rf /tmp/uv
site=/opt/venv/lib/python3.11/site-packages
rm -rf "$site"/numpy/*/tests "$site"/numpy/tests "$site"/pandas/tests "$site"/pyarrow/tests

# The directories named volumes mount over start owned by spark, so the
# volumes do too (Docker copies an image directory's ownership into an empty
# volume). /sparklab/app is a read-only bind mount of the jobs.
mkdir -p /opt/spark-conf /opt/spark-work /opt/spark-events /opt/spark-recovery \
  /sparklab/results /sparklab/app /opt/sparklab
chown spark:spark /opt/spark-conf /opt/spark-work /opt/spark-events /opt/spark-recovery /sparklab/results
chmod 2775 /opt/spark-events

# The JVM class archive of Spark's classes (class_archive.py says why): every
# driver and executor JVM maps it instead of loading the jars' classes again;
# beside it, the class path it was written with (entrypoint.sh). PATH,
# SPARK_HOME and the rest are the image's own (images.py, RUNTIME_ENV).
cp "$build/class_archive.py" /opt/sparklab/
python3 /opt/sparklab/class_archive.py /opt/venv/sparklab-classes.jsa

rm -rf "$build" /tmp/hsperfdata_root  # and the JVM's own litter
