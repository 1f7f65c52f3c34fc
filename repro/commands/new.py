"""`repro new <arxiv-id>`: the command line of newpaper.new_paper, and its summary."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import UsageError

if TYPE_CHECKING:
    from ..literature.newpaper import NewPaper

_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,79}")


def _say(msg: str) -> None:
    click.echo(msg, err=True)


def _warn(msg: str) -> None:
    click.secho(f"warning: {msg}", fg="yellow", err=True)


@click.command("new")
@click.argument("paper_id", metavar="[ARXIV_ID]", required=False)
@click.option("--pdf", "pdf_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Use this PDF instead of downloading it.")
@click.option("--source", "source_file", type=click.Path(path_type=Path),
              help="Use this LaTeX source (.tex, .tar.gz or a folder) instead of downloading it.")
@click.option("--offline", is_flag=True, help="No network: only the cache and --pdf/--source.")
@click.option("--name", help="Folder name for a paper not on arXiv (with --pdf/--source, no ARXIV_ID).")
@click.option("--papers-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("papers"),
              show_default=True, help="Where paper folders live.")
@click.option("--force", is_flag=True, help="Replace an existing paper folder (its edits are lost).")
@click.option("--family", "family", metavar="NAME",
              help="Architecture family to write instead of the one read from the paper: transformer, "
                   "decoder_lm, encoder_classifier, resnet, mlp, rnn, or toy.")
def new(paper_id: str | None, pdf_file: Path | None, source_file: Path | None, offline: bool,
        name: str | None, papers_dir: Path, force: bool, family: str | None = None) -> int:
    """Turn an arXiv paper into a paper folder that already runs.

    \b
    Fetches the metadata, the PDF and (when arXiv has it) the LaTeX source, reads the
    tables, candidate claims, hyperparameters and links, and writes papers/<id>/ with
    paper.yaml, claims.yaml, configs/, a toy model.py and data.py that train at once,
    REVIEW.md and report.md.j2. Downloads are cached in $REPRO_CACHE (~/.cache/repro).

    \b
    Examples:
      repro new 1706.03762
      repro new https://arxiv.org/abs/1706.03762v5
      repro new 1706.03762 --pdf paper.pdf --source paper.tar.gz --offline
      repro new --name my-paper --pdf my-paper.pdf
    """
    from ..literature.arxiv_ids import parse_arxiv_id

    aid = None
    if paper_id:
        aid = parse_arxiv_id(paper_id)
        if name:
            raise UsageError("give either ARXIV_ID or --name, not both")
        folder = aid.folder
    elif name:
        if not _NAME.fullmatch(name) or ".." in name:
            raise UsageError(f"--name {name!r} is not a valid folder name",
                             hint="lower-case letters, digits, '.', '_' and '-', e.g. my-paper")
        if not (pdf_file or source_file):
            raise UsageError("--name needs the paper's files", hint="give --pdf and/or --source")
        folder = name
    else:
        raise UsageError("which paper?", hint="repro new 1706.03762  (or --name NAME --pdf FILE)")
    for opt, p in (("--pdf", pdf_file), ("--source", source_file)):
        if p is not None and not p.exists():
            raise UsageError(f"{opt} {p}: no such file", where=str(p))

    from ..literature.newpaper import new_paper

    result = new_paper(aid, folder, pdf_file, source_file, offline=offline, papers_dir=papers_dir, force=force,
                       family=family, log=_say, warn=_warn)
    _print_summary(result)
    return 0


def _print_summary(info: NewPaper) -> None:
    res = info.result
    claims = res.claims
    runnable = sum(1 for c in claims if c.get("kind", "value") == "value" and c.get("config"))
    tables = info.tables
    links = info.links
    click.secho(f"wrote {res.path}/", fg="green", bold=True)
    if info.meta is not None:
        click.echo(f"  {info.meta.title}")
    detail = ", ".join(f"Table {t.number}" + (" (image only)" if getattr(t, "image_only", False) else "")
                       for t in tables)
    click.echo(f"  {len(tables)} tables" + (f": {detail}" if detail else ""))
    click.echo(f"  {len(claims)} candidate claims ({runnable} runnable on the scaffold)")
    choice, plan = info.family, info.plan
    if plan is not None:
        click.echo(f"  family: {plan.family.name}: {choice.why}")
        for e in choice.evidence:
            where = "abstract" if e.in_abstract else (f"p.{e.page}" if e.page else "text")
            click.echo(f"    {where}: \"{' '.join(e.sentence.split())[:150]}\"")
        click.echo(f"  {len(info.hparams)} hyperparameters; {len(plan.settings)} wired into configs-paper/base.yaml")
        click.echo(f"  configs/ is a CPU proxy: {'; '.join(plan.scaled)}")
    else:
        if choice is not None:
            click.echo(f"  family: toy stand-in: {choice.why}")
        click.echo(f"  {len(info.hparams)} hyperparameters (commented in configs/base.yaml)")
    click.echo(f"  {len(res.ablations)} ablation configs" + (f": {', '.join(res.ablations)}" if res.ablations else ""))
    n_links = sum(len(v) for v in links.values())
    click.echo(f"  {n_links} links" + ("" if not n_links else ":"))
    for kind in ("code", "data", "project"):
        for url in links.get(kind, []):
            click.echo(f"    {kind}: {url}")
    click.echo("next steps:")
    click.echo(f"  1. read {res.path}/REVIEW.md and answer its questions")
    click.echo(f"  2. check {res.path}/claims.yaml against the paper; set status: confirmed")
    if plan is None:
        click.echo("  3. replace the toy model.py / data.py with the paper's (keep the config keys in sync)")
    else:
        click.echo(f"  3. check model.py ({plan.family.name}) and configs-paper/base.yaml against the paper")
    click.echo(f"  4. repro run {res.path}")
