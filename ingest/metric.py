"""What a figure in running text counts: its metric phrase (33个项目 → 项目; 签约用户数量已达10.29万户 → 签约用户数量).

Owns: reading the words a figure is attached to — the noun after its measure word, else the words before it in its
clause without the subject's names, verbs, a point-in-time date or what a reference says (该项目) — and the verb
lexicon those rules strip. Does not own: whose figure it is or when (``ingest.facts``), numerals and units
(``kb.quantity``), names (``kb.entities``).
"""

from __future__ import annotations

import re
from dataclasses import replace

from kb import dates
from kb.entities import named, pilots_only
from kb.quantity import COUNTERS, Quantity, quantities, unit_end

_CLAUSE = re.compile(r"[，；;。：:（()）\n]|,(?!\d{3})")  # 1,234.5: a thousands separator parts no clause
# the verbs between what is counted and its figure (签约用户数量已达10.29万户), stripped from a metric's end …
_LINKING = "已经|已|共计|累计|共|合计|总计|达到|达|为|有|是|约|超过|突破|接近|将近|近|逾|计|实现"
_TAIL_VERBS = re.compile(rf"(?:{_LINKING})+$")
# … and those, with the actions a figure counts, stripped from its start (共计布放“刷脸付”受理终端 → 刷脸付受理终端)
_VERBS = re.compile(rf"^(?:{_LINKING}|已达|完成|发放|布放|发行|推送|服务|提供|上线|投放)+")
# … and what a metric's start says of its subject or time, not of what is counted (全市累计开立…, 去年累计办理…)
_LEAD = re.compile(
    r"^(?:其中|此外|同时|另外|截至目前|目前|如|例如|[我本全][省市区县]|去年|今年|上年|当年|全年|该|本|此|这"
    r"|前?[一二三四]季度|[上下]半年)+"
)
_NOUN_AFTER = re.compile(r"[\u4e00-\u9fff“”\"A-Za-z]{1,10}")
# where the noun after a measure word ends: a particle, an adverb or a verb (33项金融科技试点项目已全部上线)
_NOUN_END = re.compile(
    r"[的和与及等已均都将正在为是达由被从于共]|全部|累计|建立|开展|实现|提升|推动|完成|上线|涉及|分析|发放|提供|办理"
    r"|分?[一二两三四五六七八九十]+[个家批项次期]"  # 六家机构分两批发放…: the noun ends before the next count
)
# what follows a measure word that is no noun it counts (3.94万户增加0.82万户, 30人以上, 5家其中)
_NOT_COUNTED = ("以", "左右", "增加", "增长", "减少", "下降", "提高", "较", "比", "同比", "环比", "占", "其中")
_WITHIN = re.compile(
    r"(?:当中|之中|中|里|内)(?:有|共有)?$|之一$"
)  # 试点项目中有21个; 十二个项目之一  # 试点项目中有21个: the metric is 试点项目
# what a second figure of the same thing is called with no noun of its own (…1,234.5万笔、金额56.78亿元)
_BARE_MEASURE = re.compile(r"金额|笔数|户数|交易额")  # (新增贷款5亿元、余额35亿元: a balance is no 新增's)
# to whom an action went (向企业和个人发放, 为小微企业办理): the metric is the action and what it moved, not who got it
_DIRECTED = re.compile(
    r"(?:向|给|对(?![外公内])|(?<![作成因认])为)(?:[^，,。；;]|(?<=\d),(?=\d{3})){1,24}?"  # (1,204家: one figure)
    r"(发放|提供|办理|发行|投放|兑付|拨付|支付|缴纳|结算)"
)
MAX_METRIC = 16
_COUNTED_PILOTS = re.compile(r"(.*?项目)[共有为达计]*")  # 在推的试点项目共: what a count of projects counts
_PERIOD_YEAR = re.compile(r"^\s*(?:19|20)\d{2}年(?=\d{1,2}\s*[-—–~～至到月])")
# what a reference names instead of a name (该项目, 本行): the subject before, the heading
REFERS = re.compile(r"(?:该|本|此|这一?|这个|上述)(?:方向|项目|行|机构|单位|平台|领域|地区|市|省|应用|产品|业务)")


def metric_of(sentence: str, q: Quantity, stop: int) -> str:
    """What the figure counts: the noun right after a measure word (33个项目 → 项目), else the words before the
    figure in its clause, without the subject's verbs (签约用户数量已达10.29万户 → 签约用户数量)."""
    unit = sentence[q.end : stop]
    if unit and unit[-1] in COUNTERS:
        after = _NOUN_AFTER.match(sentence, stop)
        noun = _NOUN_END.split(after.group(0))[0] if after else ""
        if noun and not noun.startswith(_NOT_COUNTED):
            return tidy(_WITHIN.sub("", noun))  # 三十四个项目中，31个…: 项目
    clause_start = max((m.end() for m in _CLAUSE.finditer(sentence, 0, q.start)), default=0)
    before = clause = sentence[clause_start : q.start]
    in_dates = [(m.start, m.end) for m in dates.mentions(before, dates.ANY_YEAR)]  # 2025年1-9月 counts no years
    earlier = [x for x in quantities(before) if unit_end(before, x.end) > x.end
               and not any(a <= x.start < b for a, b in in_dates)]  # fmt: skip
    if earlier:  # 6家银行累计发行电子社保卡53.87万张: what follows the earlier figure
        before = before[unit_end(before, earlier[-1].end) :]
    before = REFERS.sub("", before)
    for m in reversed(dates.mentions(before, dates.ANY_YEAR)):  # 截至3月末累计…: a point in time is no metric
        if m.as_of or m.text.endswith(("末", "底")):  # (1-6月累计, 12月新增: a period's flow keeps its period)
            before = before[m.end :]
        break
    before = _PERIOD_YEAR.sub("", before)  # 2025年1-9月结算金额: the year is the fact's date's, the months its metric's
    for n in named(before):
        before = before.replace(n.name, " ")
    before = before.split(" ")[-1]
    counted = _COUNTED_PILOTS.fullmatch(before)
    if counted and pilots_only(counted.group(1)) and unit[-1:] in "个项":  # 纳入试点的项目共17个: 试点项目
        return "试点项目" if "试点" in counted.group(1) else "项目"
    directed = _DIRECTED.search(before)  # 向企业和个人发放各类补贴860.5万元: 发放各类补贴
    recipients = _DIRECTED.search(clause)  # 为1,204家企业发放贷款42.18亿元: the figure counted those lent to
    if recipients and earlier and recipients.start() < earlier[-1].start < recipients.start(1):
        before = clause[recipients.start(1) :]
    elif directed:
        before = before[directed.start(1) :]
    before = _TAIL_VERBS.sub("", _LEAD.sub("", before.strip()))
    before = tidy(_WITHIN.sub("", _VERBS.sub("", before)[-MAX_METRIC:]))
    if earlier and _BARE_MEASURE.fullmatch(before):  # 交易1,234.5万笔、金额56.78亿元: 交易金额
        x = earlier[-1]
        shifted = replace(x, start=clause_start + x.start, end=clause_start + x.end)
        return metric_of(sentence, shifted, unit_end(sentence, shifted.end)) + before
    return before


def tidy(text: str) -> str:
    return text.replace("“", "").replace("”", "").replace('"', "").strip(" 的了、")
