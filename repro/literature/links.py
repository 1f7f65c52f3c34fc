"""Links found in a paper: code repositories, datasets, project pages.

PDF text breaks long URLs across lines ("https://github.com/\\ntensorflow/tensor2tensor"),
and LaTeX wraps them in \\url{} / \\href{}{}; both are handled. Reference-list noise
(doi.org, arxiv.org, publishers) is not a link the engineer needs and is dropped.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_URL = re.compile(r"https?://[^\s<>\"'{}|\\^`\]]+", re.IGNORECASE)
_LATEX_URL = re.compile(r"\\(?:url|href)\s*\{([^}]+)\}")
_CODE_HOSTS = ("github.com", "gitlab.com", "bitbucket.org", "codeberg.org", "sourceforge.net")
_DATA_HOSTS = ("zenodo.org", "figshare.com", "kaggle.com", "archive.ics.uci.edu", "image-net.org",
               "www.image-net.org", "dataverse.harvard.edu", "osf.io", "data.mendeley.com",
               "physionet.org", "statmt.org", "www.statmt.org", "yann.lecun.com", "www.cs.toronto.edu")
_NOISE_HOSTS = ("doi.org", "dx.doi.org", "arxiv.org", "www.arxiv.org", "aclweb.org", "www.aclweb.org",
                "aclanthology.org", "openreview.net", "dl.acm.org", "ieeexplore.ieee.org",
                "link.springer.com", "www.sciencedirect.com", "papers.nips.cc", "proceedings.mlr.press",
                "creativecommons.org", "en.wikipedia.org", "scholar.google.com")
_PROJECT_WORDS = re.compile(r"project (?:page|website)|website|homepage|demo|available at", re.IGNORECASE)
_TRAILING = ".,;:)]}>'\""


def _join_broken_urls(text: str) -> str:
    # A URL cut at a line end after '/', '-' or '_' continues on the next line; after '.' only
    # when the next line goes on like a URL ("tensorflow.\norg/x"), not a new sentence.
    text = re.sub(r"(https?://\S*[/_-])\n(?=[A-Za-z0-9_~%.-])", r"\1", text)
    return re.sub(r"(https?://\S*\.)\n(?=[a-z0-9][A-Za-z0-9_~%-]*[./])", r"\1", text)


def _clean(url: str) -> str:
    url = url.strip()
    while url and url[-1] in _TRAILING:
        # Keep a closing bracket that has its opening one inside the URL.
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def _normalise_code(url: str) -> str | None:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    segs = [s for s in parts.path.split("/") if s]
    if host in ("github.com", "gitlab.com", "bitbucket.org", "codeberg.org"):
        if len(segs) < 2:
            return None  # "https://github.com/" alone is not a repository
        owner, repo = segs[0], segs[1].removesuffix(".git")
        if host == "gitlab.com" and len(segs) > 2 and segs[2] != "-":
            return f"https://{host}/" + "/".join(segs).removesuffix(".git")  # gitlab subgroups
        return f"https://{host}/{owner}/{repo}"
    return url.rstrip("/")


def classify(url: str, context: str = "") -> str | None:
    """'code', 'data', 'project' or None (noise) for one URL."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    path = parts.path.lower()
    if not host or "." not in host:
        return None
    bare = host.removeprefix("www.")
    if bare in _CODE_HOSTS or host in _CODE_HOSTS:
        return "code"
    if bare == "huggingface.co":
        return "data" if path.startswith("/datasets") else "code"
    if host in _DATA_HOSTS or bare in _DATA_HOSTS or "dataset" in path or host.startswith("data."):
        return "data"
    if host in _NOISE_HOSTS or bare in _NOISE_HOSTS:
        return None
    if host.endswith((".github.io", ".gitlab.io")) or bare == "sites.google.com" or "/project" in path:
        return "project"
    if _PROJECT_WORDS.search(context):
        return "project"
    return None


def find_links(*texts: str) -> dict[str, list[str]]:
    """{'code': [...], 'data': [...], 'project': [...]} from PDF text and/or LaTeX, in order found."""
    out: dict[str, list[str]] = {"code": [], "data": [], "project": []}
    for text in texts:
        if not text:
            continue
        text = _join_broken_urls(text)
        found = [(m.group(1), m.start()) for m in _LATEX_URL.finditer(text)]
        found += [(m.group(0), m.start()) for m in _URL.finditer(text)]
        for raw, pos in sorted(found, key=lambda x: x[1]):
            url = _clean(raw)
            if not url.lower().startswith(("http://", "https://")):
                continue
            kind = classify(url, text[max(0, pos - 80):pos])
            if kind is None:
                continue
            if kind == "code":
                url = _normalise_code(url)
                if url is None:
                    continue
            if url not in out[kind]:
                out[kind].append(url)
    return out
