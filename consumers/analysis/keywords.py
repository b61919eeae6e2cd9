"""Keywords of a story and the policy documents it cites.

Keywords are jieba's TF-IDF (the same scoring as `jieba.analyse.extract_tags`: term frequency times
the IDF from jieba's shipped `idf.txt`, the median IDF for unknown words, words shorter than two
characters and jieba's stop words dropped) computed over the shared segmenter, so the campaign's
terms (微信工作群, 指尖上的形式主义, 政务APP, 僵尸群) come out whole. We read `idf.txt` ourselves
instead of importing `jieba.analyse`: that import alone costs ~0.85 s (it pulls in jieba's POS
tagger) and segments with jieba's slower Python tokenizer, while rjieba gives the same tokens at
~20x the speed. The headline is counted twice: it names what the story is about.

Policy documents are the titles cited in 《》, in order, deduplicated, without the 〈〉 marks of
documents cited inside them, and without newspapers, journals and programmes (《人民日报》).
"""

from __future__ import annotations

import importlib.util
import re
from collections import Counter
from functools import cache
from pathlib import Path

from consumers.analysis.segment import cut

# jieba.analyse.TFIDF.STOP_WORDS, copied so that we need not import jieba.analyse (see above).
JIEBA_STOP_WORDS = frozenset({
    "the", "of", "is", "and", "to", "in", "that", "we", "for", "an", "are", "by", "be", "as", "on",
    "with", "can", "if", "from", "which", "you", "it", "this", "then", "at", "have", "all", "not",
    "one", "has", "or",
})
# Tokens that carry no topic: numbers, dates, Latin fragments of URLs.
_NOT_A_KEYWORD = re.compile(r"^[\d.,%％:/\-年月日号时分秒]+$|^[a-z]$", re.IGNORECASE)


@cache
def idf_table() -> tuple[dict[str, float], float]:
    """jieba's IDF table (word -> idf) and its median, the IDF jieba gives unknown words."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or spec.origin is None:
        raise RuntimeError("jieba is not installed: it ships the idf.txt keywords.py reads")
    path = Path(spec.origin).parent / "analyse" / "idf.txt"
    idf: dict[str, float] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            word, _, value = line.strip().rpartition(" ")
            if word:
                idf[word] = float(value)
    values = sorted(idf.values())
    return idf, values[len(values) // 2]


def extract_keywords(title: str, text: str, top_k: int = 10) -> list[str]:
    """The `top_k` words of the story by TF-IDF, best first (ties in first-seen order)."""
    idf, median = idf_table()
    counts: Counter[str] = Counter()
    for word in cut(title) * 2 + cut(text):
        word = word.strip()
        if len(word) < 2 or word.lower() in JIEBA_STOP_WORDS or _NOT_A_KEYWORD.match(word):
            continue
        counts[word] += 1
    if not counts:
        return []
    total = sum(counts.values())
    scored = sorted(counts, key=lambda w: counts[w] * idf.get(w, median) / total, reverse=True)
    return scored[:top_k]


_BOOK_TITLE = re.compile(r"《([^《》]{2,120})》")
# Periodicals, broadcasts and sites cited in 《》 are sources, not documents.
_MEDIA_TITLE = re.compile(
    r"(日报|晚报|早报|商报|时报|周报|画报|都市报|青年报|法治报|经济报|导报|快报|杂志|周刊|月刊|半月刊|"
    r"学报|新闻联播|焦点访谈|新闻|频道|网|客户端)$|(?<![通简公年汇情电])报$|^(求是|半月谈|瞭望|人民论坛|党建|紫光阁)$")
# A bare document type (《通知》明确…) refers back to the full title cited before it.
_BARE_TYPE = re.compile(r"^(通知|意见|方案|办法|规定|条例|决定|规范|措施|细则|规划|纲要|清单|指引|准则|若干规定)$")


def extract_policy_documents(text: str) -> list[str]:
    """Titles cited in 《》, first-seen order, each once; 〈〉 around inner citations removed."""
    documents: list[str] = []
    for match in _BOOK_TITLE.finditer(text):
        title = re.sub(r"[〈〉<>]", "", match.group(1)).strip()
        if not title or _MEDIA_TITLE.search(title) or _BARE_TYPE.match(title) or title in documents:
            continue
        documents.append(title)
    return documents
