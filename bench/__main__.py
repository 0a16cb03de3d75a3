"""``python -m bench``: run the benchmark scenarios against the real stack and write the report."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import click

from bench.scenarios import ORDER, SCENARIOS, SIZES

BENCH_DIR = Path(__file__).resolve().parent
SCENARIO_HELP = "; ".join(f"{m.ID}: {m.TITLE}" for m in ORDER)


def _ids(value: str | None) -> list[str]:
    if not value:
        return [m.ID for m in ORDER]
    wanted = [part.strip().upper() for part in value.split(",") if part.strip()]
    unknown = [i for i in wanted if i not in SCENARIOS]
    if unknown:
        raise click.BadParameter(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    return [m.ID for m in ORDER if m.ID in wanted]  # always in the canonical order


@click.command(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110},
    epilog=f"Scenarios: {SCENARIO_HELP}.",
)
@click.option("--quick", is_flag=True, help="Small sizes: each scenario finishes in under a minute.")
@click.option(
    "--size", type=click.Choice(SIZES), default=None, help="Explicit size (default full; --quick = quick)."
)
@click.option("--only", metavar="IDS", help="Comma-separated scenario ids to run, e.g. W1,R1.")
@click.option(
    "--results-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=BENCH_DIR / "results",
    show_default="bench/results",
    help="Where <UTC date-time>.json is written.",
)
@click.option("--report/--no-report", default=True, help="Regenerate bench/REPORT.md and bench/charts/.")
@click.option(
    "--web-workers", type=click.IntRange(1, 8), default=2, show_default=True, help="gunicorn workers."
)
@click.option(
    "--worker-concurrency",
    type=click.IntRange(1, 8),
    default=2,
    show_default=True,
    help="Celery prefork children (F1 also measures 1 and 2).",
)
def main(
    quick: bool,
    size: str | None,
    only: str | None,
    results_dir: Path,
    report: bool,
    web_workers: int,
    worker_concurrency: int,
) -> None:
    """Benchmark memcache_platform on the real stack: gunicorn, a Celery worker, Redis, PostgreSQL, Mem0.

    Starts a private Redis and PostgreSQL under var/bench/ (or uses MEMCACHE_REDIS_URL /
    MEMCACHE_DATABASE_URL when set), runs the scenarios, prints a final table, writes the results
    JSON and regenerates bench/REPORT.md with charts under bench/charts/. Everything it started
    is stopped at the end, also after an error or Ctrl-C.
    """
    from bench import report as report_module
    from bench.runner import run_scenarios, write_results
    from bench.stack import StackOptions

    ids = _ids(only)
    size = size or ("quick" if quick else "full")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the stack's teardown runs
    options = StackOptions.from_env(web_workers=web_workers, worker_concurrency=worker_concurrency)
    results = run_scenarios(ids, size, options)
    path = write_results(results, results_dir)
    click.echo("")
    click.echo(report_module.text_table(results))
    click.echo(f"\nresults: {path}")
    if report:
        # Scenarios not run this time (``--only``) keep their figures from the newest earlier run.
        merged = report_module.with_earlier(results, path)
        out = report_module.write_report(merged, path, BENCH_DIR / "REPORT.md", BENCH_DIR / "charts")
        click.echo(f"report:  {out}")
    if results["errors"]:
        click.echo(f"scenarios that failed: {', '.join(results['errors'])}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
