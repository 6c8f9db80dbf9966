"""`micrograde merge OUT1 OUT2 ... --out OUT`: combine the output folders of `grade --shard` runs."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader.cli import UsageError
from grader.commands.options import add_assignment_options, assignment_from

HELP = "Combine the output folders of sharded `micrograde grade` runs into one, with one gradebook and summary."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("parts", nargs="+", type=Path, metavar="OUTDIR", help="output folders of `micrograde grade`")
    parser.add_argument("--out", type=Path, required=True, help="the combined output folder")
    add_assignment_options(parser)


def run(args: argparse.Namespace) -> int:
    from grader.batch.rebuild import rebuild
    from grader.batch.store import write_atomic
    from grader.batch.summary import table_text

    assignment = assignment_from(args)
    for part in args.parts:
        if not (part / "students").is_dir():
            raise UsageError(f"{part} is not an output folder of `micrograde grade` (no students/ in it)")
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    seen: dict[str, Path] = {}
    for part in args.parts:
        for folder in sorted(p for p in (part / "students").iterdir() if p.is_dir()):
            if folder.name in seen and seen[folder.name] != part:
                print(f"micrograde merge: {folder.name} is in {seen[folder.name]} and {part}; keeping {part}",
                      file=sys.stderr)
            seen[folder.name] = part
            target = out / "students" / folder.name
            if target.resolve() == folder.resolve():
                continue
            files = {f.name: f for f in sorted(folder.iterdir()) if f.is_file() and not f.name.startswith(".")}
            # A file the shard no longer has (output.txt of an earlier grading) must not outlive it here.
            if target.is_dir():
                for old in target.iterdir():
                    if old.is_file() and not old.name.startswith(".") and old.name not in files:
                        old.unlink()
            for name, file in files.items():
                write_atomic(target / name, file.read_bytes())
    copy_policy(args.parts, out)
    table = rebuild(out, assignment)
    sys.stdout.write(table_text(table))
    print(f"merged {len(seen)} students from {len(args.parts)} folders into {out}")
    return 0


def copy_policy(parts: list[Path], out: Path) -> None:
    """The course policy the shards were graded with (the last one saved wins), so the merged gradebook
    applies it too."""
    from grader.batch.store import write_atomic
    from grader.batch.summary import POLICY_JSON

    saved = [part / POLICY_JSON for part in parts if (part / POLICY_JSON).is_file()]
    if saved and saved[-1].resolve() != (out / POLICY_JSON).resolve():
        write_atomic(out / POLICY_JSON, saved[-1].read_bytes())
