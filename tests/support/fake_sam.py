"""Stands in for the `sam` executable in the tests of `make deploy`.

Each call appends one JSON line to the file named by FAKE_SAM_RECORD: its arguments, its
environment, and whether its standard input is /dev/null. It prints one line, as sam prints its
progress, and exits with FAKE_SAM_EXIT_STATUS (0 when unset).
"""

import json
import os
import sys

arguments = sys.argv[1:]
call = {
    "argv": arguments,
    "env": dict(os.environ),
    "stdin_is_devnull": os.path.samestat(os.fstat(0), os.stat(os.devnull)),
}
with open(os.environ["FAKE_SAM_RECORD"], "a") as record:
    record.write(json.dumps(call) + "\n")
print(f"fake sam {arguments[0]}: done")
sys.exit(int(os.environ.get("FAKE_SAM_EXIT_STATUS", "0")))
