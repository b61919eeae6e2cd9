"""Pure text analysis: one raw page (HTML or text) in, zero or more understood stories out.

No Kafka, no Elasticsearch: `newsmon analyze` and the processor consumer call the same
`pipeline.analyze_page`. Each step is a small module of pure functions:

    extract.py    HTML -> ExtractedPage (title, paragraphs, date, byline, outlet)   [trafilatura]
    normalize.py  width/whitespace, broken print line-wraps joined, Traditional->Simplified [OpenCC]
    junk.py       page-level spam verdict; line-level junk (injected spam, widgets, ads, footers)
    split.py      one page -> StorySpan per story (newspaper pages, 速览 columns, commentaries)
    relevance.py  burden-reduction or not, score, measures                        [lexicon + sklearn]
    regions.py    administrations running the measure                             [cpca gazetteer]
    figures.py    key quantities with exact source substrings
    keywords.py   keywords [rjieba + jieba idf], policy documents in 《》
    dedup.py      near-duplicate cluster ids                                      [datasketch MinHash]
    pipeline.py   the orchestration above, returning the DESIGN.md `analyze` contract
"""
