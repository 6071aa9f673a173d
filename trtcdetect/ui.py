"""Terminal output: progress while probes run (stderr) and the summary table at the end (rich)."""

from __future__ import annotations

import sys
from pathlib import Path
from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress
from rich.table import Table

from . import text
from .models import ProbeResult, RunReport
from .probes import Probe, title
from .repeat import Round, board, line
from .report.files import checks_target

STYLE = {"pass": "green", "warn": "yellow", "fail": "red", "error": "magenta", "skip": "dim"}


class Progress:
    """A live bar on a terminal; one plain line per finished probe when stderr is a pipe."""

    def __init__(self, *, enabled: bool, total: int) -> None:
        self.console = Console(stderr=True, highlight=False)
        self.enabled = enabled
        self.live = enabled and self.console.is_terminal
        self.bar = RichProgress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
            TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
            console=self.console, transient=True,
        )
        self.task = self.bar.add_task("checking", total=total)
        self.running: list[str] = []

    def __enter__(self) -> Progress:
        if self.live:
            self.bar.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.live:
            self.bar.stop()

    def update(self, probe: Probe, result: ProbeResult | None) -> None:
        if not self.enabled:
            return
        if result is None:
            self.running.append(probe.id)
        else:
            if probe.id in self.running:
                self.running.remove(probe.id)
            self.bar.advance(self.task)
            status = str(result.status)
            # outside names (hosts, URLs, device names) are text, never markup: escaped
            self.console.print(
                f"[{STYLE[status]}]{status:>5}[/] {escape(probe.title)}: {escape(result.summary)}"
                f" [dim]({result.duration_s:.2f} s)[/]", markup=True, soft_wrap=True,
            ) if self.live else print(  # noqa: T201 - plain progress for pipes and logs
                f"{status:>5} {probe.title}: {result.summary} ({result.duration_s:.2f} s)",
                file=sys.stderr, flush=True,
            )
        self.bar.update(self.task, description=escape("checking " + ", ".join(self.running)))


def print_summary(report: RunReport, paths: list[Path], *, stderr: bool, lang: str = "en") -> None:
    console = Console(stderr=stderr, highlight=False, soft_wrap=True)
    run_status = text.ui(f"status.{report.status}", lang)
    about = f" {report.target.host}" if checks_target([p.id for p in report.probes]) else ""
    table = Table(title=escape(f"trtcdetect{about}: {run_status}"),
                  title_justify="left")
    table.add_column(text.ui("check", lang))
    table.add_column(text.ui("result", lang))
    table.add_column(text.ui("summary", lang), overflow="fold")
    for probe in report.probes:
        status = str(probe.status)
        summary = probe.message.text(lang) if probe.message is not None else probe.summary
        table.add_row(escape(title(probe.id, probe.title, lang)),
                      f"[{STYLE[status]}]{text.ui('status.' + status, lang)}[/]",
                      escape(summary))
    console.print(table)
    for path in paths:
        console.print(f"report: {path}", markup=False)
    print_diagnosis(console, report, paths, lang)


def print_diagnosis(console: Console, report: RunReport, paths: list[Path], lang: str) -> None:
    """The last lines: each cause in one line with who can fix it and its first remedy, then
    which file to send to support."""
    problems = [f for f in report.diagnosis if not f.note]
    notes = [f for f in report.diagnosis if f.note]
    if problems or notes:
        console.print(f"[bold]{escape(text.ui('diagnosis', lang))}[/]")
    for finding in problems:
        status = str(finding.severity)
        party = text.ui(f"party.{finding.party}", lang)
        console.print(f"  [{STYLE[status]}]{text.ui('status.' + status, lang)}[/] "
                      f"{escape(finding.headline.text(lang))} "
                      f"[dim]({escape(text.ui('for', lang))}: {escape(party)})[/]")
        if finding.advice:
            console.print(f"    -> {escape(finding.advice[0].text(lang))}")
    for finding in notes:
        console.print(f"  [dim]{escape(text.ui('note', lang))}[/] "
                      f"{escape(finding.headline.text(lang))}")
    html = [p for p in paths if p.suffix == ".html"]
    if problems and html:
        console.print(escape(text.ui("send-to-support", lang, path=str(html[0]))))


class RepeatView:
    """--repeat/--for: on a terminal a live table like mtr's (each check's last result, the
    rounds it worked, its round-trip time last / best / worst) under one coloured line per
    round; on a pipe one plain line per round (repeat.line)."""

    def __init__(self, *, enabled: bool, total: int | None, until: float | None) -> None:
        from rich.live import Live

        self.console = Console(stderr=True, highlight=False)
        self.enabled, self.total, self.until = enabled, total, until
        self.live: Live | None = (Live(console=self.console, transient=True,
                                       refresh_per_second=4)
                                  if enabled and self.console.is_terminal else None)

    def __enter__(self) -> RepeatView:
        if self.live is not None:
            self.live.update(f"round 1{f'/{self.total}' if self.total else ''}: checking ...")
            self.live.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.live is not None:
            self.live.stop()

    def round(self, rounds: list[Round]) -> None:
        if not self.enabled:
            return
        latest = rounds[-1]
        if self.live is None:
            print(line(latest, self.total), file=sys.stderr, flush=True)  # noqa: T201
            return
        status = str(latest.status)
        self.console.print(escape(line(latest, self.total)).replace(
            f" {status}", f" [{STYLE[status]}]{status}[/]", 1), markup=True, soft_wrap=True)
        self.live.update(self.table(rounds))

    def table(self, rounds: list[Round]) -> Table:
        import datetime as dt

        left = ""
        if self.until is not None:
            left = f", until {dt.datetime.fromtimestamp(self.until, dt.UTC):%H:%M:%S} UTC"
        of = f"/{self.total}" if self.total else ""
        table = Table(title=f"round {rounds[-1].index}{of}{left}", title_justify="left")
        for column in ("check", "last", "worked", "ms last / best / worst"):
            table.add_column(column, justify="left" if column == "check" else "right")
        for row in board(rounds):
            ms = row["ms"]
            shown = "—" if ms is None else " / ".join(
                "—" if v is None else f"{v:.1f}" for v in ms)
            last = "[green]ok[/]" if row["last"] else f"[red]{escape(row['why'] or 'failed')}[/]"
            share = f"{row['worked']}/{row['seen']}"
            if row["worked"] < row["seen"]:
                share = f"[yellow]{share}[/]"
            table.add_row(escape(row["check"]), last, share, shown)
        return table
