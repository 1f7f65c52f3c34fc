"""A PDF's content streams parsed once and its fonts read once, for every page and pass.

A Form XObject (a plot, a logo, a stamped page) is shown by `Do` on many pages and often many
times on one. The layout pass (pdf_page.py), the rules pass and pypdf's plain text extraction
all read the same streams: `_Doc` parses each one once, reads each font once, tells the layout
pass which forms cannot show text, and lends its parsed streams to pypdf's `extract_text()`.
"""

from __future__ import annotations


def _font_class():
    try:
        from pypdf.generic._font import Font
    except ImportError:  # older pypdf
        from pypdf._text_extraction._layout_mode._font import Font
    return Font


# Operators that can change what the layout pass records after a form is shown; a form
# without any of them (a plot's paths, an image wrapper) is skipped by it.
_TEXT_STATE_OPS = frozenset((b"BT", b"Do", b"Tf", b"Tc", b"Tz", b"Tw", b"TL", b"Ts"))


def _font_resources(res):
    """A resource dictionary's /Font dictionary, as pypdf's layout mode reads it."""
    try:
        from pypdf._page import _get_font_resources
    except ImportError:  # another pypdf: the same rule, written out
        from pypdf.generic import DictionaryObject

        fonts = res.get("/Font")
        fonts = fonts.get_object() if fonts is not None else None
        return fonts if isinstance(fonts, DictionaryObject) else DictionaryObject()
    return _get_font_resources(res)


class _Doc:
    """One PDF's content streams parsed once and its fonts read once, for every page and pass.

    A Form XObject (a plot, a logo, a stamped page) is shown by `Do` on many pages and often
    many times on one; parsing it and reading its fonts again at every `Do`, in the text pass
    and in the rules pass, was most of the time spent on a PDF."""

    def __init__(self, reader) -> None:
        self.reader = reader
        self._ops: dict[int, tuple[object, list, bool]] = {}    # id(stream) -> (stream, ops, inert)
        self._fonts: dict[int, tuple[object, object]] = {}      # id(font dict) -> (dict, Font)
        self._res_fonts: dict[int, tuple[object, dict]] = {}    # id(resources) -> (res, fonts)

    def _parsed(self, stream) -> tuple[object, object, bool]:
        from pypdf.generic import ContentStream

        stream = stream.get_object()
        hit = self._ops.get(id(stream))
        if hit is None:
            parsed = ContentStream(stream, self.reader, "bytes")
            depth, balanced = 0, True
            for _, op in parsed.operations:
                if op == b"q":
                    depth += 1
                elif op == b"Q":
                    depth -= 1
                    balanced = balanced and depth >= 0
            inert = balanced and depth == 0 and not any(op in _TEXT_STATE_OPS for _, op in parsed.operations)
            hit = self._ops[id(stream)] = (stream, parsed, inert)  # the stream kept: its id stays its own
            self._ops[id(parsed)] = hit
        return hit

    def operations(self, stream) -> list:
        """The parsed operators of a page's /Contents or of a Form XObject."""
        return self._parsed(stream)[1].operations

    def inert(self, form) -> bool:
        """A form that shows no text and leaves the text state as it found it."""
        return self._parsed(form)[2]

    def page_text(self, page) -> str:
        """pypdf's plain `extract_text()` of a page, reading the streams already parsed here.

        pypdf reuses a /Contents or a form that is already a parsed ContentStream, so the
        page's own streams and the forms the layout pass read are handed to it as such
        (the form's dictionary copied onto its parsed stream): the text is pypdf's, the
        parsing is done once."""
        from pypdf.generic import NameObject

        contents = page.get("/Contents")
        own = self._ops.pop(id(contents.get_object()), None) if contents is not None else None
        if own is not None:  # read once, by this call: the page's parsed stream is let go after it
            self._ops.pop(id(own[1]), None)
            page[NameObject("/Contents")] = own[1]
        self._lend_forms(page.get("/Resources"), 0)
        try:
            return page.extract_text() or ""
        finally:
            if own is not None:
                page[NameObject("/Contents")] = contents

    def _lend_forms(self, resources, depth: int) -> None:
        try:
            xobjects = resources.get_object()["/XObject"].get_object()
            names = list(xobjects.keys())
        except (AttributeError, KeyError, TypeError):
            return
        for name in names:
            try:
                form = xobjects[name].get_object()
            except (AttributeError, KeyError, TypeError):
                continue
            hit = self._ops.get(id(form))
            if hit is None or hit[1] is form:
                continue  # not read by the layout pass, or already lent
            parsed = hit[1]
            for key, value in form.items():
                if key not in ("/Filter", "/DecodeParms", "/Length"):
                    parsed[key] = value
            xobjects[name] = parsed
            if depth < 5:
                self._lend_forms(parsed.get("/Resources"), depth + 1)

    def font(self, obj):
        hit = self._fonts.get(id(obj))
        if hit is None:
            hit = self._fonts[id(obj)] = (obj, _font_class().from_font_resource(obj))
        return hit[1]

    def fonts_of(self, resources) -> dict:
        """Layout-mode fonts of a resource dictionary (a Form XObject's own /Resources)."""
        from pypdf.generic import DictionaryObject

        try:
            res = resources.get_object()
        except AttributeError:
            return {}
        hit = self._res_fonts.get(id(res))
        if hit is not None:
            return hit[1]
        fonts = {}
        try:
            font_dict = res.get("/Font")
            for name, obj in (font_dict.get_object().items() if font_dict is not None else []):
                obj = obj.get_object()
                if isinstance(obj, DictionaryObject):
                    fonts[name] = self.font(obj)
        except (AttributeError, KeyError, TypeError, ValueError):
            pass
        self._res_fonts[id(res)] = (res, fonts)
        return fonts

    def page_fonts(self, page) -> dict:
        """pypdf's `page._layout_mode_fonts()` with each font read once per document."""
        from pypdf.generic import DictionaryObject, NullObject

        obj, fonts, visited = page, {}, set()
        while id(obj) not in visited:
            visited.add(id(obj))
            res = obj.get("/Resources", DictionaryObject()).get_object()
            if not isinstance(res, DictionaryObject):
                res = DictionaryObject()
            font_res = _font_resources(res)
            if page.pdf is not None and font_res:
                for name in font_res:
                    font_object = font_res[name].get_object()
                    if isinstance(font_object, DictionaryObject):
                        fonts[name] = self.font(font_object)
            parent = obj.get("/Parent", NullObject()).get_object()
            if not isinstance(parent, DictionaryObject):
                break
            obj = parent
        return fonts


def _form_xobject(resources, name):
    """The Form XObject `name` of `resources`, or None (images and missing names too)."""
    try:
        xobj = resources.get_object()["/XObject"].get_object()[name].get_object()
    except (AttributeError, KeyError, TypeError):
        return None
    return xobj if xobj.get("/Subtype") == "/Form" else None
