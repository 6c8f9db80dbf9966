# Red team: top-level code after the template's definitions. None of it may run: each statement would
# create a marker file, load the reference, exit, or swap the graded classes for fakes.
import os
import sys

os.system("touch /tmp/micrograde-redteam-{run}-single_file_toplevel-system")
open("/tmp/micrograde-redteam-{run}-single_file_toplevel-open", "w").close()
exec(open("{repo}/reference/micrograd/engine.py").read())  # noqa: S102, SIM115
with open("/tmp/micrograde-redteam-{run}-single_file_toplevel-with", "w") as marker:
    marker.write("ran")
if __name__ in ("__main__", "submission"):
    open("/tmp/micrograde-redteam-{run}-single_file_toplevel-main", "w").close()
Value = type("Value", (), {"__init__": lambda self, data: sys.exit(0)})
sys.exit(0)
