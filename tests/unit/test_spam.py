"""Page-level spam and injected adverts: the mechanisms added for spun tip pages, keyword stuffing,
keyword <title> mirrors and advert sentences inside news prose (hand-made inputs)."""

from __future__ import annotations

from consumers.analysis.junk import page_spam_verdict, spam_sentence_spans, strip_spam_sentences
from consumers.analysis.normalize import normalize_paragraphs
from consumers.analysis.pipeline import analyze_record

AD = "急需资金周转请加微信dk9988，不看征信，当天放款，黑户贷款秒批。"
NEWS = [
    "本报讯 今年以来，思明区开展工作群专项清理，全区共解散、合并各类工作群623个。",
    "思明区规定，不得在群内要求社区干部“秒回”，不得以群内发言次数作为考核依据。",
]


def test_an_advert_sentence_inside_a_paragraph_is_found_and_cut():
    paragraph = NEWS[0] + AD + "保留的工作群实行“群主负责制”。"
    (start, end), = spam_sentence_spans(paragraph)
    assert paragraph[start:end] == AD
    assert strip_spam_sentences(paragraph) == NEWS[0] + "保留的工作群实行“群主负责制”。"
    # a paragraph of news alone, or of spam alone, has no advert sentence to cut
    assert spam_sentence_spans(NEWS[0]) == ()
    assert spam_sentence_spans(AD + AD) == ()


def test_a_news_page_carrying_one_advert_is_not_spam_and_loses_the_advert():
    paragraph = NEWS[0] + AD + "保留的工作群实行“群主负责制”。"
    assert page_spam_verdict("思明区清理工作群", [paragraph, NEWS[1]]).spam is False
    # a short story with one advert line between its paragraphs is not spam either
    assert page_spam_verdict(None, [NEWS[0], "急用钱？不看征信，黑户贷款秒批，当天放款，加微信dk6688", NEWS[1]]).spam is False
    out = analyze_record({"id": "x", "text": "思明区清理工作群\n\n" + paragraph + "\n\n" + NEWS[1]})
    assert out["spam"] is False
    assert "dk9988" not in out["stories"][0]["text"] and "保留的工作群" in out["stories"][0]["text"]


def test_an_advert_line_is_not_glued_to_the_next_paragraph():
    advert = "急用钱？不看征信，黑户贷款秒批，当天放款，加微信dk6688"
    assert normalize_paragraphs([advert, NEWS[1]]) == [advert, NEWS[1]]
    # a line broken by the print layout still is
    broken = ["今年以来，厦门市思明区开展微信工作群专项清理，全区共解散、合并各类", "工作群623个。"]
    assert normalize_paragraphs(broken) == ["".join(broken)]


def test_spun_tip_page_is_spam_by_the_tipster_jargon():
    page = [
        "很多老彩民都说，买彩票要讲究方法，只有跟对了计划群，才能做到每期稳赚不赔。",
        "本期我们推荐红球胆码为07、16、23，杀号01、12、33，跟着计划投注必定收获满满。",
        "第二个技巧是倍投，第一期投10元，没中就投20元，以此类推，只要中一次就能回本。",
    ]
    assert page_spam_verdict("双色球专家预测", page).spam
    # news about lottery charity uses 彩票 and 中奖 but none of the tipster's jargon
    charity = ["今年前三季度全省销售体育彩票56.3亿元，筹集体彩公益金14.2亿元，资助建成健身路径120条。",
               "省体彩中心提醒广大购彩者理性购彩，量力而行，未成年人不得购买彩票。"]
    assert page_spam_verdict("体彩公益金助力全民健身", charity).spam is False


def test_one_keyword_repeated_over_the_page_is_stuffing():
    page = ["减肥药哪个牌子好？减肥药排行榜前十名，减肥药效果最好的是哪种，减肥药一个月瘦20斤，减肥药不反弹。",
            "减肥药 减肥药排行榜 减肥药哪个好 减肥药效果 减肥药正品 减肥药官网 减肥药价格"]
    verdict = page_spam_verdict("减肥药哪个牌子好", page)
    assert verdict.spam and verdict.reason == "one keyword repeated over the page"


