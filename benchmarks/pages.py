"""The realistic page mix the processor and end-to-end benchmarks feed the pipeline, all from the
repository (no network, nothing outside it):

- the fixture news site's article pages (tests/fixtures/site/www, the five seed pages among them:
  whole newspaper pages, Traditional and GBK pages, spam-injected pages), with the outlet and home
  region the crawler would attach from sources.yaml;
- the hand-kept HTML test pages (tests/fixtures/pages);
- every item of the labelled corpus (relevant, hard negatives, unrelated, spam): HTML items as
  they are, text items rendered as portal article pages with navigation, share bar and footer.

About 40 % of the pages carry a burden-reduction story and name over a hundred administrations, so
the alerter opens campaigns and sends e-mail as it would on real input.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

import yaml

from benchmarks.common import ROOT
from crawler.encoding import decode_body
from newsmon import gazetteer

SITE = ROOT / "tests" / "fixtures" / "site"
PAGES = ROOT / "tests" / "fixtures" / "pages"


@dataclass(frozen=True, slots=True)
class PoolPage:
    name: str                   # where it comes from, for reports
    url: str
    html: str
    outlet: str | None = None
    home_region: dict | None = None


def portal_html(text: str, sidebar: tuple[str, ...] = ()) -> str:
    """A text item as a regional portal's article page. Real portal pages are mostly furniture (a
    long navigation, a related-news sidebar, scripts, a footer), which is what the extractor spends
    its time discarding, so the page carries some: about 15 KB, like a lean county portal."""
    paragraphs = [p.strip() for p in text.split("\n") if p.strip()]
    title = paragraphs[0]
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs[1:])
    nav = "".join(f"<li><a href='/channel/{i}/index.html'>栏目{i}</a></li>" for i in range(60))
    related = "".join(f"<li><a href='/news/related/{i}.html'>{html.escape(h)}</a><span>03-{i % 28 + 1:02d}</span></li>"
                      for i, h in enumerate(sidebar))
    script = "".join(f"var slot{i}={{id:{i},src:'/ad/{i}.js',w:300,h:250}};" for i in range(120))
    style = "".join(f".m{i}{{margin:{i}px;padding:{i % 7}px;color:#{i:06x}}}" for i in range(120))
    return (f"<html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>{style}</style>"
            f"<script>{script}</script></head><body>"
            f"<div class='top'><ul class='nav'>{nav}</ul></div>"
            f"<div class='crumb'>您所在的位置：首页 &gt; 新闻 &gt; 正文</div>"
            f"<div class='main'><div class='article'><h1>{html.escape(title)}</h1>"
            f"<div class='info'>来源：本网 发布时间：2025-03-12 09:30</div>{body}</div>"
            f"<div class='share'>分享到：微信 微博 QQ空间</div></div>"
            f"<div class='side'><h3>相关新闻</h3><ul>{related}</ul></div>"
            f"<div class='footer'>主办单位：县人民政府办公室 版权所有 ICP备05022042号 电话：0591-87095403 "
            f"网站标识码 3501020001</div></body></html>")


def _region(name: str | None) -> dict | None:
    if not name:
        return None
    return gazetteer.resolve_region(name).as_region()


def _site_pages() -> list[PoolPage]:
    manifest = json.loads((SITE / "manifest.json").read_text(encoding="utf-8"))
    sources = {s["id"]: s for s in yaml.safe_load((SITE / "sources.yaml").read_text(encoding="utf-8"))["sources"]}
    out = []
    for article in manifest["articles"]:
        source = sources[(article["sources"] or ["fixture-epaper"])[0]]  # an archive page no source lists
        body = decode_body((SITE / "www" / article["path"].lstrip("/")).read_bytes(), "text/html").text
        out.append(PoolPage(f"site:{article['id']}", manifest["base_url"] + article["path"], body,
                            source.get("outlet"), _region(source.get("region"))))
    return out


def _test_pages() -> list[PoolPage]:
    return [PoolPage(f"pages:{p.stem}", f"http://127.0.0.1/pages/{p.name}", decode_body(p.read_bytes()).text)
            for p in sorted(PAGES.glob("*.html"))]


def _corpus_pages() -> list[PoolPage]:
    from consumers.analysis.corpus import load_corpus

    items = list(load_corpus("all"))
    # sidebars list other news of the day, not burden-reduction stories (that would change the page)
    headlines = [i["input"]["text"].split("\n", 1)[0].strip() for i in items
                 if i["category"] == "unrelated" and "text" in i["input"]]
    out = []
    for n, item in enumerate(items):
        given = item["input"]
        sidebar = tuple(headlines[(n + k) % len(headlines)] for k in range(12)) if headlines else ()
        doc = given["html"] if "html" in given else portal_html(given["text"], sidebar)
        url = given.get("url") or f"http://127.0.0.1/corpus/{item['id']}.html"
        if urlsplit(url).scheme not in ("http", "https"):
            url = f"http://127.0.0.1/corpus/{item['id']}.html"
        out.append(PoolPage(f"corpus:{item['id']}", url, doc, item.get("outlet"), item.get("home_region")))
    return out


@lru_cache(maxsize=1)
def page_pool() -> tuple[PoolPage, ...]:
    return tuple(_site_pages() + _test_pages() + _corpus_pages())
