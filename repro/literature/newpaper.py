"""`repro new` as a library call: a paper's files in, a paper folder that already runs out.

`new_paper` fetches the metadata, the PDF and (when arXiv has it) the LaTeX source, reads the
tables, candidate claims, hyperparameters and links, picks the architecture family, and writes
the folder (scaffold.py). commands/new.py parses the command line and prints the summary.
"""

from __future__ import annotations

import dataclasses
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..errors import ArxivIdError, FetchError, NotFoundError, PaperFolderError, ReproError, SourceArchiveError


@dataclass
class NewPaper:
    """What `new_paper` wrote and read."""
    result: Any          # scaffold.ScaffoldResult: the folder, its files, claims and ablation configs
    tables: list         # extract.tables.Table, LaTeX or PDF
    hparams: list        # extract.hparams.Hparam
    links: dict          # kind -> URLs (links.find_links)
    meta: Any            # fetch.PaperMeta or None (offline, or not on arXiv)
    family: Any          # families.FamilyChoice
    plan: Any            # families.FamilyPlan, or None for the toy scaffold


def new_paper(aid: Any, folder: str, pdf_file: Path | None = None, source_file: Path | None = None, *,
              offline: bool = False, papers_dir: str | Path = "papers", force: bool = False,
              family: str | None = None, log: Callable[[str], None] | None = None,
              warn: Callable[[str], None] | None = None) -> NewPaper:
    """Fetch (or take) a paper's files, read them, and write `papers_dir/folder/`.

    `aid` is a parsed arXiv id (arxiv_ids.parse_arxiv_id) or None for a paper given only by
    its files; `folder` the folder name. Refuses an existing folder unless `force`, and an
    unknown `family`, before any download. Progress goes to `log`, recoverable problems (no
    LaTeX source, a table reader failure) to `warn`; user mistakes raise ReproError."""
    say = log or (lambda msg: None)
    warn = warn or (lambda msg: None)
    papers_dir = Path(papers_dir)
    target = papers_dir / folder
    if target.exists() and not force:  # before any download: refuse early
        raise PaperFolderError(f"{target} already exists",
                               hint="nothing was changed; pass --force to replace it", where=str(target))
    if family:  # a typo fails before any download
        from .families import choose_family

        choose_family(None, None, override=family)
    from .archive import extract_source, read_source_bibliography, read_source_tex
    from .fetch import Fetcher, local_file
    from .links import find_links
    from .pdftext import check_pdf_file, pdf_pages, pdf_pages_and_tables
    from .scaffold import ScaffoldData, write_scaffold

    fetcher = Fetcher(offline=offline, log=say)
    have_local = bool(pdf_file or source_file)

    # 1. Metadata. With local files, a network failure is a warning, not the end.
    meta = None
    if aid is not None:
        say(f"looking up {aid.full} on arXiv{' (cache only)' if offline else ''} ...")
        try:
            meta = fetcher.metadata(aid)
        except (NotFoundError, ArxivIdError):
            raise
        except FetchError as e:
            if not have_local:
                raise
            warn(f"{e.message}; continuing with the files given, metadata left blank in paper.yaml")

    # 2. The PDF.
    pdf = None
    if pdf_file is not None:
        check_pdf_file(pdf_file)
        pdf = local_file(pdf_file)
    elif meta is not None:
        say("fetching the PDF ...")
        pdf = fetcher.pdf(meta)

    # 3. The LaTeX source (optional: a failure only costs the LaTeX tables).
    src = None
    if source_file is not None:
        src = local_file(source_file)
    elif meta is not None:
        try:
            src = fetcher.source(meta)
        except FetchError as e:
            warn(f"no LaTeX source: {e.message}")

    with tempfile.TemporaryDirectory(prefix="repro-src-") as tmpdir:
        tex, bib = None, ""
        if src is not None:
            try:
                root = extract_source(src.path, Path(tmpdir) / "src")
            except SourceArchiveError as e:
                if source_file is not None:
                    raise  # the user's own file: their mistake to fix
                warn(f"arXiv's LaTeX source was not used: {e}")
                root = None
            tex = read_source_tex(root) if root is not None else None
            bib = read_source_bibliography(root) if tex and "\\bibitem" not in tex else ""
            if root is not None and tex is None:
                warn("the source has no LaTeX file; tables come from the PDF only")

        pages, pdf_tables = None, None
        if pdf is not None and not tex:  # the tables come from the PDF: one parse for both
            pages, found, failed = pdf_pages_and_tables(pdf.path)
            pdf_tables = (found, failed)
        elif pdf is not None:
            pages = pdf_pages(pdf.path)
        # the .bbl goes to the table reader only: cited works' URLs are not the paper's links
        tables, claims, ablations, hparams = _extract(pdf.path if pdf else None, pages,
                                                      tex + "\n" + bib if tex and bib else tex, pdf_tables,
                                                      warn)
        choice, plan = _family(meta, tex, pages, tables, hparams, family)

    links = find_links("\n".join(pages or []), tex or "")
    meta_dict = _meta_dict(meta, aid, folder, tex, warn)
    meta_dict["pdf_sha256"] = pdf.sha256 if pdf else None
    meta_dict["source_sha256"] = src.sha256 if src and src.sha256 else None
    data = ScaffoldData(folder=folder, meta=meta_dict, links=links, tables=tables, claims=claims,
                        ablations=ablations, hparams=hparams, pages=pages,
                        arxiv_id=(meta.arxiv_id.full if meta else aid.full if aid else None), family=plan)
    written = write_scaffold(papers_dir, data, force=force)
    return NewPaper(written, tables, hparams, links, meta, choice, plan)