def test_a_keyword_head_title_over_a_copied_story_is_a_mirror():
    story = ["近日，多地出台措施为社区工作者减负，清理社区挂牌、精简报表、压减考核事项。",
             "有关负责人表示，要让社区工作者把更多时间用在服务居民上。"]
    assert page_spam_verdict("多地为社区工作者减负", story).spam is False
    verdict = page_spam_verdict("多地为社区工作者减负", story, head_title="午夜福利_一区二区_无码av在线观看_成人影院")
    assert verdict.spam and verdict.reason == "porn/gambling keyword header"


def test_a_spam_word_split_by_spaces_or_dashes_is_still_matched():
    from consumers.analysis.junk import is_spam_line
    from consumers.analysis.spam_signals import fold
    assert fold("代-开-发-票 正-规-可-查").startswith("代开发票正规可查")
    assert is_spam_line("博 彩 平 台 真 人 百 家 乐 注 册 送 彩 金 www.bc8888.com")
    # the same line injected into a story (with more prose than spam) is masked, the story is not spam
    more = "保留的工作群实行“群主负责制”，由建群单位明确群规和存续期限，事毕群散，不得用工作群代替现场工作。"
    page = [NEWS[0], "博 彩 平 台 真 人 百 家 乐 注 册 送 彩 金 www.bc8888.com", NEWS[1], more]
    assert page_spam_verdict("思明区清理工作群", page).spam is False


def test_a_crackdown_report_quoting_adverts_is_not_spam():
    report = ["本报讯（记者 周婷）日前，醴陵市公安局打掉一个以“网贷口子”为名实施“套路贷”的犯罪团伙，抓获犯罪嫌疑人12名。",
              "该团伙在网上发布“不看征信”“黑户秒下款”“当天放款”等广告，诱骗急需用钱的群众借款，受害群众达300余人。",
              "民警提醒，切勿轻信网上“无视黑白户”的借款广告。"]
    assert page_spam_verdict("醴陵打掉一个非法网贷团伙", report).spam is False
    # the advert itself, unquoted and unreported, is spam
    advert = ["急用钱？不看征信，黑户秒下款，当天放款，无视黑白户。", "额度最高20万，客服微信dk5599。"]
    assert page_spam_verdict(None, advert).spam


def test_an_advert_with_contact_hooks_and_no_news_structure_is_spam():
    ad = ["【火爆招商】蜜果茶饮全国加盟 小投资大回报", "投资5万元开一家奶茶店，免费培训、免费选址，三个月回本！",
          "加盟热线：400-880-1234 招商经理微信：mg8888 立即咨询享优惠"]
    verdict = page_spam_verdict(None, ad)
    assert verdict.spam and verdict.reason.startswith("advert")
    # news giving a consultation phone number keeps its structure (本报讯, 记者, 介绍)
    news = ["本报讯（记者 钟华）于都县今年为860名创业者发放创业担保贷款2.3亿元，可免抵押申请，财政全额贴息。",
            "县人社局负责人介绍，有贷款需求的群众可到县就业创业服务中心咨询，咨询电话0797-6221234，免费办理。"]
    assert page_spam_verdict("于都县创业担保贷款助力返乡青年创业", news).spam is False


def test_keywords_glued_to_a_copied_headline_and_link_farms():
    story = ["今年以来，兰陵县对督查检查考核事项进行全面清理，全年计划事项由58项压减至34项。"]
    glued = "兰陵县督查检查考核事项压减四成 | Macau Online Casino | 博 彩 平 台"
    assert page_spam_verdict(None, [glued, *story]).reason == "porn/gambling keywords glued to a copied headline"
    assert page_spam_verdict(None, ["兰陵县督查检查考核事项压减四成", *story]).spam is False
    links = [f"{city}代开发票" for city in ["北京", "上海", "广州", "深圳", "杭州", "南京", "成都", "重庆"]]
    assert page_spam_verdict("友情链接", ["本站每日更新。"], anchors=links).spam
    assert page_spam_verdict("友情链接", ["本站每日更新。"], anchors=["首页", "新闻", "体育"] * 3).spam is False


