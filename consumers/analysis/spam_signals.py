"""Vocabulary-light signals for the page-level spam verdict (`junk.page_spam_verdict`).

* `fold`: the text spam terms are matched on. NFKC (full-width letters), spam words split into
  single characters to dodge filters ("博 彩", "代-开-发-票") joined again, and spam words quoted
  by a report on spam ("以“百家乐”“注册送彩金”为噱头", in a sentence naming police, a court or a
  warning) blanked: crackdown and consumer-warning news quotes the adverts it reports on.
  Offsets are kept (blanking and joining only replace characters by filler of the same length),
  so spans found on the folded text cut the original.
* `contact_hooks`: QQ / WeChat / LINE / WhatsApp / Telegram ids, phone numbers and web addresses:
  an advert asks the reader to get in touch; news gives at most a hotline.
* `news_structure`: dateline, 本报讯, 记者/通讯员 credits, source lines, 日电/消息 openings.
* `advert_page`: contact hooks with sales talk on a page without news structure.
* `anchor_texts`: the link texts of an HTML page (a link farm is mostly links, which extraction
  drops as navigation).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

_HAN = "\u3400-\u9fff\uf900-\ufaff"
# Single Han characters separated by spaces or symbols (not sentence punctuation): "博 彩 平 台".
_SPLIT_WORD = re.compile(rf"(?<![{_HAN}])[{_HAN}](?:[ \t\-_·.*|/~+=#]+[{_HAN}](?![{_HAN}])){{1,}}")
_SPLIT_GAP = re.compile(r"[ \t\-_·.*|/~+=#]+")
_QUOTED = re.compile(r"“[^“”]{1,24}”|「[^「」]{1,24}」|‘[^‘’]{1,24}’|\"[^\"]{1,24}\"")
# Words of a report on spam: who acts against it or warns about it.
_REPORTING = re.compile(
    r"警方|公安|民警|司警|警察|破获|捣毁|捣破|打掉|抓获|拘捕|犯罪|嫌疑人|涉案|涉嫌|查处|查获|打击|判处|法院|检察"
    r"|提醒|警惕|谨防|切勿|骗局|诈骗|骗徒|违法|非法|取缔|整治|举报|监管|投诉|为噱头|为诱饵|为幌子|为卖点|为名|为招徕")
# "…“不看征信”“当天放款”等广告": quoted wording listed as examples is cited, not advertised.
_LISTED_QUOTES = re.compile(r"[”」’\"]等")
_FILLER = "○"


def _join_split_word(m: re.Match[str]) -> str:
    joined = _SPLIT_GAP.sub("", m.group())
    return joined + _FILLER * (len(m.group()) - len(joined))


def _blank_reported_quotes(text: str) -> str:
    if not (_REPORTING.search(text) or _LISTED_QUOTES.search(text)):
        return text
    return _QUOTED.sub(lambda m: _FILLER * len(m.group()), text)


@lru_cache(maxsize=16384)
def fold(text: str) -> str:
    """The text as spam terms are matched on it (see module doc); same length as `text` when NFKC
    leaves it alone, which it does for normalised news text."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _SPLIT_WORD.sub(_join_split_word, text)
    if "“" in text or "「" in text or "‘" in text or '"' in text:
        text = _blank_reported_quotes(text)   # the paragraph is the unit of a report
    return text


# --- adverts -------------------------------------------------------------------------------------