def _family(meta: Any, tex: str | None, pages: list[str] | None, tables: list, hparams: list,
            override: str | None) -> tuple[Any, Any]:
    """The architecture family (families.py) and its configs; the toy when none fits."""
    from .families import choose_family, plan_family

    title = getattr(meta, "title", None) or _latex_title(tex) or ""
    abstract = getattr(meta, "abstract", None) or _latex_abstract(tex) or ""
    if not abstract and pages:  # no metadata, no LaTeX: the first page holds the abstract
        abstract = " ".join(pages[0].split())[:2000]
    choice = choose_family(pages, tex, title, abstract, tables, override)
    return choice, plan_family(choice, hparams, pages, tex)


@contextmanager
def _best_effort(step: str, what: str, warn: Callable[[str], None]) -> Iterator[None]:
    """An extraction step that fails (or whose module cannot load) is a warning, not an error:
    the folder is still written, with that part left for the user."""
    try:
        yield
    except ImportError as e:
        warn(f"{step} is not available ({e})")
    except Exception as e:  # noqa: BLE001
        warn(f"reading {what} failed ({type(e).__name__}: {e})")


def _extract(pdf_path: Path | None, pages: list[str] | None, tex: str | None,
             pdf_tables: tuple[list | None, str | None] | None = None,
             warn: Callable[[str], None] = lambda msg: None) -> tuple[list, list, dict, list]:
    """Tables, claims, ablations, hyperparameters; each step degrades to a warning.

    `pdf_tables` is (tables, why they failed) when the PDF's tables were already read with
    its text (pdftext.pdf_pages_and_tables)."""
    tables: list = []
    try:
        from .extract import tables as xt
    except ImportError as e:
        warn(f"table extraction is not available ({e}); claims.yaml starts empty")
        xt = None
    if xt is not None:
        try:
            if tex:
                tables = xt.tables_from_latex(tex)
                if pages:  # the PDF was given too: each LaTeX table's page from its caption
                    from .extract.latex_tables import place_on_pages

                    place_on_pages(tables, pages)
            if not tables and pdf_tables is not None:
                found, failed = pdf_tables
                if failed is not None:
                    warn(f"reading tables failed ({failed}); claims.yaml starts empty")
                tables = found or []
            elif not tables and pdf_path is not None:
                from .sandbox import run_sandboxed

                tables = run_sandboxed(xt.tables_from_pdf, str(pdf_path), timeout_s=180, memory_mb=3072,
                                       what="reading tables from the PDF")
        except ReproError as e:
            warn(f"reading tables failed: {e}")
        except Exception as e:  # noqa: BLE001 - an extractor bug must not cost the whole folder
            warn(f"reading tables failed ({type(e).__name__}: {e}); claims.yaml starts empty")
            tables = []
    claims: list = []
    ablations: dict = {}
    if tables:
        with _best_effort("claim extraction", "claims", warn):
            from .extract import claims as xc

            claims = list(xc.claims_from_tables(tables))
            ablations = dict(xc.ablation_configs(tables))
    hparams: list = []
    text_pages = pages
    if not pages and tex:
        from .extract.latex_text import latex_plain_text

        text_pages = [latex_plain_text(tex)]
    if text_pages:
        with _best_effort("hyperparameter extraction", "hyperparameters", warn):
            from .extract import hparams as xh

            hparams = list(xh.find_hparams(text_pages))
            seen = {(h.key, str(h.value)) for h in hparams}
            hparams += [h for h in xh.from_tables(tables) if (h.key, str(h.value)) not in seen]
            if not pages:  # LaTeX has no pages
                hparams = [dataclasses.replace(h, page=None) for h in hparams]
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


def _meta_dict(meta: Any, aid: Any, folder: str, tex: str | None,
               warn: Callable[[str], None] = lambda msg: None) -> dict[str, Any]:
    if meta is not None:
        return {
            "id": meta.id, "version": f"v{meta.version}" if meta.version else None,
            "title": meta.title, "authors": meta.authors, "abstract": meta.abstract,
            "published": meta.published, "updated": meta.updated, "categories": meta.categories,
            "doi": meta.doi, "comments": meta.comments,
        }
    title, abstract = _latex_title(tex), _latex_abstract(tex)
    missing = ["authors", "dates"] + (["title"] if not title else []) + (["abstract"] if not abstract else [])
    warn(f"no arXiv metadata: fill in {', '.join(missing)} in paper.yaml")
    return {
        "id": aid.base if aid is not None else folder,
        "version": f"v{aid.version}" if aid is not None and aid.version else None,
        "title": title or folder, "authors": [], "abstract": abstract,
        "published": None, "updated": None, "categories": [], "doi": None, "comments": None,
    }
