"""`repro new <arxiv-id>`: fetch a paper, read its claims, scaffold papers/<id>/."""

from __future__ import annotations

import dataclasses
import re
import tempfile
from pathlib import Path
from typing import Any

import click

from ..errors import (ArxivIdError, FetchError, NotFoundError, PaperFolderError, ReproError,
                      SourceArchiveError, UsageError)

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
    from ..arxiv_ids import parse_arxiv_id

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

    target = papers_dir / folder
    if target.exists() and not force:  # before any download: refuse early
        raise PaperFolderError(f"{target} already exists",
                               hint="nothing was changed; pass --force to replace it", where=str(target))

    if family:  # a typo fails before any download
        from ..families import choose_family

        choose_family(None, None, override=family)
    result = _build(aid, folder, pdf_file, source_file, offline, papers_dir, force, family)
    _print_summary(result)
    return 0


def _build(aid: Any, folder: str, pdf_file: Path | None, source_file: Path | None, offline: bool,
           papers_dir: Path, force: bool, family: str | None = None) -> dict[str, Any]:
    from ..archive import extract_source, read_source_bibliography, read_source_tex
    from ..fetch import Fetcher, local_file
    from ..links import find_links
    from ..pdftext import check_pdf_file, pdf_pages, pdf_pages_and_tables
    from ..scaffold import ScaffoldData, write_scaffold

    fetcher = Fetcher(offline=offline, log=_say)
    have_local = bool(pdf_file or source_file)

    # 1. Metadata. With local files, a network failure is a warning, not the end.
    meta = None
    if aid is not None:
        _say(f"looking up {aid.full} on arXiv{' (cache only)' if offline else ''} ...")
        try:
            meta = fetcher.metadata(aid)
        except (NotFoundError, ArxivIdError):
            raise
        except FetchError as e:
            if not have_local:
                raise
            _warn(f"{e.message}; continuing with the files given, metadata left blank in paper.yaml")

    # 2. The PDF.
    pdf = None
    if pdf_file is not None:
        check_pdf_file(pdf_file)
        pdf = local_file(pdf_file)
    elif meta is not None:
        _say("fetching the PDF ...")
        pdf = fetcher.pdf(meta)

    # 3. The LaTeX source (optional: a failure only costs the LaTeX tables).
    src = None
    if source_file is not None:
        src = local_file(source_file)
    elif meta is not None:
        try:
            src = fetcher.source(meta)
        except FetchError as e:
            _warn(f"no LaTeX source: {e.message}")

    with tempfile.TemporaryDirectory(prefix="repro-src-") as tmpdir:
        tex, bib = None, ""
        if src is not None:
            try:
                root = extract_source(src.path, Path(tmpdir) / "src")
            except SourceArchiveError as e:
                if source_file is not None:
                    raise  # the user's own file: their mistake to fix
                _warn(f"arXiv's LaTeX source was not used: {e}")
                root = None
            tex = read_source_tex(root) if root is not None else None
            bib = read_source_bibliography(root) if tex and "\\bibitem" not in tex else ""
            if root is not None and tex is None:
                _warn("the source has no LaTeX file; tables come from the PDF only")

        pages, pdf_tables = None, None
        if pdf is not None and not tex:  # the tables come from the PDF: one parse for both
            pages, found, failed = pdf_pages_and_tables(pdf.path)
            pdf_tables = (found, failed)
        elif pdf is not None:
            pages = pdf_pages(pdf.path)
        # the .bbl goes to the table reader only: cited works' URLs are not the paper's links
        tables, claims, ablations, hparams = _extract(pdf.path if pdf else None, pages,
                                                      tex + "\n" + bib if tex and bib else tex, pdf_tables)
        choice, plan = _family(meta, tex, pages, tables, hparams, family)

    links = find_links("\n".join(pages or []), tex or "")
    meta_dict = _meta_dict(meta, aid, folder, tex)
    meta_dict["pdf_sha256"] = pdf.sha256 if pdf else None
    meta_dict["source_sha256"] = src.sha256 if src and src.sha256 else None
    data = ScaffoldData(folder=folder, meta=meta_dict, links=links, tables=tables, claims=claims,
                        ablations=ablations, hparams=hparams, pages=pages,
                        arxiv_id=(meta.arxiv_id.full if meta else aid.full if aid else None), family=plan)
    written = write_scaffold(papers_dir, data, force=force)
    return {"result": written, "tables": tables, "hparams": hparams, "links": links, "meta": meta,
            "family": choice, "plan": plan}


def _family(meta: Any, tex: str | None, pages: list[str] | None, tables: list, hparams: list,
            override: str | None) -> tuple[Any, Any]:
    """The architecture family (families.py) and its configs; the toy when none fits."""
    from ..families import choose_family, plan_family

    title = getattr(meta, "title", None) or _latex_title(tex) or ""
    abstract = getattr(meta, "abstract", None) or _latex_abstract(tex) or ""
    if not abstract and pages:  # no metadata, no LaTeX: the first page holds the abstract
        abstract = " ".join(pages[0].split())[:2000]
    choice = choose_family(pages, tex, title, abstract, tables, override)
    return choice, plan_family(choice, hparams, pages, tex)