def test_a_portal_sidebar_with_crackdown_headlines_is_not_a_link_farm():
    """A short real story on a portal page: 60 navigation links and a related-news sidebar in which a
    few headlines report crack-downs on fake invoices, game cheats and loans (found as a false alarm
    when the benchmark wrapped real corpus stories in portal pages)."""
    nav = [f"栏目{i}" for i in range(60)]
    sidebar = ["阜阳税警联合破获虚开发票案 涉案金额超5亿元", "绵阳警方侦破一起制售游戏外挂案",
               "仪陇农商银行推出“整村授信” 农户贷款无抵押当天放款", "澳门上月博彩毛收入按年增一成",
               "市区新增三条公交线路", "全市秋粮收购进度过半"]
    story = ["本报讯 今年以来，鼓楼区对全区工作群进行清理，共解散各类工作群126个。",
             "区里明确，不得要求社区干部在群内“秒回”，不以群内发言次数论考核。"]
    assert page_spam_verdict("鼓楼区清理工作群126个", story, anchors=nav + sidebar).spam is False
    farm = [f"{city}代开发票" for city in ["北京", "上海", "广州", "深圳", "杭州", "南京", "成都", "重庆"]]
    assert page_spam_verdict("友情链接", ["本站每日更新。"], anchors=farm + nav[:16]).spam


MIRRORED = [
    "湖南日报讯（记者 邓丽）今年年初，隆回县对全县督查检查考核事项进行集中清理，将县级年度督查检查考核计划事项由52项压减至19项。",
    "据统计，今年1至5月，全县各乡镇接受的各类检查较去年同期减少61%。",
]


def test_a_copied_story_under_a_gambling_site_name_is_a_mirror():
    # the <title> names the site serving the page: a gambling brand, not the outlet
    title = "隆回县督查检查考核“瘦身” 乡镇迎检次数减少六成-澳门银河官方网站"
    verdict = page_spam_verdict(title, MIRRORED)
    assert verdict.spam and verdict.reason == "copied story under a spam site's name"
    # plain text: the first line is the title
    assert page_spam_verdict(None, ["平城区为社区“减负松绑” 社区工作者回归服务主业 - 开元棋牌官方网站", *MIRRORED]).spam
    # the outlet's own name there is not spam, nor is a gambling word inside the headline itself
    assert not page_spam_verdict("隆回县督查检查考核“瘦身” 乡镇迎检次数减少六成-邵阳新闻在线", MIRRORED).spam
    assert not page_spam_verdict("澳门银河等六家博彩企业公布第三季度业绩 - 澳门日报", MIRRORED).spam


def test_a_keyword_header_line_alone_over_a_real_story_is_still_kept():
    # seed 003's shape: an injected keyword line, no headline glued to it
    header = "国产高潮视频在线观看,国产无套乱子伦精彩是白视频,国产国产人免费人成免费视频"
    assert page_spam_verdict(None, [header, "厦门同安区：精简微信工作群 为基层干部减负", *MIRRORED]).spam is False


def test_a_report_on_a_surrogacy_ring_is_news_and_an_advert_for_one_is_spam():
    report = ["佛山日报讯（记者 陈嘉）近日，佛山市卫生健康局联合市公安局，成功打掉一个非法组织代孕的中介团伙，抓获犯罪嫌疑人14名。",
              "该团伙每单收取40万元至70万元不等的费用，同时在网上招募年轻女性“捐卵”和“代怀”，租用民房作为代孕妇女集中居住点。",
              "有关负责人表示，我国明令禁止任何形式的代孕，买卖配子、合子、胚胎也属违法行为。"]
    assert page_spam_verdict("佛山打掉一个非法代孕中介团伙 涉案金额2000余万元", report).spam is False
    advert = ["私人供精｜精子库排队太久怎么办？", "供精者均为硕士博士，试管冻精邮寄，代怀一条龙，包生男孩方案请私聊。",
              "价格透明：普通供精8000元/次，包成功套餐3.8万元。", "联系微信：gongjing_demo01，非诚勿扰，资料保密。"]
    assert page_spam_verdict(None, advert).spam is True


def test_an_official_notice_with_a_web_address_is_not_an_advert():
    notice = ["关于开展2025年度志愿服务项目申报工作的通知",
              "各有关单位：为做好志愿服务项目申报工作，请于规定时间内登录 https://www.example.gov.cn 在线申请，"
              "免费提供申报指导，咨询电话 0591-87000000。", "特此通知。"]
    assert page_spam_verdict(notice[0], notice[1:]).spam is False
    # a mobile number or a WeChat account, one sales word and no structure of news: an advert
    advert = ["私家侦探 婚外情取证", "专业调查取证，全程保密，联系微信 zhentan_demo88 或 138-0000-1234。"]
    assert page_spam_verdict(advert[0], advert[1:]).spam is True
