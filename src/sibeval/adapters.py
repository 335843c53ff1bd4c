"""Helpers for the workflow scripts (duck-typed on Snakemake's `snakemake` object; the
library itself never imports Snakemake)."""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import re
import resource
import shutil
import stat
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from sibeval.errors import SibevalError

log = logging.getLogger("sibeval")


# a Danish CPR-style person number (ddmmyy-xxxx or 10 digits) never reaches a log
_PNR_LIKE = re.compile(r"(?<!\d)\d{6}-?\d{4}(?!\d)")


def redact(text: str) -> str:
    """Mask anything shaped like a person number (10 digits) in a message."""
    return _PNR_LIKE.sub("<pnr>", text)


class _Formatter(logging.Formatter):
    """Log lines with person-number-shaped digits masked; `traceback=False` leaves the
    traceback out (the console gets the message, the log file gets everything)."""

    def __init__(self, traceback: bool):
        super().__init__("%(asctime)s %(levelname)s [%(name)s] %(message)s")
        self.traceback = traceback

    def format(self, record):
        if self.traceback:
            return redact(super().format(record))
        saved = record.exc_info, record.exc_text
        record.exc_info, record.exc_text = None, None
        try:
            return redact(super().format(record))
        finally:
            record.exc_info, record.exc_text = saved


def where(smk) -> str:
    """'rule X, cohort Y' for messages (as far as the Snakemake object tells)."""
    rule = getattr(smk, "rule", None)
    wildcards = getattr(smk, "wildcards", None)
    cohort = wildcards.get("cohort") if wildcards is not None and hasattr(wildcards, "get") else None
    return ", ".join(x for x in (rule and f"rule {rule}", cohort and f"cohort {cohort}") if x) or "sibeval"


def keep_freed_memory() -> None:
    """Have glibc's malloc keep freed memory for reuse in this process (a no-op elsewhere).

    It gives every freed block over 32 MB back to the system, and the kernel zeroes fresh
    pages for the next: a loop over blocks of persons allocates arrays of the same sizes
    again and again (build_panel at 10^6 persons: 2 of its 4.5 s of system time). Its peak
    stays that of its largest block. Not for a process that grows and shrinks (normalising
    6x10^6 persons kept 1.9 GB this way)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_max = -1, -4           # malloc.h
    mallopt(m_mmap_max, 0)
    mallopt(m_trim_threshold, 2**31 - 1)


def run(smk, main) -> None:
    """Send logging to smk.log[0] (and the console), run main(smk) and stop with a non-zero
    exit. An expected error (SibevalError) gives its message; any other exception gives a
    short console message naming rule, cohort and log file, with the traceback in the log."""
    log_file = smk.log[0] if getattr(smk, "log", None) else None
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(_Formatter(traceback=log_file is None))
    handlers = [console]
    if log_file:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        fh = logging.FileHandler(log_file, mode="w", encoding="utf-8")
        fh.setFormatter(_Formatter(traceback=True))
        handlers.append(fh)
    logging.basicConfig(level=logging.WARNING, handlers=handlers, force=True)
    log.setLevel(logging.INFO)  # our messages; libraries stay at WARNING
    see = f"; log: {log_file}" if log_file else ""
    # what the imports made lives to the end: the collector's full passes need not walk it
    gc.freeze()
    try:
        main(smk)
        if log_file:
            _log_resources(handlers[-1])
    except SibevalError as exc:
        log.error("%s stopped: %s%s", where(smk), exc, see)
        sys.exit(1)
    except Exception as exc:
        log.error(
            "%s failed with an unexpected error (%s: %s). This is a bug in sibeval or an "
            "input it does not check yet; the traceback is in %s. Please report it with "
            "that log",
            where(smk),
            type(exc).__name__,
            exc,
            log_file or "the console",
            exc_info=True,
        )
        sys.exit(1)


RESOURCES = "resources:"    # the last line of a rule's log; bench/rule_table.py reads it


def resources_used() -> str:
    """What this process has used so far, and the processes it waited for (a rule's second
    process): wall time since it started, CPU (user + system) and peak memory (max RSS),
    measured by the kernel, not sampled."""
    me, waited = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    user, system = me.ru_utime + waited.ru_utime, me.ru_stime + waited.ru_stime
    # Linux carries the starting process's peak into the one it starts (ru_maxrss of a script
    # started by Snakemake is at least Snakemake's): this process's own peak is VmHWM. A process
    # it waited for reports at least this one's memory when it started it.
    peak = _own_peak_kib() or me.ru_maxrss / (1024 if sys.platform == "darwin" else 1)    # macOS: bytes
    return (f"{RESOURCES} wall {_since_start():.1f} s, CPU {user + system:.1f} s (user {user:.1f} s, "
            f"system {system:.1f} s), peak memory {peak / 1024:.0f} MiB (the largest "
            f"process it waited for {waited.ru_maxrss / 1024:.0f} MiB)")


def _own_peak_kib() -> int | None:
    """This process's peak resident memory (Linux: VmHWM, in KiB), or None elsewhere."""
    try:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
    except (OSError, StopIteration, ValueError, IndexError):
        return None