def _extract(pdf_path: Path | None, pages: list[str] | None, tex: str | None,
             pdf_tables: tuple[list | None, str | None] | None = None) -> tuple[list, list, dict, list]:
    """Tables, claims, ablations, hyperparameters; each step degrades to a warning.

    `pdf_tables` is (tables, why they failed) when the PDF's tables were already read with
    its text (pdftext.pdf_pages_and_tables)."""
    tables: list = []
    try:
        from ..extract import tables as xt
    except ImportError as e:
        _warn(f"table extraction is not available ({e}); claims.yaml starts empty")
        xt = None
    if xt is not None:
        try:
            if tex:
                tables = xt.tables_from_latex(tex)
                if pages:  # the PDF was given too: each LaTeX table's page from its caption
                    from ..extract.latex_tables import place_on_pages

                    place_on_pages(tables, pages)
            if not tables and pdf_tables is not None:
                found, failed = pdf_tables
                if failed is not None:
                    _warn(f"reading tables failed ({failed}); claims.yaml starts empty")
                tables = found or []
            elif not tables and pdf_path is not None:
                from ..sandbox import run_sandboxed

                tables = run_sandboxed(xt.tables_from_pdf, str(pdf_path), timeout_s=180, memory_mb=3072,
                                       what="reading tables from the PDF")
        except ReproError as e:
            _warn(f"reading tables failed: {e}")
        except Exception as e:  # noqa: BLE001 - an extractor bug must not cost the whole folder
            _warn(f"reading tables failed ({type(e).__name__}: {e}); claims.yaml starts empty")
            tables = []
    claims: list = []
    ablations: dict = {}
    if tables:
        try:
            from ..extract import claims as xc

            claims = list(xc.claims_from_tables(tables))
            ablations = dict(xc.ablation_configs(tables))
        except ImportError as e:
            _warn(f"claim extraction is not available ({e})")
        except Exception as e:  # noqa: BLE001
            _warn(f"reading claims failed ({type(e).__name__}: {e})")
    hparams: list = []
    text_pages = pages
    if not pages and tex:
        from ..extract.latex_tables import latex_plain_text

        text_pages = [latex_plain_text(tex)]
    if text_pages:
        try:
            from ..extract import hparams as xh

            hparams = list(xh.find_hparams(text_pages))
            seen = {(h.key, str(h.value)) for h in hparams}
            hparams += [h for h in xh.from_tables(tables) if (h.key, str(h.value)) not in seen]
            if not pages:  # LaTeX has no pages
                hparams = [dataclasses.replace(h, page=None) for h in hparams]
        except ImportError as e:
            _warn(f"hyperparameter extraction is not available ({e})")
        except Exception as e:  # noqa: BLE001
            _warn(f"reading hyperparameters failed ({type(e).__name__}: {e})")
    return tables, claims, ablations, hparams


def _latex_title(tex: str | None) -> str | None:
    if not tex:
        return None
    m = re.search(r"\\title\s*(?:\[[^\]]*\])?\s*\{((?:[^{}]|\{[^{}]*\})*)\}", tex)
    if not m:
        return None
    title = re.sub(r"\\[a-zA-Z]+\*?|[{}~]", " ", m.group(1))
    return " ".join(title.split()) or None


def _latex_abstract(tex: str | None) -> str:
    if not tex:
        return ""
    m = re.search(r"\\begin\{abstract\}(.*?)\\end\{abstract\}", tex, re.S)
    if not m:
        return ""
    text = re.sub(r"(?<!\\)%.*", "", m.group(1))
    text = re.sub(r"\\[a-zA-Z]+\*?|[{}~]", " ", text)
    return " ".join(text.split())


def _meta_dict(meta: Any, aid: Any, folder: str, tex: str | None) -> dict[str, Any]:
    if meta is not None:
        return {
            "id": meta.id, "version": f"v{meta.version}" if meta.version else None,
            "title": meta.title, "authors": meta.authors, "abstract": meta.abstract,
            "published": meta.published, "updated": meta.updated, "categories": meta.categories,
            "doi": meta.doi, "comments": meta.comments,
        }
    title, abstract = _latex_title(tex), _latex_abstract(tex)
    missing = ["authors", "dates"] + (["title"] if not title else []) + (["abstract"] if not abstract else [])
    _warn(f"no arXiv metadata: fill in {', '.join(missing)} in paper.yaml")
    return {
        "id": aid.base if aid is not None else folder,
        "version": f"v{aid.version}" if aid is not None and aid.version else None,
        "title": title or folder, "authors": [], "abstract": abstract,
        "published": None, "updated": None, "categories": [], "doi": None, "comments": None,
    }


def _print_summary(info: dict[str, Any]) -> None:
    res = info["result"]
    claims = res.claims
    runnable = sum(1 for c in claims if c.get("kind", "value") == "value" and c.get("config"))
    tables = info["tables"]
    links = info["links"]
    click.secho(f"wrote {res.path}/", fg="green", bold=True)
    if info["meta"] is not None:
        click.echo(f"  {info['meta'].title}")
    detail = ", ".join(f"Table {t.number}" + (" (image only)" if getattr(t, "image_only", False) else "")
                       for t in tables)
    click.echo(f"  {len(tables)} tables" + (f": {detail}" if detail else ""))
    click.echo(f"  {len(claims)} candidate claims ({runnable} runnable on the scaffold)")
    choice, plan = info.get("family"), info.get("plan")
    if plan is not None:
        click.echo(f"  family: {plan.family.name}: {choice.why}")
        for e in choice.evidence:
            where = "abstract" if e.in_abstract else (f"p.{e.page}" if e.page else "text")
            click.echo(f"    {where}: \"{' '.join(e.sentence.split())[:150]}\"")
        click.echo(f"  {len(info['hparams'])} hyperparameters; {len(plan.settings)} wired into configs-paper/base.yaml")
        click.echo(f"  configs/ is a CPU proxy: {'; '.join(plan.scaled)}")
    else:
        if choice is not None:
            click.echo(f"  family: toy stand-in: {choice.why}")
        click.echo(f"  {len(info['hparams'])} hyperparameters (commented in configs/base.yaml)")
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
