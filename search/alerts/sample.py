"""The sample campaign `newsmon alerts test` sends: a real story (辽宁日报 on 铁岭, seed 000), shaped
exactly like a stored campaign, so the test e-mail looks like the ones subscribers will get."""

from __future__ import annotations

from typing import Any

from newsmon.schemas import MEASURE_LABELS_ZH


def sample_campaign() -> dict[str, Any]:
    measures = ["work_groups", "gov_apps", "public_accounts"]
    story = {"id": "sample-tieling-1", "title": "集中清理规范微信工作群、政务APP 铁岭从“指尖”入手为基层干部减负",
             "url": "https://epaper.lnd.com.cn/", "outlet": "辽宁日报", "published_at": "2018-11-14T00:00:00+08:00"}
    return {
        "id": "sample", "scope": "region",
        "regions": [{"province": "辽宁省", "city": "铁岭市", "county": None, "adcode": "211200",
                     "location": {"lat": 42.29, "lon": 123.84}}],
        "region_codes": ["210000", "211200"], "region_name": "辽宁省铁岭市",
        "measures": measures, "measure_labels": [MEASURE_LABELS_ZH[m] for m in measures],
        "policy_documents": ["关于开展清理规范使用政务APP、微信工作群的通知"],
        "title": story["title"],
        "summary": "针对过多、过滥的微信工作群、政务APP给基层干部的工作和生活带来不必要负担的问题,"
                   "铁岭市自9月开始清理规范微信工作群、政务APP。",
        "first_seen": story["published_at"], "last_seen": story["published_at"],
        "story_count": 1, "stories": [story["id"]], "outlets": ["辽宁日报"], "outlet_count": 1,
        "story_details": [story], "status": "active",
        "best_figures": [
            {"what": "取消、合并微信工作群", "value": 746, "unit": "个", "text": "共取消、合并不必要的微信工作群746个",
             "measure": "work_groups", "story_id": story["id"]},
            {"what": "微信工作群减少比例", "value": 27.5, "unit": "%", "text": "减少27.5%", "measure": "work_groups",
             "story_id": story["id"]},
            {"what": "清理不规范微信公众号", "value": 31, "unit": "个", "text": "清理不规范微信公众号31个",
             "measure": "public_accounts", "story_id": story["id"]},
        ],
    }
