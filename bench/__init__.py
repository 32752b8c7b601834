"""The benchmark behind `make bench` and `make bench-smoke`; `benchmark` runs it and says what it
measures and how.

- `contenders`: the project, the floor and Flask, each in its own virtualenv under .bench/, and
  how a measuring process of one is run (`drivers/`, the scripts those processes run);
- `events`: every event the benchmark hands a contender, signed with its own token;
- `moto_server`: AWS on loopback, for the runs that reach SSM, SQS or DynamoDB;
- what is measured: `webhook` (cold and warm, against the references), `later_replies`,
  `worker`, `journey` (what a developer waits for);
- `report`: the figures' shape, and the tables `make bench` prints and writes to
  docs/benchmark.md.

Never deployed; `references/` holds the other contenders' code, as their authors would write it.
"""
