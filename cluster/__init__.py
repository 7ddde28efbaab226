"""SparkLab's Compose side: `settings` (.env, the engine check, the compose
command), `lifecycle` (secret, images, up, down, state), `submit` (jobs and
the benchmark in the driver container), `images` (built with no registry) and
`comparison` (the same jobs on every runtime, side by side)."""
