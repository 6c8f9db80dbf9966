"""`micrograde grade SUBMISSIONS --out OUTDIR`: grade a whole class in parallel, resumably.

Writes OUTDIR/students/<id>/{report.json,report.md}, gradebook.csv, summary.md, summary.html and plots,
then prints a student / score / status table. See docs/batch.md.
"""
from __future__ import annotations

import argparse
import contextlib
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path

from grader.cli import UsageError
from grader.commands.limits import add_limit_options, limits_from
from grader.commands.options import add_assignment_options, assignment_from

EXIT_INTERRUPTED = 130

HELP = "Grade a folder, zip or LMS export of submissions in parallel; write reports, a gradebook and a summary."


def configure(parser: argparse.ArgumentParser) -> None:
    from grader.batch.submissions import LAYOUTS

    parser.add_argument("submissions", type=Path, help="folder (or .zip) of submissions, or a Gradescope, Canvas "
                                                       "or GitHub Classroom export")
    parser.add_argument("--out", type=Path, required=True, help="output folder (created if needed)")
    parser.add_argument("-j", "--jobs", type=int, default=0, help="worker processes (default: all cores)")
    parser.add_argument("--force", action="store_true", help="regrade submissions whose reports are up to date")
    add_assignment_options(parser)
    parser.add_argument("--layout", choices=LAYOUTS, default="auto", help="export layout (default: detect)")
    parser.add_argument("--policy", type=Path, metavar="DIR",
                        help="folder holding course-policy.toml, extensions.csv, overrides.csv "
                             "(default: SUBMISSIONS/.micrograde/, or the folder holding a zip of submissions)")
    add_limit_options(parser)
    add_scaleout_options(parser)


def add_scaleout_options(parser: argparse.ArgumentParser) -> None:
    """Where the work runs: `--shard` picks this machine's slice of the class, `--executor` what grades it."""
    parser.add_argument("--shard", metavar="K/N", help="grade only the K-th of N slices (every N-th id, sorted); "
                                                       "`slurm` or `k8s:N` read the job array's or Indexed "
                                                       "Job's index")
    parser.add_argument("--executor", choices=("local", "dask"), default="local",
                        help="local worker processes (default), or a Dask distributed cluster "
                             "(pip install 'micrograde[dask]')")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="the Dask scheduler to use with --executor dask "
                                                               "(default: a LocalCluster of -j workers)")


def executor_from(args: argparse.Namespace, jobs: int):
    """None for the default local workers, or a started Dask executor; bad options are a usage error."""
    if args.scheduler and args.executor != "dask":
        raise UsageError("--scheduler needs --executor dask")
    if args.executor != "dask":
        return None
    from grader.batch.executors import DaskExecutor, DaskUnavailable

    try:
        return DaskExecutor(jobs, args.scheduler)
    except DaskUnavailable as exc:
        raise UsageError(str(exc)) from None