def _since_start() -> float:
    """Seconds since this process started (Linux: from /proc; elsewhere since this module
    was imported, after the script's imports)."""
    try:
        with open("/proc/self/stat") as fh:
            ticks = float(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as fh:
            since = float(fh.read().split()[0]) - ticks / os.sysconf("SC_CLK_TCK")
        if since >= 0:      # (a container's own /proc/uptime can start later than the kernel's)
            return since
    except (OSError, ValueError, IndexError):
        pass
    return time.perf_counter() - _IMPORTED


_IMPORTED = time.perf_counter()


def _log_resources(handler: logging.Handler) -> None:
    """The resources line, to the rule's log file only (sizing `mem_mb` and `runtime` on a
    cluster; the console has Snakemake's own timing)."""
    handler.handle(logging.LogRecord("sibeval", logging.INFO, __file__, 0, resources_used(), None, None))


@contextmanager
def atomic_path(path):
    """Yield a temporary path next to `path`; rename it into place only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


@contextmanager
def atomic_dir(path):
    """Yield a new, empty folder next to `path`; it replaces `path` only on success (and is
    removed on failure; one left by a killed job is removed at the next start)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for old in path.parent.glob(f".{path.name}.*"):
        shutil.rmtree(old, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        # mkdtemp makes 0700; the usual permissions, and the parent's setgid (a shared group)
        os.chmod(tmp, (0o777 & ~umask) | (path.parent.stat().st_mode & stat.S_ISGID))
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_csv(df, path, **kw):
    """CSV written atomically with fixed formatting (byte-identical for equal inputs)."""
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, lineterminator="\n", float_format="%.10g", **kw)


def write_text(text: str, path):
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")


def write_parquet(df, path):
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False)


def write_parquet_pieces(pieces, path, prepare=None, group_rows: int = 1024 * 1024) -> None:
    """Write DataFrames `pieces` (any iterable; an iterator lets each go once written) as one
    table: the file ``pd.concat(pieces).to_parquet`` writes (row groups of pyarrow's default
    size), without the concatenation's copy; `prepare` is applied to each row group's rows."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    with atomic_path(path) as tmp:
        writer, schema, held, n = None, None, [], 0

        def flush(rows: int) -> None:
            nonlocal writer, schema, held, n
            frame = pd.concat(held, ignore_index=True)
            chunk, rest = frame.iloc[:rows], frame.iloc[rows:]
            held, n = ([rest] if len(rest) else []), len(rest)
            chunk = prepare(chunk) if prepare else chunk
            # one chunk per column, as a whole frame gives (chunks change the pages' bytes)
            table = pa.Table.from_pandas(chunk, schema=schema, preserve_index=False).combine_chunks()
            if writer is None:
                schema = table.schema
                writer = pq.ParquetWriter(tmp, schema)
            writer.write_table(table)

        try:
            for piece in pieces:
                held.append(piece)
                n += len(piece)
                del piece
                while n >= group_rows:
                    flush(group_rows)
            if n or writer is None:
                flush(n)
        finally:
            if writer is not None:
                writer.close()


def read_parquet(path):
    """A Parquet table as a DataFrame holding about one copy of it: Arrow's buffers are
    released column by column as they convert (a plain pandas.read_parquet holds both
    copies at once; 3 million candidate rows: 1.1 GiB against 0.6 GiB)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path, use_threads=False)
    df = table.to_pandas(self_destruct=True, split_blocks=True)
    del table
    pa.default_memory_pool().release_unused()
    return df


