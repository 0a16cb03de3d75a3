"""``python -m bench.report <results.json>``: regenerate ``bench/REPORT.md`` and ``bench/charts/``.

Also the final table that ``python -m bench`` prints.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from bench import figures, targets
from bench.scenarios import ORDER, SCENARIOS

BENCH_DIR = Path(__file__).resolve().parent


def _verdict(passed: bool | None) -> str:
    return {True: "PASS", False: "FAIL", None: "–"}[passed]


def _ordered(results: dict[str, Any]) -> list[str]:
    return [m.ID for m in ORDER if m.ID in results.get("scenarios", {})]


def text_table(results: dict[str, Any]) -> str:
    """The figures and the targets as plain-text tables, for the terminal."""
    rows = [
        (sid, label, value)
        for sid in _ordered(results)
        for label, value in figures.headline(sid, results["scenarios"][sid])
    ]
    width = max([len(label) for _, label, _ in rows] + [10])
    lines = [f"{'':<4} {'figure':<{width}}  value", "-" * (width + 60)]
    lines += [f"{sid:<4} {label:<{width}}  {value}" for sid, label, value in rows]
    lines += ["", f"{'':<9} {'target':<70} {'goal':<16} measured", "-" * 130]
    for t in results.get("targets", []):
        lines.append(
            f"{_verdict(t['passed']):<4} {t['id']:<9} {t['target'][:68]:<70} {t['goal']:<16} {t['measured']}"
        )
    for sid in results.get("errors", {}):
        lines.append(f"{sid}: FAILED (see the results file)")
    return "\n".join(lines)


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def _doc(scenario_id: str) -> str:
    doc = (SCENARIOS[scenario_id].__doc__ or "").strip()
    body = doc.split("\n", 1)[1].strip() if "\n" in doc else ""
    return body.replace("``", "`")


def with_earlier(results: dict[str, Any], results_path: Path) -> dict[str, Any]:
    """``results`` plus the scenarios it did not run, from the newest earlier results file having each.

    So ``--only K1`` does not drop the other scenarios' figures from the report; each carried-over
    section names the file it comes from.
    """
    ran = set(results.get("meta", {}).get("scenarios") or results.get("scenarios", {}))
    merged = results | {"scenarios": dict(results.get("scenarios", {}))}
    merged["durations_s"] = dict(results.get("durations_s", {}))
    carried: dict[str, dict[str, Any]] = {}
    earlier_files = sorted(results_path.parent.glob("*.json"), reverse=True)
    for path in [p for p in earlier_files if p.name < results_path.name]:
        try:
            earlier = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        for sid, figures_ in earlier.get("scenarios", {}).items():
            if sid in SCENARIOS and sid not in ran and sid not in merged["scenarios"]:
                merged["scenarios"][sid] = figures_
                merged["durations_s"][sid] = earlier.get("durations_s", {}).get(sid)
                meta = earlier.get("meta", {})
                carried[sid] = {"file": path.name, "size": meta.get("size"), "date": meta.get("date")}
    merged["meta"] = results.get("meta", {}) | {"carried_over": carried}
    merged["targets"] = targets.evaluate(merged["scenarios"])
    return merged


def markdown(results: dict[str, Any], results_path: Path, charts: dict[str, Path], report_path: Path) -> str:
    meta = results.get("meta", {})
    stack = meta.get("stack", {})
    rel = os.path.relpath(results_path, report_path.parent)
    lines = [
        "# memcache_platform benchmark report",
        "",
        f"Generated from [`{results_path.name}`]({rel}) by `python -m bench.report`; reproduce with "
        "`make bench` (or `make bench-quick`).",
        "",
        f"- **Run:** {meta.get('date')} · size `{meta.get('size')}` · {meta.get('duration_s')} s · "
        f"commit `{(meta.get('git_commit') or 'unknown')[:12]}`",
        f"- **Machine:** {meta.get('cpu_count')} CPUs · {meta.get('memory_gb')} GB · "
        f"Python {meta.get('python')} · {meta.get('platform')}",
    ]
    if stack:
        lines.append(
            f"- **Stack:** Redis {stack.get('redis')} · L3 PostgreSQL {stack.get('l3_database')} · L4 (Mem0 "
            f"pgvector) {stack.get('l4_database')} · gunicorn {stack.get('web_workers')} workers × "
            f"{stack.get('gunicorn_threads')} threads · Celery prefork worker, "
            f"{stack.get('worker_concurrency')} children · rate limits {stack.get('rate_limits', 'on')} · "
            "all on one machine, the bench client included"
        )
    carried = meta.get("carried_over") or {}
    if carried:
        by_file: dict[str, list[str]] = {}
        for sid, c in carried.items():
            by_file.setdefault(f"`{c['file']}` (size `{c['size']}`)", []).append(sid)
        names = "; ".join(f"{', '.join(sids)} from {file}" for file, sids in by_file.items())
        lines.append(f"- **From earlier runs** (not run this time): {names}")
    lines += ["", "## Targets", "", "| | target | goal | measured |", "|---|---|---|---|"]
    for t in results.get("targets", []):
        verdict = {True: "✅ pass", False: "❌ fail", None: "– not run"}[t["passed"]]
        lines.append(f"| {verdict} | {_md_escape(t['target'])} | {t['goal']} | {_md_escape(t['measured'])} |")
    lines += ["", "## Figures at a glance", "", "| | figure | value |", "|---|---|---|"]
    for sid in _ordered(results):
        for label, value in figures.headline(sid, results["scenarios"][sid]):
            lines.append(f"| {sid} | {_md_escape(label)} | {_md_escape(value)} |")
    lines.append("")
    for sid in _ordered(results):
        module = SCENARIOS[sid]
        duration = results.get("durations_s", {}).get(sid)
        lines += [f"## {sid}: {module.TITLE}", "", _doc(sid), ""]
        source = meta.get("carried_over", {}).get(sid)
        if source:
            link = os.path.relpath(results_path.parent / source["file"], report_path.parent)
            lines += [
                f"_Figures from an earlier run, [`{source['file']}`]({link}) (size `{source['size']}`, "
                f"{source['date']}): this run did not include {sid}._",
                "",
            ]
        lines += figures.details(sid, results["scenarios"][sid])
        if sid in charts:
            lines += [f"![{sid}]({os.path.relpath(charts[sid], report_path.parent)})", ""]
        if duration is not None:
            lines += [f"_Ran in {duration} s._", ""]
    errors = results.get("errors", {})
    if errors:
        lines += ["## Scenarios that failed", ""]
        for sid, trace in errors.items():
            lines += [f"### {sid}", "", "```", trace.strip(), "```", ""]
    return "\n".join(lines).rstrip() + "\n"


def write_report(results: dict[str, Any], results_path: Path, report_path: Path, charts_dir: Path) -> Path:
    """Draw the charts and write the Markdown report; returns the report's path."""
    from bench.charts import draw

    charts = draw(results.get("scenarios", {}), charts_dir)
    report_path.write_text(markdown(results, results_path.resolve(), charts, report_path.resolve()))
    return report_path


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("results_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=BENCH_DIR / "REPORT.md",
    show_default="bench/REPORT.md",
    help="The Markdown report to write.",
)
@click.option(
    "--charts",
    "charts_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=BENCH_DIR / "charts",
    show_default="bench/charts",
    help="Where the PNG charts go.",
)
def main(results_file: Path, out: Path, charts_dir: Path) -> None:
    """Regenerate the benchmark report (Markdown, with PNG charts) from RESULTS_FILE."""
    results = json.loads(results_file.read_text())
    click.echo(text_table(results))
    click.echo(
        f"\nreport: {write_report(with_earlier(results, results_file), results_file, out, charts_dir)}"
    )


if __name__ == "__main__":
    main()
