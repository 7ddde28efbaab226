"""SparkLab's Docker side: the images (`cluster.images`) and the Compose
stack (`cluster.stack`): bring it up, check it, submit jobs to it."""