# A person to write to: a messenger account or a mobile number (what adverts give, and news and
# official notices, which give hotlines and web addresses, do not).
_PERSONAL_CONTACT = (
    r"(?:qq|微信|薇信|威信|vx|wx|v信|加v|line(?:\s*id)?|whatsapp|telegram|飞机|tg)(?:号|群|同号)?\s*[:：]?\s*@?[a-z0-9_\-]{4,}"
    r"|(?:加|添加|联系)(?:我|老师|导师|客服|经理)?的?(?:微信|qq|line|vx)"
    r"|(?<!\d)1[3-9]\d[-\s]?\d{4}[-\s]?\d{4}(?!\d)|\+?852\s?\d{4}\s?\d{4}|whatsapp"
)
_PERSONAL = re.compile(_PERSONAL_CONTACT)
_CONTACT = re.compile(
    _PERSONAL_CONTACT
    + r"|www\.[a-z0-9\-]+\.[a-z]{2,}|https?://|[a-z0-9\-]+\.(?:com|cn|net|cc|vip|top)\b|(?<!\d)400-?\d{3}-?\d{4}(?!\d)",
)
# Sales talk: what adverts promise and ask for, and news sentences rarely say in their own voice.
_SALES = re.compile(
    r"咨询|预约|加盟|招商|优惠|特价|低至|元起|代理|佣金|返点|返款|兼职|日赚|日结|包过|包录用|退款|到账|下款|额度|免息"
    r"|批核|申请|下载|进群|扫码|私信|名额有限|先到先得|要抢要快|不满意|保密|隐密|私密|稳定|不封号|上岸|跟单|明牌"
    r"|稳稳|盈利|赚|免费|送|24小时|二十四小时|在线客服|可查|可验证|先验|查验|全国邮寄|外送|服务"
    r"|价格透明|套餐|包成功|非诚勿扰|私聊|备注|包邮|货到付款|疗程|有效率|一对一|vip|会员|注册即|提款|到帐|充值"
    r"|准准准|全网最快|限时|抢购")
_NEWS = re.compile(
    r"本报讯|报讯|记者|通讯员|日电|消息[（(]|据[^，。]{1,12}(?:报道|消息)|来源[:：]|责任编辑|责编"
    r"|\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?|\d{1,2}月\d{1,2}日|昨日|日前|近日|获悉|公布|表示|介绍"
    # and of official notices, which give web addresses and ask to apply (申请) or ask (咨询) too
    r"|特此(?:通知|公告)|各有关单位|各(?:单位|部门)[:：]|主办单位")
_MIN_SALES = 3
# A text that itself gives a WeChat/QQ/mobile contact and has no structure of news needs only one
# sales word: no news item of the training part (230 pages) asks to be contacted without a dateline,
# credit or reporting verb, while 58 of its 60 adverts do. A contact only in the HTML (a portal's
# footer) still needs the full sales talk.
_MIN_SALES_WITH_CONTACT = 1


def contact_hooks(text: str, personal: bool = False) -> int:
    """Contact hooks in the text: web addresses, 400 numbers and, or with `personal` only, messenger
    accounts and mobile numbers."""
    return len((_PERSONAL if personal else _CONTACT).findall(unicodedata.normalize("NFKC", text).lower()))


def news_structure(text: str) -> bool:
    """Dateline, credit, source line or the reporting verbs of news (获悉, 表示, 近日 ...), or the
    address and closing formula of an official notice."""
    return bool(_NEWS.search(text))


def advert_page(text: str, extra_contacts: int | Callable[[], int] = 0) -> bool:
    """A page that asks to be contacted (QQ, WeChat, phone, web address) and sells (咨询, 优惠,
    加盟, 到账, 日赚 ...), without any of the structure of news: an advert or a spun sales text.
    `extra_contacts`: hooks found outside `text` (the HTML footer that extraction dropped), or a
    function that counts them - scanning a whole HTML page is the costly test, so it comes last."""
    if news_structure(text):
        return False
    sales = len(set(_SALES.findall(fold(text))))
    if sales >= _MIN_SALES_WITH_CONTACT and contact_hooks(text, personal=True):
        return True
    if sales < _MIN_SALES:
        return False
    return bool(contact_hooks(text) or (extra_contacts() if callable(extra_contacts) else extra_contacts))


def html_contact_hooks(html: str) -> int:
    return contact_hooks(_TAG.sub(" ", html))


# --- HTML links ----------------------------------------------------------------------------------

_ANCHOR = re.compile(r"<a\b[^>]*>(.*?)</a\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def anchor_texts(html: str) -> list[str]:
    """The visible texts of the page's links (tags stripped, empty ones left out)."""
    texts = (_TAG.sub("", m).strip() for m in _ANCHOR.findall(html))
    return [t for t in texts if t]