@contextlib.contextmanager
def terminate_as_interrupt():
    """SIGTERM (`kill`, a cancelled CI job, `timeout`) stops the run the way Ctrl-C does: what finished is
    kept, the gradebook is rebuilt from it, and the rerun continues. Without this, the default action would
    end the process before the gradebook is rebuilt."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(_signum, _frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run(args: argparse.Namespace) -> int:
    from grader.batch.policy import misplaced_policy_files, policy_folder
    from grader.batch.progress import Progress
    from grader.batch.rebuild import rebuild
    from grader.batch.runner import default_jobs, grade_entries
    from grader.batch.store import StudentStore, content_hash, grader_key
    from grader.batch.submissions import BatchInputError, find_submissions, parse_shard, shard, unpack_class_zip
    from grader.batch.summary import table_text

    limits = limits_from(args)
    if args.jobs < 0:
        raise UsageError("-j must be a positive number of worker processes")
    assignment = assignment_from(args)
    source = args.submissions
    if not source.exists():
        raise UsageError(f"{source} does not exist")
    if source.is_file() and source.suffix.lower() != ".zip":
        raise UsageError(f"{source} is a single file; give a folder or a .zip of submissions "
                         "(grade one submission with `micrograde check`)")
    out = args.out
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a folder")
    workdir = Path(tempfile.mkdtemp(prefix="micrograde-batch-"))
    try:
        try:
            slice_ = parse_shard(args.shard) if args.shard else None
            root = unpack_class_zip(source, workdir / "unpacked") if source.is_file() else source
            layout, everyone = find_submissions(root, workdir, args.layout, exclude=(out,))
            entries = shard(everyone, *slice_) if slice_ else everyone
        except BatchInputError as exc:
            raise UsageError(str(exc)) from None
        policy = course_policy(args.policy or policy_folder(source), {e.id for e in everyone},
                               explicit=args.policy is not None)
        for misplaced in [] if args.policy else misplaced_policy_files(source):
            print(f"micrograde grade: {misplaced} is not read as the course's (a hand-in could carry that name): "
                  f"course files go in {policy_folder(source)}/ or the folder given by --policy", file=sys.stderr)
        out.mkdir(parents=True, exist_ok=True)
        save_policy(out, policy)
        store, key = StudentStore(out), grader_key(assignment)
        for entry in entries:
            store.save_info(entry.id, entry.info)
        hashes = {e.id: content_hash(e.path) for e in entries}
        todo = [e for e in entries if args.force or not store.is_current(e.id, hashes[e.id], key)]
        jobs = args.jobs or default_jobs()
        executor = executor_from(args, jobs)
        if executor is not None:
            jobs = executor.capacity
        print(f"{count_line(entries, everyone, args.shard)} ({layout} layout), {len(todo)} to grade, "
              f"{len(entries) - len(todo)} unchanged; {jobs} worker{'s' * (jobs != 1)}", file=sys.stderr)
        progress = Progress(len(todo))
        reached: list[str] = []

        errors: list[str] = []

        def save(entry, result, _seconds):
            reached.append(entry.id)
            if result.status == "error":
                errors.append(entry.id)
            store.save(entry.id, result, hashes[entry.id], key)
            progress.advance(entry.id)

        interrupted = False
        try:
            with terminate_as_interrupt():
                grade_entries(todo, assignment, jobs, save, limits=limits, executor=executor)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            progress.close()
            table = rebuild(out, assignment)
        if interrupted:
            # Checked on disk: the interrupt may have landed in the middle of saving a student.
            saved = sum(store.is_current(student, hashes[student], key) for student in reached)
            again = "the same command again without --force" if args.force else "the same command again"
            print(f"micrograde grade: interrupted; {saved} of the {len(todo)} submissions to grade are graded and "
                  f"saved in {out}, {len(todo) - saved} are not. Run {again} to grade the rest.", file=sys.stderr)
            return EXIT_INTERRUPTED
        sys.stdout.write(table_text(table))
        print(f"{outcome_line(len(todo), len(errors), len(entries) - len(todo))}; gradebook: {out / 'gradebook.csv'}, "
              f"dashboard: {out / 'dashboard' / 'index.html'}")
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def count_line(entries: list, everyone: list, shard_text: str | None) -> str:
    """"32 submissions", or for a shard "16 of 32 submissions (shard 1/2)"."""
    if shard_text:
        return f"{len(entries)} of {len(everyone)} submissions (shard {shard_text.strip()})"
    return f"{len(entries)} submissions"


def outcome_line(graded: int, errors: int, skipped: int) -> str:
    """"30 graded, 2 could not be graded, 0 skipped (unchanged)": a submission that could not be graded is
    not counted as graded."""
    return f"{graded - errors} graded, {errors} could not be graded, {skipped} skipped (unchanged)"


def course_policy(folder: Path, students: set[str], explicit: bool):
    """The course policy declared in `folder`; warns about ids it names that are not in the class."""
    from grader.batch.policy import PolicyError, load_policy, unknown_students

    if explicit and not folder.is_dir():
        raise UsageError(f"--policy {folder} is not a folder")
    try:
        policy = load_policy(folder)
    except PolicyError as exc:
        raise UsageError(str(exc)) from None
    for student in unknown_students(policy, students):
        print(f"micrograde grade: the course policy names {student}, who is not in the class", file=sys.stderr)
    return policy


def save_policy(out: Path, policy) -> None:
    """The policy in force, saved beside the gradebook so that `merge` and later rebuilds apply the same."""
    import json

    from grader.batch.store import write_atomic
    from grader.batch.summary import POLICY_JSON

    if policy.is_empty:
        (out / POLICY_JSON).unlink(missing_ok=True)
    else:
        write_atomic(out / POLICY_JSON, json.dumps(policy.to_json(), indent=2, sort_keys=True) + "\n")
