"""Check every link within the built HTML site: no network, no external links.

Usage: ``python docs/check_links.py docs/_build/html``

For every ``href`` and ``src`` in every HTML page that points into the site
(a relative URL: no scheme, no host), the target file must exist and, when
the link has a ``#fragment``, the target page must have an element with that
``id`` (or an ``<a name=...>``). External links (``http:``, ``https:``,
``mailto:``, ...) are not followed. Exits 1 and lists the broken links if
there are any.
"""

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

# Pages that are copies of the theme's or Sphinx's machinery, not content.
SKIP_DIRS = {"_static", "_sources", "_images", "_downloads"}


class _Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links = []  # (tag, attribute, url, line)
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        for name in ("href", "src"):
            value = attrs.get(name)
            if value is not None:
                self.links.append((tag, name, value, self.getpos()[0]))


def _parse(path, cache):
    if path not in cache:
        page = _Page()
        page.feed(path.read_text(encoding="utf-8", errors="replace"))
        cache[path] = page
    return cache[path]


def check_site(root):
    """Return ``(problems, n_pages, n_links)``: problems are ``"page:line: message"``."""
    root = Path(root).resolve()
    if not (root / "index.html").is_file():
        return [f"{root}: no index.html: is this a built HTML site?"], 0, 0
    cache, problems, n_links = {}, [], 0
    pages = [
        p for p in sorted(root.rglob("*.html"))
        if not SKIP_DIRS.intersection(p.relative_to(root).parts[:-1])
    ]
    for page_path in pages:
        page = _parse(page_path, cache)
        for tag, attribute, url, line in page.links:
            parts = urlsplit(url)
            if parts.scheme or parts.netloc or url.startswith("//"):
                continue  # external: not checked here, and never fetched
            n_links += 1
            where = f"{page_path.relative_to(root)}:{line}"
            if parts.path:
                target = (page_path.parent / unquote(parts.path)).resolve()
                if target.is_dir():
                    target = target / "index.html"
                if root not in target.parents and target != root:
                    problems.append(f"{where}: {tag} {attribute}={url!r} leaves the site")
                    continue
                if not target.is_file():
                    problems.append(f"{where}: {tag} {attribute}={url!r}: no file {target.relative_to(root)}")
                    continue
            else:
                target = page_path
            fragment = unquote(parts.fragment)
            if fragment and target.suffix == ".html":
                if fragment not in _parse(target, cache).ids:
                    problems.append(
                        f"{where}: {tag} {attribute}={url!r}: no anchor #{fragment} in "
                        f"{target.relative_to(root)}"
                    )
    return problems, len(pages), n_links


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    root = argv[0] if argv else "docs/_build/html"
    problems, n_pages, n_links = check_site(root)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        print(f"{len(problems)} broken internal links in {n_pages} pages.", file=sys.stderr)
        return 1
    print(f"check_links: {n_links} internal links in {n_pages} pages, all resolve.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