def context(smk):
    """What every workflow script starts from: the settings its rule passes (`params.run`:
    only those the rule uses), the code table and the extract.

    The extract is the normalised one under results/extracts/interim/<extract>/ (register files as
    typed Parquet; the cohort's participant list and questionnaires from the raw folder),
    or the raw folder for the rule that normalises it.
    """
    from types import SimpleNamespace

    from sibeval.extract.codes import CodeTable
    from sibeval.extract.normalise import NormalisedExtract
    from sibeval.extract.readers import Extract

    p = smk.params.run
    c = p.get("cohort", {})
    e = p.get("extract")
    extract = None
    if e is not None:
        if e.get("raw"):
            extract = Extract(e["path"], e["columns"])
        else:
            extract = NormalisedExtract(e["normalised"], e["path"], e["columns"], e.get("files"))
    return SimpleNamespace(
        params=p,
        cohort=c,
        lang=c.get("language"),
        min_cell=c.get("disclosure", {}).get("min_cell"),
        codes=CodeTable.from_config(p["dream_codes"]) if "dream_codes" in p else None,
        labels=p.get("labels"),
        extract=extract,
    )


def economics_inputs(smk):
    """(inputs, effects, decay table): the payment model's inputs (`economics.model.measured_inputs`)
    from the rule's published effects and, when the cohort publishes it, decay table, with the
    tables read; an error names the file it comes from (the cohort file when the measured decay's
    table is not published)."""
    import pandas as pd

    from sibeval.economics import model as ec

    effects = pd.read_csv(smk.input.effects)
    decay = pd.read_csv(smk.input.decay) if "decay" in smk.input.keys() else None
    try:
        inp = ec.measured_inputs(smk.params.economics, effects, decay_table=decay)
    except ec.MeasuredDecayError as exc:
        raise SibevalError(f"{smk.input.get('decay', smk.params.cohort_file)}: {exc}") from None
    except ValueError as exc:
        raise SibevalError(f"{smk.input.effects}: {exc}") from None
    return inp, effects, decay


def standalone(script: str, argv: list[str] | None = None):
    """The `snakemake` object a rule's job would get, for running its script alone (to debug
    it, or step through it): ``python workflow/scripts/<rule>.py cohort=<name>`` (or
    ``extract=<name>``) from the repository, after the job's inputs exist. The rule is named
    like the script (``rule=<name>`` overrides); the job's inputs, outputs, settings and log
    are Snakemake's own, read from the Snakefile and config/config.yaml of this folder.
    (The idea of PyPSA-Eur's mock_snakemake.)"""
    from snakemake.api import SnakemakeApi
    from snakemake.dag import DAG
    from snakemake.jobs import Job
    from snakemake.settings.types import DAGSettings, OutputSettings, ResourceSettings

    args = dict(a.split("=", 1) for a in (sys.argv[1:] if argv is None else argv) if "=" in a)
    rule_name = args.pop("rule", Path(script).stem)
    if not Path("Snakefile").exists():
        raise SystemExit("run it from the repository (the folder with the Snakefile)")
    with SnakemakeApi(OutputSettings(quiet=True)) as api:
        wf = (
            api.workflow(resource_settings=ResourceSettings(), snakefile=Path("Snakefile"), workdir=Path("."))
            .dag(DAGSettings())
            .workflow_api._workflow
        )
        try:
            rule = wf.get_rule(rule_name)
        except Exception:
            raise SystemExit(
                f"no rule '{rule_name}'; the rules: {', '.join(sorted(r.name for r in wf.rules))}"
            ) from None
        missing = sorted(set(rule.wildcard_names) - set(args))
        if missing:
            raise SystemExit(f"rule {rule_name} needs {' '.join(f'{w}=<name>' for w in missing)}")
        known = {"cohort": list(wf.config["cohorts"]), "extract": list(wf.config["extracts"])}
        for w, v in args.items():
            if w in known and v not in known[w]:
                raise SystemExit(f"{w}={v} is not in config/config.yaml; allowed: {', '.join(known[w])}")
        job = Job(rule, DAG(wf, rules=[rule]), wildcards_dict=args)
        from types import SimpleNamespace

        # plain strings, as in the object Snakemake hands a script: its file objects hold the
        # workflow, which a rule's second process cannot be sent (build_candidates at 10^6)
        return SimpleNamespace(
            input=job.input._plainstrings(),
            output=job.output._plainstrings(),
            params=job.params,
            log=job.log._plainstrings(),
            wildcards=job.wildcards,
            rule=rule_name,
            threads=job.threads,
            resources=job.resources,
            config=wf.config,
        )
